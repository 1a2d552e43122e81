using System.Text.Json;
using OxiVec.Wal;

namespace OxiVec.Hosting.Cluster;

/// <summary>What a data directory holds, read offline (no process has it open): nothing, a primary's database or a standby's.</summary>
internal enum DataDirectoryKind
{
    /// <summary>Missing or empty: a new member (it takes a base backup, or creates a database when it leads).</summary>
    Empty,

    /// <summary>A primary's database (no standby marker).</summary>
    Primary,

    /// <summary>A standby's (its marker, <c>replication/standby.json</c>, exists: StandbyPromotion's commit point).</summary>
    Standby,
}

/// <summary>Reads a closed data directory's kind and log position.</summary>
internal static class LocalData
{
    /// <summary>The directory's kind.</summary>
    public static DataDirectoryKind Of(string dataDirectory) =>
        !Directory.Exists(dataDirectory) || !Directory.EnumerateFileSystemEntries(dataDirectory).Any() ? DataDirectoryKind.Empty
        : File.Exists(Path.Combine(dataDirectory, "replication", "standby.json")) ? DataDirectoryKind.Standby
        : DataDirectoryKind.Primary;

    /// <summary>
    /// The highest epoch the closed directory has seen (its replication files) and its WAL's last valid LSN: the
    /// position a member that holds no role publishes, so that elections compare logs.
    /// </summary>
    public static (long Epoch, long LastLsn) Position(string dataDirectory)
    {
        string wal = Path.Combine(dataDirectory, "wal");
        long last = Directory.Exists(wal) ? new WalReader(wal).Verify().Segments.Select(s => s.LastLsn).DefaultIfEmpty(0).Max() : 0;
        long epoch = 0;
        foreach (string file in new[] { "epoch.json", "standby.json" })
        {
            epoch = Math.Max(epoch, ReadEpoch(Path.Combine(dataDirectory, "replication", file)));
        }

        return (epoch, last);
    }

    private static long ReadEpoch(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(path));
        return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("Epoch", out JsonElement epoch) && epoch.TryGetInt64(out long value) ? value : 0;
    }
}

using System.Text.Json;
using OxiVec.Internal;
using OxiVec.Wal;

namespace OxiVec.Replication;

/// <summary>
/// Replication state in a data directory, under <c>replication/</c>: a primary's epoch (<c>epoch.json</c>) and
/// slots (<c>slots.json</c>), a standby's highest seen epoch (<c>standby.json</c>, whose presence marks the
/// directory as a standby's). Each is written whole or not at all (temporary file, fsync, rename, directory fsync).
/// </summary>
internal static class ReplicationFiles
{
    public const string DirectoryName = "replication";
    public const string EpochFile = "epoch.json";
    public const string SlotsFile = "slots.json";
    public const string StandbyFile = "standby.json";
    public const string HistoryFile = "history.json";

    public static string PathOf(string dataDirectory, string file) => Path.Combine(dataDirectory, DirectoryName, file);

    public static long? ReadEpoch(string dataDirectory, string file) =>
        Read(PathOf(dataDirectory, file), ReplicationJsonContext.Default.EpochState)?.Epoch;

    public static void WriteEpoch(string dataDirectory, string file, long epoch) => Write(dataDirectory, file, JsonSerializer.SerializeToUtf8Bytes(new EpochState(epoch), ReplicationJsonContext.Default.EpochState));

    public static IReadOnlyList<Slot> ReadSlots(string dataDirectory) => Read(PathOf(dataDirectory, SlotsFile), ReplicationJsonContext.Default.SlotsState)?.Slots ?? [];

    public static void WriteSlots(string dataDirectory, IReadOnlyList<Slot> slots) => Write(dataDirectory, SlotsFile, JsonSerializer.SerializeToUtf8Bytes(new SlotsState([.. slots]), ReplicationJsonContext.Default.SlotsState));

    /// <summary>The epoch history (oldest first; empty when there is none).</summary>
    public static IReadOnlyList<EpochHistoryEntry> ReadHistory(string dataDirectory)
    {
        string path = PathOf(dataDirectory, HistoryFile);
        List<EpochHistoryEntry> entries = Read(path, ReplicationJsonContext.Default.EpochHistoryState)?.Entries ?? [];
        for (int i = 1; i < entries.Count; i++)
        {
            if (entries[i].Epoch <= entries[i - 1].Epoch || entries[i].StartLsn < entries[i - 1].StartLsn)
            {
                throw new InvalidDataException(
                    $"Replication state file '{path}' is damaged: entry {i} (epoch {entries[i].Epoch}, start LSN {entries[i].StartLsn}) does not follow entry {i - 1} (epoch {entries[i - 1].Epoch}, start LSN {entries[i - 1].StartLsn}).");
            }
        }

        return entries;
    }

    /// <summary>Writes the epoch history whole (temporary file, fsync, rename, directory fsync).</summary>
    public static void WriteHistory(string dataDirectory, IReadOnlyList<EpochHistoryEntry> entries) =>
        Write(dataDirectory, HistoryFile, JsonSerializer.SerializeToUtf8Bytes(new EpochHistoryState([.. entries]), ReplicationJsonContext.Default.EpochHistoryState));

    /// <summary>Deletes <paramref name="file"/> when present, then fsyncs the directory (the deletion survives a power loss).</summary>
    public static void Delete(string dataDirectory, string file)
    {
        string path = PathOf(dataDirectory, file);
        if (File.Exists(path))
        {
            File.Delete(path);
            DurableFiles.SyncDirectory(Path.GetDirectoryName(path)!);
        }
    }

    /// <summary>The oldest LSN the persisted slots of <paramref name="dataDirectory"/> keep, or null (offline cleanup respects it).</summary>
    public static long? SlotsRetainFrom(string dataDirectory)
    {
        long[] keep = [.. ReadSlots(dataDirectory).Where(s => s.RetainFromLsn > 0).Select(s => Math.Max(1, s.RetainFromLsn - 1))];
        return keep.Length == 0 ? null : keep.Min();
    }

    private static T? Read<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), type) ?? throw new InvalidDataException("it holds null");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Replication state file '{path}' is damaged: {ex.Message}", ex);
        }
    }

    private static void Write(string dataDirectory, string file, byte[] bytes)
    {
        string directory = Path.Combine(dataDirectory, DirectoryName);
        DurableFiles.CreateDirectoryDurably(directory);
        DurableFiles.WriteAtomically(Path.Combine(directory, file), stream => stream.Write(bytes));
    }
}

/// <summary>A persisted slot: the standby's name and the oldest LSN it still needs (0 once invalidated).</summary>
internal sealed record Slot(string Name, long RetainFromLsn);

/// <summary>An epoch file's content.</summary>
internal sealed record EpochState(long Epoch);

/// <summary>The slots file's content.</summary>
internal sealed record SlotsState(List<Slot> Slots);

/// <summary>
/// One entry of a primary's epoch history (like a PostgreSQL timeline history file): from <see cref="StartLsn"/> on,
/// this log's records were written under <see cref="Epoch"/> (or later ones).
/// </summary>
/// <param name="Epoch">The epoch.</param>
/// <param name="StartLsn">The first LSN written under it (the log's last LSN + 1 when the epoch began).</param>
internal sealed record EpochHistoryEntry(long Epoch, long StartLsn);

/// <summary>The history file's content.</summary>
internal sealed record EpochHistoryState(List<EpochHistoryEntry> Entries);

/// <summary>Source-generated JSON for the replication state files (trimming and AOT safe).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(EpochState))]
[System.Text.Json.Serialization.JsonSerializable(typeof(SlotsState))]
[System.Text.Json.Serialization.JsonSerializable(typeof(EpochHistoryState))]
internal sealed partial class ReplicationJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>The digest of a record that a standby sends in its hello, so the primary can tell a diverged log.</summary>
internal static class RecordDigest
{
    /// <summary>Two CRC-32C of the record's LSN, timestamp, type, flags and payload, with different seeds; never 0.</summary>
    public static ulong Of(WalRecord record)
    {
        Span<byte> head = stackalloc byte[18];
        BitConverter.TryWriteBytes(head, record.Lsn);
        BitConverter.TryWriteBytes(head[8..], WalRecord.ToMicros(record.Timestamp));
        head[16] = (byte)record.Type;
        head[17] = (byte)record.Flags;
        uint low = WalFormat.Crc32C(WalFormat.Crc32C(0x9E3779B9, head), record.Payload.Span);
        uint high = WalFormat.Crc32C(WalFormat.Crc32C(0x7F4A7C15, head), record.Payload.Span);
        ulong digest = ((ulong)high << 32) | low;
        return digest == 0 ? 1 : digest;
    }
}

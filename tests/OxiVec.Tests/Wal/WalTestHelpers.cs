using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

internal static class WalTestHelpers
{
    /// <summary>A small-segment, fsync-per-commit configuration for tests.</summary>
    public static WalConfig Config(string dir, bool preallocate = true, long segmentSize = 64 << 10) => new()
    {
        WalDir = dir,
        SyncIntervalMs = 0,
        SegmentSizeBytes = segmentSize,
        MaxWalSize = 16 << 20,
        PreallocateSegments = preallocate,
    };

    public static float[] VectorFor(long n, int dimension = 8) =>
        Enumerable.Range(0, dimension).Select(i => (float)(n * 31 + i)).ToArray();

    public static WalEntry.Insert InsertFor(long n, int dimension = 8) =>
        new("docs", $"v{n}", VectorFor(n, dimension), System.Text.Encoding.UTF8.GetBytes($"{{\"n\":{n}}}"));

    /// <summary>Appends inserts v1..vN to a new WAL in <paramref name="dir"/> and returns every record as read back.</summary>
    public static List<WalRecord> WriteInserts(WalConfig config, int count, int dimension = 8)
    {
        using var wal = WalManager.Open(config);
        for (int n = 1; n <= count; n++)
        {
            wal.Append(InsertFor(n, dimension));
        }

        return [.. wal.ReadRecords()];
    }

    /// <summary>
    /// Rewrites the WAL control file as a crash leaves it when it came after <paramref name="record"/> was recorded as
    /// durable but before any later write was: the records after it are past the known-durable point (a torn write
    /// there is a normal end of the log).
    /// </summary>
    public static void SetKnownDurableThrough(string dir, WalRecord record) =>
        SetKnownDurableThrough(new FileSystemWalStorage(dir), record.SegmentFile, record.Offset + WalFormat.RecordSize(record.Payload.Length), record.Lsn);

    /// <summary>As above: records up to <paramref name="lsn"/>, ending at <paramref name="end"/> of <paramref name="segmentFile"/>, are the known-durable ones.</summary>
    internal static void SetKnownDurableThrough(IWalStorage storage, string segmentFile, long end, long lsn)
    {
        Assert.True(WalSegmentName.TryParse(segmentFile, out ulong segment, out _));
        WalControlFile.OpenAndWrite(storage, new WalControlState(new WalDurablePoint(segment, end, lsn), SyncFailed: false)).Dispose();
    }

    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        }
    }

    public static void FlipBit(string path, long offset, int bit)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        int value = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(value ^ (1 << bit)));
    }

    public static void AssertInsert(WalEntry entry, long n)
    {
        var insert = Assert.IsType<WalEntry.Insert>(entry);
        Assert.Equal($"v{n}", insert.Id);
        Assert.Equal(VectorFor(n, insert.Vector.Length), insert.Vector.ToArray());
    }

    /// <summary>This thread's minor page faults so far (Linux: field 10 of /proc/thread-self/stat).</summary>
    public static long ThreadMinorFaults()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture);
    }
}

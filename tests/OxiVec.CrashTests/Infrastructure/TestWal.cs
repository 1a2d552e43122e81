using OxiVec.Wal;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>Builds small, known WALs for the CLI tests (in-process, closed before the CLI reads them).</summary>
public static class TestWal
{
    /// <summary>Small segments, so a few thousand records span several of them.</summary>
    public const long SegmentSize = WalConfig.MinSegmentSizeBytes;

    /// <summary>
    /// Writes <paramref name="inserts"/> inserts with a transaction (insert, update, delete) after every 100 of them,
    /// then a checkpoint and a custom entry. Returns the last LSN.
    /// </summary>
    public static long Create(string walDir, int inserts = 1500)
    {
        using WalManager wal = WalManager.Open(new WalConfig { WalDir = walDir, SyncIntervalMs = 0, SegmentSizeBytes = SegmentSize });
        for (int i = 1; i <= inserts; i++)
        {
            wal.LogInsert("docs", $"doc-{i}", new float[] { i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7 }, new byte[] { (byte)i });
            if (i % 100 == 0)
            {
                using WalTransaction tx = wal.BeginTransaction();
                tx.LogInsert("docs", $"tx-{i}", new float[] { 1, 2, 3 });
                tx.LogUpdate("docs", $"doc-{i}", new float[] { 4, 5, 6 });
                tx.LogDelete("docs", $"doc-{i - 1}");
                tx.Commit();
            }
        }

        long covered = wal.LastLsn;
        wal.Append(new WalEntry.Checkpoint(1, covered));
        return wal.LogEntry("reindex", "docs"u8.ToArray());
    }

    /// <summary>The segment files, in log order.</summary>
    public static string[] Segments(string walDir) =>
        [.. Directory.GetFiles(walDir, "*.wal").Order(StringComparer.Ordinal)];

    /// <summary>
    /// Flips one payload byte of the middle record of the first segment (a sealed, non-last one). Returns the
    /// segment's file name and the offset of the damaged record, where verification must report the damage.
    /// </summary>
    public static (string Segment, long RecordOffset) FlipByteInFirstSegment(string walDir)
    {
        string first = Path.GetFileName(Segments(walDir)[0]);
        WalRecord[] records = [.. new WalReader(walDir).ReadRecords().Where(r => r.SegmentFile == first)];
        WalRecord victim = records[records.Length / 2];
        using var file = new FileStream(Path.Combine(walDir, first), FileMode.Open, FileAccess.ReadWrite);
        long position = victim.Offset + 32 + (victim.Payload.Length / 2); // inside the payload, after the 32-byte record header
        file.Position = position;
        int value = file.ReadByte();
        file.Position = position;
        file.WriteByte((byte)(value ^ 0x5A));
        return (first, victim.Offset);
    }
}

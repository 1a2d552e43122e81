using System.Diagnostics;
using OxiVec.Wal;

namespace OxiVec.Benchmarks.Macro;

/// <summary>
/// The WAL's sequential write bandwidth, measured like the disk's (<see cref="DiskProbe.SequentialWrite"/>): a fresh
/// WAL (SyncIntervalMs = 1000, default 64 MiB segments) takes transactions of 1,000 of the dataset's inserts from one
/// writer until it holds the same number of bytes, then <see cref="WalManager.Sync"/>; MB/s of WAL over the whole,
/// the final fsync included. Encoding, checksums, segment rotation and seals are all in the time.
/// </summary>
internal static class WalSequentialProbe
{
    /// <summary>Inserts per transaction: about 600 KB of WAL each, comparable to the disk probe's 1 MiB writes.</summary>
    public const int TransactionSize = 1_000;

    public static ProbeRun Run(string workRoot, long totalBytes, Dataset data)
    {
        string dir = Path.Combine(workRoot, "wal-sequential-" + Guid.NewGuid().ToString("N")[..8]);
        string[] ids = [.. Enumerable.Range(0, TransactionSize).Select(i => Dataset.Id(0, i))];

        try
        {
            using var wal = WalManager.Open(new WalConfig { WalDir = dir, SyncIntervalMs = 1_000, MaxWalSize = Math.Max(WalConfig.Default.MaxWalSize, 4 * totalBytes) });
            long start = Stopwatch.GetTimestamp();
            long before = wal.GetMetrics().BytesWritten;
            while (wal.GetMetrics().BytesWritten - before < totalBytes)
            {
                using WalTransaction tx = wal.BeginTransaction();
                for (int i = 0; i < ids.Length; i++)
                {
                    tx.LogInsert(Dataset.Collection, ids[i], data.Vector(i), data.Metadata(i));
                }

                tx.Commit();
            }

            wal.Sync();
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            long bytes = wal.GetMetrics().BytesWritten - before;
            return new ProbeRun(bytes / 1e6 / seconds, bytes, seconds, null);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

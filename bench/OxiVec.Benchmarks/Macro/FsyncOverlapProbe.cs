using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace OxiVec.Benchmarks.Macro;

/// <summary>
/// <c>wal --group-commit --fsync-overlap</c>: whether fdatasyncs in flight together complete more of them per second
/// than one at a time, on the WAL's write pattern (a sequential log). Would group commit gain from starting a batch's
/// fsync while an earlier one runs? Each of <c>syncers</c> threads appends <see cref="BatchBytes"/> (a 32-commit
/// batch) at the log's end under one lock, then fdatasyncs the file through a descriptor of its own (separate
/// descriptors: Linux reports a writeback error once per open file description, so a WAL overlapping fsyncs would
/// need one per fsync in flight). The file is first filled with zeros and fdatasynced, as the WAL's spare segments
/// are, so the fsyncs carry no file-system metadata.
/// </summary>
internal static class FsyncOverlapProbe
{
    /// <summary>Bytes each syncer appends before its fdatasync: about one 32-commit batch of the group-commit cells.</summary>
    public const int BatchBytes = 3200;

    /// <summary>The syncer counts probed, in this order within a round.</summary>
    public static readonly int[] SyncerCounts = [1, 2, 3];

    private const long FileBytes = 16L << 20;

    /// <summary>One probe: completed fdatasyncs per second and their average duration.</summary>
    public sealed record Run(int Syncers, double SyncsPerSecond, double AvgSyncMicros);

    /// <summary>Runs one probe with <paramref name="syncers"/> threads for <paramref name="duration"/> in <paramref name="dir"/>.</summary>
    public static Run Measure(string dir, int syncers, TimeSpan duration)
    {
        string path = Path.Combine(dir, "fsync-overlap.probe");
        var handles = new List<SafeFileHandle>();
        try
        {
            using (SafeFileHandle fill = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                byte[] zeros = new byte[1 << 20];
                for (long offset = 0; offset < FileBytes; offset += zeros.Length)
                {
                    RandomAccess.Write(fill, zeros, offset);
                }

                Native.DataSync(fill);
            }

            for (int i = 0; i < syncers; i++)
            {
                handles.Add(File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite));
            }

            byte[] batch = new byte[BatchBytes];
            new Random(3).NextBytes(batch);
            var gate = new Lock();
            long end = 0, syncs = 0, syncTicks = 0;
            long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            long started = Stopwatch.GetTimestamp();
            Thread[] threads = [.. handles.Select(handle => new Thread(() =>
            {
                while (Stopwatch.GetTimestamp() < deadline)
                {
                    lock (gate)
                    {
                        RandomAccess.Write(handle, batch, end);
                        end = end + (2 * BatchBytes) > FileBytes ? 0 : end + BatchBytes;
                    }

                    long start = Stopwatch.GetTimestamp();
                    Native.DataSync(handle);
                    Interlocked.Add(ref syncTicks, Stopwatch.GetTimestamp() - start);
                    Interlocked.Increment(ref syncs);
                }
            }))];
            foreach (Thread t in threads)
            {
                t.Start();
            }

            foreach (Thread t in threads)
            {
                t.Join();
            }

            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return new Run(syncers, syncs / seconds, syncs == 0 ? 0 : syncTicks * 1e6 / Stopwatch.Frequency / syncs);
        }
        finally
        {
            foreach (SafeFileHandle handle in handles)
            {
                handle.Dispose();
            }

            File.Delete(path);
        }
    }

    /// <summary>The report's section: medians over the rounds, and each syncer count against one syncer of the same round.</summary>
    public static string Section(IReadOnlyList<IReadOnlyList<Run>> rounds)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("### Overlapping fsyncs on a sequential log (`--fsync-overlap`)\n\n");
        sb.Append(inv, $"Each round, before its cells: 1, 2 and 3 threads (1 s each), each appending {BatchBytes:N0} bytes (one 32-commit batch) at the end of one zero-filled, fdatasynced file under one lock and then fdatasyncing it through a descriptor of its own. *× one syncer* pairs each count with the 1-syncer probe of the same round (median over the rounds). Above 1× fsyncs in flight together overlap on this disk; group commit runs one at a time.\n\n");
        sb.Append("| Syncers | fdatasync/s | × one syncer | Avg fdatasync | Per round (fdatasync/s) |\n|---:|---:|---:|---:|---|\n");
        foreach (int syncers in SyncerCounts)
        {
            List<Run> runs = [.. rounds.Select(r => r.First(x => x.Syncers == syncers))];
            List<double> ratios = [.. rounds.Select(r => r.First(x => x.Syncers == syncers).SyncsPerSecond / Math.Max(1e-9, r.First(x => x.Syncers == 1).SyncsPerSecond))];
            sb.Append(inv, $"| {syncers} | {Median(runs.Select(x => x.SyncsPerSecond)):N0} | {Median(ratios):0.00}× | {Median(runs.Select(x => x.AvgSyncMicros)):N0} µs | {string.Join(", ", runs.Select(x => x.SyncsPerSecond.ToString("N0", inv)))} |\n");
        }

        return sb.Append('\n').ToString();
    }

    private static double Median(IEnumerable<double> values)
    {
        List<double> sorted = [.. values.Order()];
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

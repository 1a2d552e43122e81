using System.Diagnostics;
using OxiVec.Storage;

namespace OxiVec.Benchmarks.Scale;

/// <summary>One checkpoint taken while a writer inserted: the checkpoint's own figures and the writer's insert latencies.</summary>
/// <param name="CheckpointWallMs">Wall time of the <see cref="VectorDatabase.Checkpoint"/> call.</param>
/// <param name="During">Latencies (ms, ascending) of inserts whose call overlapped the checkpoint call.</param>
/// <param name="Outside">Latencies (ms, ascending) of the other inserts of the window (before and after it).</param>
/// <param name="Error">The checkpoint's exception message when it failed (then <paramref name="Info"/> is null).</param>
internal sealed record StallRound(CheckpointInfo? Info, double CheckpointWallMs, long RowsAtStart, double[] During, double[] Outside, string? Error)
{
    public double MaxDuringMs => During.Length == 0 ? double.NaN : During[^1];
}

/// <summary>
/// Runs one writer thread inserting single-record commits into a collection while the calling thread takes a
/// checkpoint with <see cref="VectorDatabase.Checkpoint"/>, and records every insert's start and end.
/// </summary>
internal static class CheckpointStallProbe
{
    /// <summary>
    /// The writer's ceiling, inserts per second: ahead of this schedule it sleeps 1 ms between inserts, so that a
    /// long checkpoint does not grow the store by millions of records (slower writers, such as HNSW's or one fsync
    /// per commit, never reach it). Each insert is still timed on its own.
    /// </summary>
    public const int MaxInsertsPerSecond = 20_000;

    /// <summary>
    /// Writer running for <paramref name="beforeSeconds"/>, then the checkpoint, then <paramref name="afterSeconds"/>
    /// more; ids are <paramref name="prefix"/> + a counter, vectors cycle through <paramref name="pool"/>.
    /// </summary>
    public static StallRound Run(VectorDatabase db, string collection, float[][] pool, string prefix, double beforeSeconds, double afterSeconds)
    {
        var starts = new List<long>(1 << 16);
        var ends = new List<long>(1 << 16);
        int stop = 0;
        Exception? writerError = null;
        var writer = new Thread(() =>
        {
            try
            {
                long i = 0;
                long origin = Stopwatch.GetTimestamp();
                double ticksPerInsert = Stopwatch.Frequency / (double)MaxInsertsPerSecond;
                while (Volatile.Read(ref stop) == 0)
                {
                    if (Stopwatch.GetTimestamp() < origin + (long)(i * ticksPerInsert))
                    {
                        Thread.Sleep(1);
                        continue;
                    }

                    long t0 = Stopwatch.GetTimestamp();
                    _ = db.Insert(collection, ScaleCommon.Id(prefix, i), pool[i % pool.Length]);
                    long t1 = Stopwatch.GetTimestamp();
                    starts.Add(t0);
                    ends.Add(t1);
                    i++;
                }
            }
#pragma warning disable CA1031 // Reported after the join.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                writerError = ex;
            }
        })
        { Name = "stall-writer" };

        writer.Start();
        // Window lengths, not synchronisation: the writer runs freely before and after the checkpoint.
        Thread.Sleep(TimeSpan.FromSeconds(beforeSeconds));
        long rows = db.Count(collection);
        CheckpointInfo? info = null;
        string? error = null;
        long c0 = Stopwatch.GetTimestamp();
        try
        {
            info = db.Checkpoint();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OutOfMemoryException or ArgumentException or NotSupportedException)
        {
            error = $"{ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}";
        }

        long c1 = Stopwatch.GetTimestamp();
        Thread.Sleep(TimeSpan.FromSeconds(afterSeconds));
        Volatile.Write(ref stop, 1);
        writer.Join();
        if (writerError is not null)
        {
            throw new InvalidOperationException("the writer failed during the stall probe: " + writerError.Message, writerError);
        }

        var during = new List<double>();
        var outside = new List<double>();
        for (int i = 0; i < starts.Count; i++)
        {
            double ms = ScaleCommon.Ms(ends[i] - starts[i]);
            (ends[i] > c0 && starts[i] < c1 ? during : outside).Add(ms);
        }

        during.Sort();
        outside.Sort();
        return new StallRound(info, ScaleCommon.Ms(c1 - c0), rows, [.. during], [.. outside], error);
    }
}

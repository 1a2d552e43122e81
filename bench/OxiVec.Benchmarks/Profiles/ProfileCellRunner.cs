using System.Collections.Concurrent;
using System.Diagnostics;
using OxiVec.Benchmarks.Macro;
using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.Benchmarks.Profiles;

/// <summary>
/// Runs one cell once: a dataset ingested one record per call by 1 or more writer threads (writer <c>w</c> of
/// <c>n</c> inserts ids <c>w, w + n, w + 2n, …</c>), either through <see cref="VectorDatabase"/> with a profile's
/// <see cref="Wal.WalConfig"/> or through the WAL-off baseline, in a fresh directory under the work directory
/// that is deleted afterwards.
/// </summary>
internal sealed class ProfileCellRunner(string workDirectory)
{
    private const string CollectionName = "c";
    private static readonly IReadOnlyDictionary<string, MetadataValue> NoMetadata = new Dictionary<string, MetadataValue>();

    private int _cellNumber;

    /// <summary>Runs <paramref name="profile"/> with <paramref name="writers"/> writers over the first <paramref name="count"/> records.</summary>
    public CellRun Run(ProfileDataset data, Profile profile, int writers, int count, double budgetSeconds)
    {
        // Garbage of the previous cell (a whole collection and its index) is collected now, not during this one.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return profile.Wal is null ? RunBaseline(data, writers, count, budgetSeconds) : RunDatabase(data, profile, writers, count, budgetSeconds);
    }

    /// <summary>
    /// The store's in-memory apply path without the WAL: the database's vector validation
    /// (<see cref="VectorMath.Validate"/>, as in its <c>ResolveLocked</c>) and <see cref="Collection.Upsert"/>, under
    /// one lock, as the database serialises its applies. Id validation runs outside the lock, as in the database.
    /// </summary>
    private static CellRun RunBaseline(ProfileDataset data, int writers, int count, double budgetSeconds)
    {
        CollectionOptions options = data.CollectionOptions;
        using var collection = new Collection(CollectionName, options);
        var gate = new Lock();
        IReadOnlyList<string> ids = data.Ids;
        IReadOnlyList<float[]> vectors = data.Vectors;
        (int inserted, double seconds, bool timeBoxed, LatencySummary latency, double cpu) = Drive(writers, count, budgetSeconds, i =>
        {
            StoreNames.ValidateId(ids[i]);
            lock (gate)
            {
                _ = VectorMath.Validate(options.Metric, options.Dimension, vectors[i], "vector");
                collection.Upsert(ids[i], vectors[i], NoMetadata);
            }
        });

        if (collection.Count != inserted)
        {
            throw new InvalidOperationException($"the baseline holds {collection.Count} records, expected {inserted}");
        }

        return new CellRun(inserted, seconds, timeBoxed, 0, 0, latency, cpu);
    }

    private CellRun RunDatabase(ProfileDataset data, Profile profile, int writers, int count, double budgetSeconds)
    {
        string dir = Path.Combine(workDirectory, $"cell-{Interlocked.Increment(ref _cellNumber)}-{data.Name}-{profile.Name}-{writers}w");
        try
        {
            int inserted;
            double seconds;
            bool timeBoxed;
            LatencySummary latency;
            double cpu;
            double stall;
            long checkpoints;
            long fsyncs;
            using (VectorDatabase db = VectorDatabase.Open(dir, new VectorDatabaseOptions { Wal = profile.Wal! }))
            {
                db.CreateCollection(CollectionName, data.CollectionOptions);
                long fsyncsBefore = db.GetWalMetrics().SyncCount;
                IReadOnlyList<string> ids = data.Ids;
                IReadOnlyList<float[]> vectors = data.Vectors;
                (inserted, seconds, timeBoxed, latency, cpu) = Drive(writers, count, budgetSeconds, i => db.Insert(CollectionName, ids[i], vectors[i]));

                // Read before closing: closing waits for a checkpoint in flight, which the timed part did not.
                checkpoints = db.LastCheckpoint?.Sequence ?? 0;
                stall = db.LastCheckpoint?.WriteStallMs ?? 0;
                fsyncs = db.GetWalMetrics().SyncCount - fsyncsBefore;
                if (db.Count(CollectionName) != inserted)
                {
                    throw new InvalidOperationException($"the database holds {db.Count(CollectionName)} records, expected {inserted}");
                }
            }

            return new CellRun(inserted, seconds, timeBoxed, checkpoints, fsyncs, latency, cpu, stall);
        }
        finally
        {
            Store.BenchCommon.TryDelete(dir);
        }
    }

    /// <summary>
    /// Starts <paramref name="writers"/> threads, releases them together and times until the last one finishes.
    /// Each takes one timestamp per insert (its latency, and the budget check); all stop at the budget.
    /// </summary>
    private static (int Inserted, double Seconds, bool TimeBoxed, LatencySummary Latency, double CpuUsPerInsert) Drive(int writers, int count, double budgetSeconds, Action<int> insert)
    {
        var buffers = new LatencyBuffer[writers];
        var done = new int[writers];
        var failures = new ConcurrentQueue<Exception>();
        using var go = new ManualResetEventSlim(false);
        long deadline = 0;
        int timedOut = 0;
        var threads = new Thread[writers];
        for (int w = 0; w < writers; w++)
        {
            int writer = w;
            buffers[writer] = new LatencyBuffer((count / writers) + 1);
            threads[writer] = new Thread(() =>
            {
                LatencyBuffer latencies = buffers[writer];
                go.Wait();
                long end = Volatile.Read(ref deadline);
                long previous = Stopwatch.GetTimestamp();
                int n = 0;
                try
                {
                    for (int i = writer; i < count; i += writers)
                    {
                        insert(i);
                        n++;
                        long now = Stopwatch.GetTimestamp();
                        latencies.Add(now - previous);
                        previous = now;
                        if (now >= end)
                        {
                            if (i + writers < count)
                            {
                                Volatile.Write(ref timedOut, 1);
                            }

                            break;
                        }
                    }
                }
#pragma warning disable CA1031 // Collected and rethrown on the calling thread.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failures.Enqueue(ex);
                }

                done[writer] = n;
            })
            {
                IsBackground = true,
                Name = $"profiles-writer-{writer}",
            };
            threads[writer].Start();
        }

        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        Volatile.Write(ref deadline, start + (long)(budgetSeconds * Stopwatch.Frequency));
        go.Set();
        foreach (Thread t in threads)
        {
            t.Join();
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double cpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds;
        if (failures.TryDequeue(out Exception? failure))
        {
            throw new InvalidOperationException($"a writer failed: {failure.Message}", failure);
        }

        int inserted = done.Sum();
        return (inserted, seconds, timedOut != 0, LatencySummary.Merge(buffers), inserted == 0 ? 0 : cpuUs / inserted);
    }
}

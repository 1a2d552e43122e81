using System.Diagnostics;
using OxiVec.Benchmarks.Macro;
using OxiVec.Benchmarks.Store;
using OxiVec.Indexing;

namespace OxiVec.Benchmarks.Scale;

/// <summary>One engine's build: wall time, process CPU time, and the resident memory it added.</summary>
internal sealed record EngineBuild(string Engine, int Count, double Seconds, double CpuSeconds, long ResidentDeltaBytes, string MachineLoad)
{
    public double PerSecond => Count / Seconds;

    /// <summary>Process CPU time per insert in microseconds (one building thread; GC and runtime threads included).</summary>
    public double CpuMicrosPerInsert => CpuSeconds * 1e6 / Count;
}

/// <summary>OxiVec's <see cref="HnswIndex"/> and USearch on one data set: builds, memory, the recall/QPS sweep.</summary>
internal sealed record EngineResult(PeerResult Peer, IReadOnlyList<EngineBuild> Builds);

/// <summary>
/// Builds both engines from one thread (same parameters, same insertion order), measures the resident memory each
/// adds, then sweeps ef: recall@10 once per ef (all queries; it is also the warm-up), QPS in timed passes on 1 and
/// on all threads, the two engines alternating pass by pass.
/// </summary>
internal sealed class EngineSweep(int[] efSweep, int repeats, double minPassSeconds)
{
    public const int K = 10;

    public EngineResult Run(string verb, PeerDataset data, int[][] truth)
    {
        int n = data.Points.Length;
        long before = ScaleCommon.ResidentAnonBytes();
        ScaleCommon.Say(verb, $"{data.Key}: OxiVec HnswIndex build (1 thread)");
        var ours = new OxiVecEngine(data.Dimension, PeerComparison.Parameters);
        (double oursSeconds, double oursCpu, string oursLoad) = Build(ours, data.Points);
        long afterOurs = ScaleCommon.ResidentAnonBytes();
        ScaleCommon.Say(verb, $"  {n / oursSeconds:N0} vectors/s, {oursCpu * 1e6 / n:N0} us CPU/insert, +{(afterOurs - before) / 1e6:0} MB resident; USearch build (1 thread)");
        using var peer = new USearchEngine(data.Dimension, n, PeerComparison.Parameters);
        (double peerSeconds, double peerCpu, string peerLoad) = Build(peer, data.Points);
        long afterPeer = ScaleCommon.ResidentAnonBytes();
        ScaleCommon.Say(verb, $"  {n / peerSeconds:N0} vectors/s, {peerCpu * 1e6 / n:N0} us CPU/insert, +{(afterPeer - afterOurs) / 1e6:0} MB resident");
        EngineBuild[] builds =
        [
            new(ours.Name, n, oursSeconds, oursCpu, afterOurs - before, oursLoad),
            new(peer.Name, n, peerSeconds, peerCpu, afterPeer - afterOurs, peerLoad),
        ];
        using (ours)
        {
            ISearchEngine[] engines = [ours, peer];
            var points = new List<SweepPoint>();
            var recall = new Dictionary<(string, int), (double Recall, double Qps)>();
            foreach (int threads in PeerComparison.ThreadCounts)
            {
                foreach (int ef in efSweep)
                {
                    ScaleCommon.Say(verb, $"{data.Key}: ef {ef}, {threads} thread(s)");
                    foreach (ISearchEngine e in engines)
                    {
                        e.SetEf(ef);
                        if (!recall.ContainsKey((e.Name, ef)))
                        {
                            long t = Stopwatch.GetTimestamp();
                            double r = Recall(e, data.Queries, truth);
                            recall[(e.Name, ef)] = (r, data.Queries.Length / Stopwatch.GetElapsedTime(t).TotalSeconds);
                        }
                    }

                    var samples = engines.ToDictionary(e => e.Name, _ => new List<double>());
                    for (int rep = 0; rep < repeats; rep++)
                    {
                        foreach (ISearchEngine e in engines)
                        {
                            e.SetEf(ef);
                            // A pass lasts about minPassSeconds at the one-thread rate of the recall pass (at least 200 queries).
                            long count = Math.Max(200, (long)(recall[(e.Name, ef)].Qps * minPassSeconds * threads));
                            samples[e.Name].Add(Throughput(e, data.Queries, threads, count));
                        }
                    }

                    points.AddRange(engines.Select(e => new SweepPoint(e.Name, threads, ef, recall[(e.Name, ef)].Recall, Spread.Of(samples[e.Name]))));
                }
            }

            return new EngineResult(new PeerResult(data, [.. builds.Select(b => new BuildResult(b.Engine, b.Count, b.Seconds))], points, peer.Description, repeats, minPassSeconds), builds);
        }
    }

    /// <summary>
    /// Adds every point in order from this thread; returns the wall seconds, the process CPU seconds, and how busy
    /// the rest of the machine was meanwhile.
    /// </summary>
    private static (double Seconds, double CpuSeconds, string MachineLoad) Build(ISearchEngine engine, float[][] points)
    {
        SystemLoad load = SystemLoad.Snapshot();
        TimeSpan cpu = ScaleCommon.ProcessCpu();
        long t = Stopwatch.GetTimestamp();
        for (int i = 0; i < points.Length; i++)
        {
            engine.Add(i, points[i]);
        }

        double seconds = Stopwatch.GetElapsedTime(t).TotalSeconds;
        return (seconds, (ScaleCommon.ProcessCpu() - cpu).TotalSeconds, SystemLoad.Describe(load));
    }

    private static double Recall(ISearchEngine engine, float[][] queries, int[][] truth)
    {
        Span<int> ids = stackalloc int[K];
        long hits = 0;
        for (int q = 0; q < queries.Length; q++)
        {
            int found = engine.Search(queries[q], ids);
            foreach (int id in ids[..found])
            {
                hits += Array.IndexOf(truth[q], id) >= 0 ? 1 : 0;
            }
        }

        return hits / (double)(queries.Length * K);
    }

    /// <summary>Queries per second of <paramref name="total"/> queries (cycling through the set) shared among <paramref name="threads"/> threads.</summary>
    private static double Throughput(ISearchEngine engine, float[][] queries, int threads, long total)
    {
        double seconds = ScaleCommon.RunThreads(threads, first =>
        {
            Span<int> ids = stackalloc int[K];
            for (long i = first; i < total; i += threads)
            {
                _ = engine.Search(queries[i % queries.Length], ids);
            }
        });
        return total / seconds;
    }
}

using System.Diagnostics;
using System.Numerics.Tensors;
using OxiVec.Benchmarks.Macro;
using OxiVec.Indexing;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Store;

/// <summary>A data set for the engine comparison: indexed points and queries from the same distribution.</summary>
internal sealed record PeerDataset(string Key, string Description, float[][] Points, float[][] Queries)
{
    public int Dimension => Points[0].Length;
}

/// <summary>Building one engine's index: single thread, one vector per call.</summary>
internal sealed record BuildResult(string Engine, int Count, double Seconds)
{
    public double PerSecond => Count / Seconds;
}

/// <summary>One engine at one beam width and thread count: recall@k against exact search, QPS over the repeats.</summary>
internal sealed record SweepPoint(string Engine, int Threads, int Ef, double Recall, Spread Qps)
{
    /// <summary>QPS of each timed pass, in order; pass <c>j</c> of the two engines ran back to back (they alternate pass by pass).</summary>
    public IReadOnlyList<double> Passes { get; init; } = [];
}

/// <summary>Everything measured on one data set.</summary>
internal sealed record PeerResult(PeerDataset Data, IReadOnlyList<BuildResult> Builds, IReadOnlyList<SweepPoint> Points, string PeerDescription, int Repeats, double MinPassSeconds);

/// <summary>
/// OxiVec's <see cref="HnswIndex"/> against USearch on the same vectors and queries: the same metric (squared L2),
/// the same graph parameters (M ↔ connectivity, efConstruction ↔ expansion_add), an ef sweep (ef ↔
/// expansion_search) with recall@k against exact ground truth computed once, and QPS on one thread and on all
/// cores. Each QPS cell is timed <see cref="Repeats"/> times, the two engines alternating, so a burst of load from
/// elsewhere on the machine hits both.
/// </summary>
internal sealed class PeerComparison(bool quick)
{
    public const int K = 10;

    /// <summary>OxiVec's defaults, given to both engines.</summary>
    public static readonly HnswParameters Parameters = new();

    private readonly int[] _efSweep = quick ? [10, 16, 32, 64, 128] : [10, 16, 24, 32, 48, 64, 96, 128, 256];

    /// <summary>Timed passes per QPS cell (the median is reported).</summary>
    public int Repeats { get; } = quick ? 1 : 5;

    /// <summary>A timed pass repeats the query set until it lasts about this long.</summary>
    public double MinPassSeconds { get; } = quick ? 0.05 : 0.2;

    public static int[] ThreadCounts => Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1];

    public PeerResult Run(PeerDataset data)
    {
        string size = $"{data.Points.Length:N0} x {data.Dimension}";
        Console.WriteLine($"store: vs USearch ({size}): exact ground truth");
        int[][] truth = Scale.ScaleCommon.GroundTruth(data.Points, data.Queries, K);

        Console.WriteLine($"store: vs USearch ({size}): builds");
        var ours = new OxiVecEngine(data.Dimension, Parameters);
        using var peer = new USearchEngine(data.Dimension, data.Points.Length, Parameters);
        using (ours)
        {
            ISearchEngine[] engines = [ours, peer];
            BuildResult[] builds = [.. engines.Select(e => Build(e, data.Points))];
            var points = new List<SweepPoint>();
            var recall = new Dictionary<(string, int), double>();
            var loops = new Dictionary<(string, int), int>();
            foreach (int threads in ThreadCounts)
            {
                Console.WriteLine($"store: vs USearch ({size}): ef sweep, {threads} thread(s)");
                foreach (int ef in _efSweep)
                {
                    foreach (ISearchEngine e in engines)
                    {
                        e.SetEf(ef);
                        if (!recall.ContainsKey((e.Name, ef)))
                        {
                            // The recall pass doubles as the warm-up and sizes the timed passes.
                            long t = Stopwatch.GetTimestamp();
                            recall[(e.Name, ef)] = Recall(e, data.Queries, truth);
                            loops[(e.Name, ef)] = (int)Math.Ceiling(MinPassSeconds / Math.Max(Seconds(t), 1e-6));
                        }
                    }

                    var samples = engines.ToDictionary(e => e.Name, _ => new List<double>());
                    for (int rep = 0; rep < Repeats; rep++)
                    {
                        foreach (ISearchEngine e in engines)
                        {
                            samples[e.Name].Add(Throughput(e, data.Queries, threads, loops[(e.Name, ef)] * threads));
                        }
                    }

                    points.AddRange(engines.Select(e => new SweepPoint(e.Name, threads, ef, recall[(e.Name, ef)], Spread.Of(samples[e.Name])) { Passes = [.. samples[e.Name]] }));
                }
            }

            return new PeerResult(data, builds, points, peer.Description, Repeats, MinPassSeconds);
        }
    }

    private static BuildResult Build(ISearchEngine engine, float[][] points)
    {
        long t = Stopwatch.GetTimestamp();
        for (int i = 0; i < points.Length; i++)
        {
            engine.Add(i, points[i]);
        }

        return new BuildResult(engine.Name, points.Length, Seconds(t));
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

    /// <summary>Queries per second over <paramref name="loops"/> rounds of the query set shared among <paramref name="threads"/> threads.</summary>
    private static double Throughput(ISearchEngine engine, float[][] queries, int threads, int loops)
    {
        long total = (long)loops * queries.Length;
        if (threads == 1)
        {
            long t = Stopwatch.GetTimestamp();
            Worker(engine, queries, 0, 1, total);
            return total / Seconds(t);
        }

        using var ready = new CountdownEvent(threads);
        using var start = new ManualResetEventSlim();
        var workers = new Thread[threads];
        for (int w = 0; w < threads; w++)
        {
            int first = w;
            workers[w] = new Thread(() =>
            {
                ready.Signal();
                start.Wait();
                Worker(engine, queries, first, threads, total);
            });
            workers[w].Start();
        }

        ready.Wait();
        long t0 = Stopwatch.GetTimestamp();
        start.Set();
        foreach (Thread w in workers)
        {
            w.Join();
        }

        return total / Seconds(t0);
    }

    private static void Worker(ISearchEngine engine, float[][] queries, int first, int stride, long total)
    {
        Span<int> ids = stackalloc int[K];
        for (long i = first; i < total; i += stride)
        {
            _ = engine.Search(queries[i % queries.Length], ids);
        }
    }
}

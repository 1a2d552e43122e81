using System.Diagnostics;
using System.Text;
using OxiVec.Benchmarks.Macro;
using OxiVec.Benchmarks.Store;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;
using static OxiVec.Benchmarks.Scale.ScaleCommon;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Scale;

/// <summary>
/// The <c>concurrency</c> verb (issue goal 5): an HNSW collection's upserts/s and searches/s alone and together
/// (2 writer threads, 2 searcher threads), and an <see cref="HnswIndex"/> built by 1 thread vs 2 threads calling
/// <see cref="HnswIndex.Add"/> concurrently. Writes <c>concurrency.md</c>, <c>concurrency.png</c> and
/// <c>concurrency-build.png</c>.
/// </summary>
internal sealed class ConcurrencyBench(VerbOptions options)
{
    private const string Verb = "concurrency";
    private const string Collection = "c";
    private const int RwDim = 32;
    private const int BuildDim = 128;
    private const int K = 10;
    private const double MixGoal = 0.40;
    private const double BuildGoal = 1.7;

    private sealed record RwRound(double UpsertsAlone, double SearchesAlone, double UpsertsTogether, double SearchesTogether);

    private sealed record BuildRound(
        double OneThreadSeconds, double TwoThreadSeconds, double RecallOne, double RecallTwo, double OneThreadCpuMicros, double TwoThreadCpuMicros, long TwoThreadContentions);

    public int Run()
    {
        bool quick = options.Quick;
        int rwN = quick ? 10_000 : 100_000;
        int buildN = quick ? 4_000 : 50_000;
        int rounds = quick ? 1 : 5;
        int buildRounds = quick ? 1 : 5;
        double window = quick ? 0.5 : 3.0;
        Directory.CreateDirectory(options.OutDir);
        string work = NewWorkDir(Verb);
        try
        {
            MachineInfo machine = MachineInfo.Collect(work);
            List<RwRound> rw = ReadWrite(work, rwN, rounds, window);
            SystemLoad buildLoad = SystemLoad.Snapshot();
            List<BuildRound> build = Build(buildN, buildRounds);
            string buildMachine = SystemLoad.Describe(buildLoad);
            Charts(rw, build, buildN);
            string md = Path.Combine(options.OutDir, "concurrency.md");
            File.WriteAllText(md, Report(machine, rw, build, rwN, buildN, window, buildMachine));
            Say(Verb, $"wrote {md}");
            return 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    private static List<RwRound> ReadWrite(string work, int n, int rounds, double window)
    {
        (float[][] points, float[][] queries) = Clustered(n, 1_000, RwDim, 32, 0.35, 5);
        string dir = Path.Combine(work, "rw");
        using VectorDatabase db = VectorDatabase.Open(dir, new VectorDatabaseOptions
        {
            Wal = WalConfig.HighThroughput with { CheckpointInterval = int.MaxValue, MaxWalSize = 1L << 40 },
        });
        db.CreateCollection(Collection, new CollectionOptions(RwDim) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Hnsw });
        Say(Verb, $"filling {n:N0} x {RwDim} HNSW");
        for (int i = 0; i < n; i += 1_000)
        {
            int from = i;
            _ = db.InsertBatch(Collection, Enumerable.Range(from, Math.Min(1_000, n - from)).Select(j => new VectorRecord(Id("v", j), points[j], Empty)));
        }

        // Warm-up of both paths (JIT), not measured.
        _ = Mix(db, points, queries, 2, 2, Math.Min(window, 0.5));
        var result = new List<RwRound>();
        for (int r = 0; r < rounds; r++)
        {
            Say(Verb, $"read/write round {r + 1}/{rounds}");
            (double up, _) = Mix(db, points, queries, 2, 0, window);
            (_, double se) = Mix(db, points, queries, 0, 2, window);
            (double upT, double seT) = Mix(db, points, queries, 2, 2, window);
            Say(Verb, $"  upserts/s alone {up:N0}, together {upT:N0}; searches/s alone {se:N0}, together {seT:N0}");
            result.Add(new RwRound(up, se, upT, seT));
        }

        return result;
    }

    private static readonly Dictionary<string, MetadataValue> Empty = [];

    /// <summary>Writers upsert random existing ids with new vectors, searchers run k = 10 queries; all stop at the deadline.</summary>
    private static (double UpsertsPerSecond, double SearchesPerSecond) Mix(VectorDatabase db, float[][] points, float[][] queries, int writers, int searchers, double seconds)
    {
        long upserts = 0, searches = 0;
        double wall = RunThreads(writers + searchers, t =>
        {
            var rng = new Random(1_000 + t);
            long ops = 0;
            long end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
            if (t < writers)
            {
                while (Stopwatch.GetTimestamp() < end)
                {
                    int id = rng.Next(points.Length);
                    _ = db.Upsert(Collection, Id("v", id), points[rng.Next(points.Length)]);
                    ops++;
                }

                _ = Interlocked.Add(ref upserts, ops);
            }
            else
            {
                while (Stopwatch.GetTimestamp() < end)
                {
                    _ = db.Search(Collection, queries[rng.Next(queries.Length)], K);
                    ops++;
                }

                _ = Interlocked.Add(ref searches, ops);
            }
        });
        return (upserts / wall, searches / wall);
    }

    private static List<BuildRound> Build(int n, int rounds)
    {
        (float[][] points, float[][] queries) = Clustered(n, 200, BuildDim, 50, 0.35, 9);
        int[][] truth = GroundTruth(points, queries, K);
        var result = new List<BuildRound>();
        // Warm-up build (JIT), not measured.
        using (var warm = new HnswIndex(BuildDim, DistanceMetric.Euclidean))
        {
            _ = RunThreads(2, t =>
            {
                for (int i = t; i < Math.Min(n, 1_000); i += 2)
                {
                    warm.Add(i, points[i]);
                }
            });
        }

        for (int r = 0; r < rounds; r++)
        {
            // Alternating order, so a load that drifts during a round favours neither side.
            bool oneFirst = r % 2 == 0;
            Say(Verb, $"build round {r + 1}/{rounds}: {n:N0} x {BuildDim}, {(oneFirst ? "1 thread then 2 threads" : "2 threads then 1 thread")}");
            (double Seconds, double Recall, double CpuMicros, long Contentions) first = BuildWith(points, queries, truth, oneFirst ? 1 : 2);
            (double Seconds, double Recall, double CpuMicros, long Contentions) second = BuildWith(points, queries, truth, oneFirst ? 2 : 1);
            var (one, two) = oneFirst ? (first, second) : (second, first);
            Say(Verb, $"  1 thread {one.Seconds:0.00} s, 2 threads {two.Seconds:0.00} s ({one.Seconds / two.Seconds:0.00}x); CPU per add {one.CpuMicros:0} vs {two.CpuMicros:0} us; lock contentions with 2 threads {two.Contentions}");
            result.Add(new BuildRound(one.Seconds, two.Seconds, one.Recall, two.Recall, one.CpuMicros, two.CpuMicros, two.Contentions));
        }

        return result;
    }

    /// <summary>
    /// Builds an index with <paramref name="threads"/> threads adding interleaved ids; returns the seconds, recall@10
    /// at ef = 64, the process CPU time per add (all threads, GC included) in microseconds, and the lock acquisitions
    /// that had to wait during the build (<see cref="Monitor.LockContentionCount"/>).
    /// </summary>
    private static (double Seconds, double Recall, double CpuMicros, long Contentions) BuildWith(float[][] points, float[][] queries, int[][] truth, int threads)
    {
        using var index = new HnswIndex(BuildDim, DistanceMetric.Euclidean);
        using var process = Process.GetCurrentProcess();
        TimeSpan cpu0 = process.TotalProcessorTime;
        long contentions0 = Monitor.LockContentionCount;
        double seconds = RunThreads(threads, t =>
        {
            for (int i = t; i < points.Length; i += threads)
            {
                index.Add(i, points[i]);
            }
        });
        long contentions = Monitor.LockContentionCount - contentions0;
        process.Refresh();
        double cpuMicros = (process.TotalProcessorTime - cpu0).TotalMicroseconds / points.Length;
        if (index.Count != points.Length)
        {
            throw new InvalidOperationException($"the index built by {threads} thread(s) holds {index.Count} of {points.Length} vectors");
        }

        var search = new SearchOptions { Ef = 64 };
        long hits = 0;
        for (int q = 0; q < queries.Length; q++)
        {
            foreach (SearchHit h in index.Search(queries[q], K, search))
            {
                hits += Array.IndexOf(truth[q], h.Id) >= 0 ? 1 : 0;
            }
        }

        return (seconds, hits / (double)(queries.Length * K), cpuMicros, contentions);
    }

    private void Charts(List<RwRound> rw, List<BuildRound> build, int buildN)
    {
        ScaleCharts.GroupedBars(
            Path.Combine(options.OutDir, "concurrency.png"),
            $"HNSW collection ({RwDim} dims) through VectorDatabase: alone vs together (median of rounds, min–max)",
            "operations / s",
            ["upserts/s, 2 writer threads", "searches/s, 2 searcher threads"],
            [
                new BarSeries("alone", ScaleCharts.Palette[0], [Spread.Of(rw.Select(r => r.UpsertsAlone)), Spread.Of(rw.Select(r => r.SearchesAlone))]),
                new BarSeries("together (2 writers + 2 searchers)", ScaleCharts.Palette[1], [Spread.Of(rw.Select(r => r.UpsertsTogether)), Spread.Of(rw.Select(r => r.SearchesTogether))]),
            ],
            log: false,
            ScaleCharts.Rate);
        ScaleCharts.GroupedBars(
            Path.Combine(options.OutDir, "concurrency-build.png"),
            $"HnswIndex build ({BuildDim} dims): vectors added per second, 1 vs 2 threads calling Add (median, min–max)",
            "vectors / s",
            [$"{buildN:N0} x {BuildDim}, 50 clusters, Euclidean, in memory (thread t adds ids t, t+2, ...)"],
            [
                new BarSeries("1 thread", ScaleCharts.Palette[0], [Spread.Of(build.Select(b => buildN / b.OneThreadSeconds))]),
                new BarSeries("2 threads", ScaleCharts.Palette[1], [Spread.Of(build.Select(b => buildN / b.TwoThreadSeconds))]),
            ],
            log: false,
            ScaleCharts.Rate);
    }

    private string Report(MachineInfo m, List<RwRound> rw, List<BuildRound> build, int rwN, int buildN, double window, string buildMachine)
    {
        var sb = new StringBuilder();
        Spread up = Spread.Of(rw.Select(r => r.UpsertsAlone));
        Spread se = Spread.Of(rw.Select(r => r.SearchesAlone));
        Spread upT = Spread.Of(rw.Select(r => r.UpsertsTogether));
        Spread seT = Spread.Of(rw.Select(r => r.SearchesTogether));
        Spread upShare = Spread.Of(rw.Select(r => r.UpsertsTogether / r.UpsertsAlone));
        Spread seShare = Spread.Of(rw.Select(r => r.SearchesTogether / r.SearchesAlone));
        Spread speedup = Spread.Of(build.Select(b => b.OneThreadSeconds / b.TwoThreadSeconds));
        Spread cpuRatio = Spread.Of(build.Select(b => b.TwoThreadCpuMicros / b.OneThreadCpuMicros));
        Line(sb, "# OxiVec concurrency benchmark: reads and writes together, parallel build (issue goal 5)");
        Line(sb);
        Line(sb, $"Generated by the `{Verb}` verb of bench/OxiVec.Benchmarks on {m.Date:yyyy-MM-dd}. Goals: with 2 writers and 2 searchers each side keeps **at least {MixGoal:P0}** of its throughput alone; building an index with 2 threads is **at least {BuildGoal:0.0}x** one thread.");
        Line(sb);
        QuickBanner(sb, options);
        Line(sb, "## Reads and writes together");
        Line(sb);
        Line(sb, $"An HNSW collection of {rwN:N0} x {RwDim} (32 Gaussian clusters, Euclidean, M = 16, efConstruction = 200) through `VectorDatabase` with `WalConfig.HighThroughput` (SyncIntervalMs = 1000; automatic checkpoints off), warm page cache. Writers: `Upsert` of a random existing id with another vector of the set (one record per commit). Searchers: `Search(collection, query, 10)` with the default ef (64), queries from the same distribution. Each mode runs {window:0.0} s on dedicated threads started together; {rw.Count} round(s) of (writers alone, searchers alone, both); medians with (min–max); *share* is together / alone within the same round.");
        Line(sb);
        Line(sb, "| Side | Threads | Alone (ops/s) | Together with the other side (ops/s) | Share of alone | Goal ≥ 40 % |");
        Line(sb, "|---|---|---:|---:|---:|---|");
        Line(sb, $"| Upserts (HNSW, {RwDim} dims, SyncIntervalMs = 1000) | 2 writers (+ 2 searchers together) | {S(up, "N0")} | {S(upT, "N0")} | {S(Pct(upShare), "0.0")} % | {Verdict(upShare, rw.Count)} |");
        Line(sb, $"| Searches (k = 10, ef = 64) | 2 searchers (+ 2 writers together) | {S(se, "N0")} | {S(seT, "N0")} | {S(Pct(seShare), "0.0")} % | {Verdict(seShare, rw.Count)} |");
        Line(sb);
        Line(sb, "![alone vs together](concurrency.png)");
        Line(sb);
        Line(sb, "## Building an index with 2 threads");
        Line(sb);
        Line(sb, $"`HnswIndex` ({buildN:N0} x {BuildDim}, 50 Gaussian clusters, Euclidean, default parameters) built by one thread adding ids 0..n-1, then by two threads calling `Add` concurrently (thread t adds ids t, t+2, ...), in memory (no database, no WAL). {build.Count} round(s), the order alternating (1 then 2 threads, then 2 then 1); medians with (min–max). *CPU per add* is the process's CPU time (every thread, GC included) over the build divided by n: it does not depend on how much of the shared machine the run got, so its 2-thread / 1-thread ratio shows what the parallel build itself costs (contention, cache traffic); 2 divided by that ratio is the speed-up two free cores would give. Recall@10 of each built index at ef = 64 (200 queries, exact brute-force truth) shows that the concurrent build is not a worse graph.");
        Line(sb);
        Line(sb, "| Build | Seconds | Vectors/s | CPU per add (µs) | Recall@10 (ef = 64) |");
        Line(sb, "|---|---:|---:|---:|---:|");
        Line(sb, $"| 1 thread | {S(Spread.Of(build.Select(b => b.OneThreadSeconds)))} | {S(Spread.Of(build.Select(b => buildN / b.OneThreadSeconds)), "N0")} | {S(Spread.Of(build.Select(b => b.OneThreadCpuMicros)), "0")} | {S(Spread.Of(build.Select(b => b.RecallOne)), "0.000")} |");
        Line(sb, $"| 2 threads | {S(Spread.Of(build.Select(b => b.TwoThreadSeconds)))} | {S(Spread.Of(build.Select(b => buildN / b.TwoThreadSeconds)), "N0")} | {S(Spread.Of(build.Select(b => b.TwoThreadCpuMicros)), "0")} | {S(Spread.Of(build.Select(b => b.RecallTwo)), "0.000")} |");
        Line(sb);
        Line(sb, $"Speed-up of 2 threads over 1 (per round, then median): **{S(speedup)}x** — goal ≥ {BuildGoal:0.0}x: {(build.All(b => b.OneThreadSeconds / b.TwoThreadSeconds >= BuildGoal) ? $"**met** in all {build.Count} round(s)" : $"**not met** ({build.Count(b => b.OneThreadSeconds / b.TwoThreadSeconds < BuildGoal)} of {build.Count} round(s) below)")}.");
        Line(sb);
        Line(sb, $"CPU per add, 2 threads / 1 thread (per round, then median): {S(cpuRatio, "0.000")}: two free cores would give about {2 / cpuRatio.Median:0.00}x.");
        Line(sb);
        Line(sb, $"Lock acquisitions that had to wait during each 2-thread build (`Monitor.LockContentionCount`, the whole process): {S(Spread.Of(build.Select(b => (double)b.TwoThreadContentions)), "0")} for {buildN:N0} adds (each add takes a stripe lock for its own list and for each of its up to M neighbours on every layer it joins).");
        Line(sb);
        Line(sb, $"During the build rounds {buildMachine}{(buildMachine.EndsWith('*') ? "" : ".")} Two threads can only run twice as fast as one when nothing else wants the two cores; the CPU ratio above does not depend on that.");
        Line(sb);
        Line(sb, "![parallel build](concurrency-build.png)");
        Line(sb);
        Line(sb, $"The machine has {m.Cores} logical cores; with 4 threads on 2 cores the together row is also bounded by CPU sharing (alone, each side already uses both cores).");
        Line(sb);
        MachineSection(sb, m, options);
        return sb.ToString();
    }

    private static Spread Pct(Spread s) => new(s.Median * 100, s.Min * 100, s.Max * 100);

    private static string Verdict(Spread share, int rounds) =>
        share.Min >= MixGoal ? $"**met** in all {rounds} round(s)"
        : share.Median >= MixGoal ? "met by the median, not in every round"
        : "**not met**";
}

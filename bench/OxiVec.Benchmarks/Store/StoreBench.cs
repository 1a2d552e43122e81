using System.Diagnostics;
using System.Text;
using OxiVec.Benchmarks.Macro;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;
using ScottPlot;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Store;

/// <summary>
/// The <c>store</c> verb: insert throughput with and without the WAL, HNSW recall@10 / QPS against exact search,
/// and the HNSW index against USearch (<see cref="PeerComparison"/>). Writes <c>store.md</c>,
/// <c>store-recall-qps.png</c>, <c>store-vs-usearch.png</c> and <c>store-vs-usearch-768.png</c>.
/// </summary>
internal sealed class StoreBench(VerbOptions options)
{
    private const int Dim = 128;
    private const int K = 10;
    private static readonly int[] EfSweep = [16, 32, 64, 128, 256];

    private sealed record InsertRow(string Index, string Mode, int Inserted, double Seconds)
    {
        public double PerSecond => Inserted / Seconds;
    }

    private sealed record SweepRow(string Label, int? Ef, double Qps, double Recall);

    public int Run()
    {
        bool quick = options.Quick;
        int flatN = quick ? 10_000 : 50_000;
        int hnswN = quick ? 3_000 : 20_000;
        int queries = quick ? 100 : 500;
        int embeddingN = quick ? 2_000 : 20_000;
        double fsyncBudgetSeconds = quick ? 2 : 8;
        Directory.CreateDirectory(options.OutDir);
        string work = NewWorkDir("store");
        try
        {
            MachineInfo machine = MachineInfo.Collect(work);
            (float[][] hnswData, float[][] queryData) = Clustered(hnswN, queries, Dim, 50, 0.35, 7);
            float[][] flatData = Uniform(flatN, Dim, 11);

            // Warm-up (JIT tiering, page cache, first-file costs): a short pass of every mode, discarded.
            Console.WriteLine("store: warm-up");
            _ = InsertSuite("warm-flat", IndexKind.Flat, flatData[..2_000], work, 0.3, keep: false, out _);
            _ = InsertSuite("warm-hnsw", IndexKind.Hnsw, hnswData[..1_000], work, 0.3, keep: false, out _);

            var rows = new List<InsertRow>();
            Console.WriteLine($"store: flat inserts ({flatN:N0} x {Dim})");
            rows.AddRange(InsertSuite("flat", IndexKind.Flat, flatData, work, fsyncBudgetSeconds, keep: false, out _));
            Console.WriteLine($"store: HNSW inserts ({hnswN:N0} x {Dim})");
            rows.AddRange(InsertSuite("HNSW", IndexKind.Hnsw, hnswData, work, fsyncBudgetSeconds, keep: true, out string searchDir));

            Console.WriteLine("store: search sweep");
            List<SweepRow> sweep = SearchSweep(searchDir, hnswData, queryData);

            var peer = new PeerComparison(quick);
            var peerResults = new List<PeerResult>
            {
                peer.Run(new PeerDataset(
                    $"{hnswN:N0} x 128",
                    $"{hnswN:N0} x 128: the HNSW data set above (50 Gaussian clusters), the same {queries} queries",
                    hnswData,
                    queryData)),
            };
            (float[][] embeddings, float[][] embeddingQueries) = LowRankClustered(embeddingN, queries, 768, 48, 100, 0.5, 0.05, 13);
            peerResults.Add(peer.Run(new PeerDataset(
                $"{embeddingN:N0} x 768",
                $"{embeddingN:N0} x 768, embedding-like: 100 clusters in a 48-dimensional latent space (centres ~ N(0,1), sigma 0.5) mapped to 768 dimensions by a random linear map, plus N(0, 0.05²) noise per component; {queries} queries from the same distribution",
                embeddings,
                embeddingQueries)));
            string[] peerCharts = ["store-vs-usearch.png", "store-vs-usearch-768.png"];
            for (int i = 0; i < peerResults.Count; i++)
            {
                PeerReport.Chart(peerResults[i], Path.Combine(options.OutDir, peerCharts[i]));
                foreach (string line in PeerReport.TargetLines(peerResults[i]))
                {
                    Console.WriteLine("store: " + line);
                }
            }

            string png = Path.Combine(options.OutDir, "store-recall-qps.png");
            Chart(sweep, png, hnswN, queries);
            string md = Path.Combine(options.OutDir, "store.md");
            File.WriteAllText(md, Report(machine, rows, sweep, flatN, hnswN, queries, fsyncBudgetSeconds, peerResults, peerCharts));
            Console.WriteLine($"store: wrote {md} and {png}");
            return 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    private static VectorDatabase OpenDb(string dir, int syncMs, bool trackCheckpoints = false) =>
        VectorDatabase.Open(dir, new VectorDatabaseOptions
        {
            Wal = WalConfig.HighThroughput with { SyncIntervalMs = syncMs, CheckpointInterval = trackCheckpoints ? 100_000 : int.MaxValue },
        });

    private static CollectionOptions Collection(IndexKind kind) => new(Dim) { Metric = DistanceMetric.Euclidean, Index = kind };

    private static List<InsertRow> InsertSuite(string label, IndexKind kind, float[][] data, string work, double fsyncBudget, bool keep, out string keptDir)
    {
        var rows = new List<InsertRow>();
        int n = data.Length;

        // (a) the in-memory index alone.
        using (IVectorIndex index = kind == IndexKind.Flat ? new FlatIndex(Dim, DistanceMetric.Euclidean) : new HnswIndex(Dim, DistanceMetric.Euclidean, new HnswParameters()))
        {
            long t = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
            {
                index.Add(i, data[i]);
            }

            rows.Add(new InsertRow(label, "index only, no WAL", n, Seconds(t)));
        }

        // (b) VectorDatabase, SyncIntervalMs = 1000, one insert per call.
        keptDir = Path.Combine(work, label + "-sync1000");
        using (VectorDatabase db = OpenDb(keptDir, 1000))
        {
            db.CreateCollection("c", Collection(kind));
            long t = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
            {
                _ = db.Insert("c", Id(i), data[i]);
            }

            rows.Add(new InsertRow(label, "VectorDatabase, SyncIntervalMs = 1000, 1 insert/commit", n, Seconds(t)));
            if (keep)
            {
                db.CreateCollection("exact", Collection(IndexKind.Flat));
                for (int i = 0; i < n; i += 1000)
                {
                    _ = db.InsertBatch("exact", Enumerable.Range(i, Math.Min(1000, n - i)).Select(j => new VectorRecord(Id(j), data[j], Empty)));
                }
            }
        }

        if (!keep)
        {
            TryDelete(keptDir);
        }

        // (c) SyncIntervalMs = 0, one insert per call (time-boxed: every commit waits for an fsync).
        string dirC = Path.Combine(work, label + "-sync0");
        using (VectorDatabase db = OpenDb(dirC, 0))
        {
            db.CreateCollection("c", Collection(kind));
            long t = Stopwatch.GetTimestamp();
            int i = 0;
            while (i < n && (i % 64 != 0 || Seconds(t) < fsyncBudget))
            {
                _ = db.Insert("c", Id(i), data[i]);
                i++;
            }

            rows.Add(new InsertRow(label, "VectorDatabase, SyncIntervalMs = 0, 1 insert/commit", i, Seconds(t)));
        }

        TryDelete(dirC);

        // (d) SyncIntervalMs = 0, transactions of 100 inserts.
        string dirD = Path.Combine(work, label + "-sync0-tx");
        using (VectorDatabase db = OpenDb(dirD, 0))
        {
            db.CreateCollection("c", Collection(kind));
            long t = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i += 100)
            {
                using VectorTransaction tx = db.BeginTransaction();
                for (int j = i; j < Math.Min(n, i + 100); j++)
                {
                    tx.Insert("c", Id(j), data[j]);
                }

                _ = tx.Commit();
            }

            rows.Add(new InsertRow(label, "VectorDatabase, SyncIntervalMs = 0, transactions of 100", n, Seconds(t)));
        }

        TryDelete(dirD);
        return rows;
    }

    private static readonly Dictionary<string, MetadataValue> Empty = [];

    private static string Id(int i) => "v" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static List<SweepRow> SearchSweep(string dir, float[][] data, float[][] queries)
    {
        var rows = new List<SweepRow>();
        using VectorDatabase db = OpenDb(dir, 1000);
        if (db.Count("c") != data.Length || db.Count("exact") != data.Length)
        {
            throw new InvalidOperationException("search collections were not recovered in full");
        }

        // Ground truth: exact search on the flat collection (warm-up pass, then a timed pass).
        var truth = new HashSet<string>[queries.Length];
        for (int q = 0; q < queries.Length; q++)
        {
            truth[q] = [.. db.Search("exact", queries[q], K).Select(r => r.Id)];
        }

        long t = Stopwatch.GetTimestamp();
        for (int q = 0; q < queries.Length; q++)
        {
            _ = db.Search("exact", queries[q], K);
        }

        rows.Add(new SweepRow("exact (flat collection)", null, queries.Length / Seconds(t), 1.0));

        foreach (int ef in EfSweep)
        {
            var opts = new VectorSearchOptions { Ef = ef };
            for (int q = 0; q < Math.Min(50, queries.Length); q++)
            {
                _ = db.Search("c", queries[q], K, opts); // warm-up
            }

            var results = new IReadOnlyList<SearchResult>[queries.Length];
            t = Stopwatch.GetTimestamp();
            for (int q = 0; q < queries.Length; q++)
            {
                results[q] = db.Search("c", queries[q], K, opts);
            }

            double qps = queries.Length / Seconds(t);
            double hits = 0;
            for (int q = 0; q < queries.Length; q++)
            {
                hits += results[q].Count(r => truth[q].Contains(r.Id));
            }

            rows.Add(new SweepRow($"HNSW ef = {ef}", ef, qps, hits / (queries.Length * (double)K)));
        }

        return rows;
    }

    private static void Chart(List<SweepRow> sweep, string path, int n, int queries)
    {
        Plot plot = NewPlot();
        SweepRow[] hnsw = [.. sweep.Where(r => r.Ef is not null)];
        double[] xs = [.. hnsw.Select(r => Math.Log10(r.Qps))];
        double[] ys = [.. hnsw.Select(r => r.Recall)];
        var line = plot.Add.Scatter(xs, ys, Color.FromHex("#1f77b4"));
        line.LineWidth = 2.5f;
        line.MarkerSize = 10;
        line.LegendText = "HNSW (M = 16, efConstruction = 200), ef sweep";
        foreach (SweepRow r in hnsw)
        {
            var text = plot.Add.Text($"ef={r.Ef}", Math.Log10(r.Qps), r.Recall);
            text.LabelFontSize = 12;
            text.LabelOffsetX = 6;
            text.LabelOffsetY = 6;
        }

        SweepRow exact = sweep.First(r => r.Ef is null);
        var exactPoint = plot.Add.Scatter(new[] { Math.Log10(exact.Qps) }, new[] { exact.Recall }, Color.FromHex("#d62728"));
        exactPoint.MarkerSize = 12;
        exactPoint.MarkerShape = MarkerShape.FilledSquare;
        exactPoint.LegendText = $"exact flat search ({F(exact.Qps)} QPS)";

        double minX = Math.Floor(Math.Min(xs.Min(), Math.Log10(exact.Qps)) - 0.1);
        double maxX = Math.Ceiling(Math.Max(xs.Max(), Math.Log10(exact.Qps)) + 0.1);
        var ticks = new List<double>();
        for (double d = minX; d <= maxX; d++)
        {
            ticks.Add(d);
        }

        plot.Axes.Bottom.SetTicks([.. ticks], [.. ticks.Select(d => F(Math.Pow(10, d)))]);
        plot.Axes.SetLimits(minX, maxX, Math.Max(0, ys.Min() - 0.05), 1.02);
        plot.Title($"OxiVec search: recall@10 vs queries/s ({n:N0} x 128, 50 Gaussian clusters, {queries} queries, 1 thread)");
        plot.XLabel("queries / s (log scale)");
        plot.YLabel("recall@10 vs exact");
        plot.ShowLegend(Edge.Bottom);
        plot.SavePng(path, 1200, 650);
    }

    /// <summary>Inserts through the database with an interval policy against the index alone: single runs, and marked so.</summary>
    private static IEnumerable<Trust.Figure> InsertFigures(List<InsertRow> rows, int flatN, int hnswN)
    {
        foreach (IGrouping<string, InsertRow> group in rows.GroupBy(r => r.Index))
        {
            InsertRow baseline = group.First();
            if (group.FirstOrDefault(r => r.Mode.Contains("SyncIntervalMs = 1000, 1 insert/commit", StringComparison.Ordinal)) is not { } row)
            {
                continue;
            }

            string data = group.Key == "flat"
                ? $"{flatN:N0} x 128 uniform, flat index"
                : $"{hnswN:N0} x 128 (50 Gaussian clusters), HNSW M = 16, efConstruction = 200";
            yield return new Trust.Figure(
                $"Inserts/s through `VectorDatabase`, {group.Key}, SyncIntervalMs = 1000, 1 insert per commit",
                F(row.PerSecond),
                $"the {group.Key} index alone (no WAL): {F(baseline.PerSecond)}/s",
                $"{row.PerSecond / baseline.PerSecond:0.00}x the index alone's rate",
                "–",
                $"{data}, `WalConfig.HighThroughput` (automatic checkpoints off), 1 thread",
                1);
        }
    }

    private string Report(
        MachineInfo m, List<InsertRow> rows, List<SweepRow> sweep, int flatN, int hnswN, int queries, double budget, List<PeerResult> peers, string[] peerCharts)
    {
        var sb = new StringBuilder();
        Line(sb, "# OxiVec store benchmark: insert throughput and search recall/QPS");
        Line(sb);
        sb.Append(options.Stamp);
        Line(sb, $"Generated by the `store` verb of bench/OxiVec.Benchmarks on {m.Date:yyyy-MM-dd HH:mm} UTC. One run per cell in the insert and database search tables (no repetitions), so treat differences under ~10% there as noise; the USearch comparison repeats its QPS cells (see there).");
        Line(sb);
        Line(sb, "## Datasets");
        Line(sb);
        Line(sb, $"- Flat inserts: {flatN:N0} vectors x 128 dims, uniform in [-1, 1), Euclidean.");
        Line(sb, $"- HNSW inserts and the search sweep: {hnswN:N0} vectors x 128 dims drawn from 50 Gaussian clusters (centres ~ N(0,1), sigma 0.35), Euclidean; {queries} queries from the same distribution. HNSW parameters: defaults (M = 16, efConstruction = 200).");
        Line(sb, "- The data directories are in the system temp directory (see Machine); one thread throughout, except the multi-thread rows of the USearch comparison (its own data sets are described there).");
        Line(sb);
        Line(sb, "## Insert throughput");
        Line(sb);
        Line(sb, "The same vectors inserted (a) into the in-memory index alone (`FlatIndex` / `HnswIndex.Add`, no WAL, no ids, no metadata), and through `VectorDatabase` with `WalConfig.HighThroughput` (automatic checkpoints off) and the given sync interval. A short discarded warm-up pass of every mode runs first.");
        Line(sb, $"With SyncIntervalMs = 0 and one insert per commit every call waits for its own fsync, so that cell is time-boxed to about {budget:0} s: the *inserted* column shows how many went in.");
        Line(sb);
        Line(sb, "| Index | Mode | Inserted | Time (s) | Inserts/s | Slowdown vs index only |");
        Line(sb, "|---|---|---:|---:|---:|---:|");
        foreach (IGrouping<string, InsertRow> group in rows.GroupBy(r => r.Index))
        {
            double baseline = group.First().PerSecond;
            foreach (InsertRow r in group)
            {
                Line(sb, $"| {r.Index} | {r.Mode} | {r.Inserted:N0} | {r.Seconds:0.00} | {F(r.PerSecond)} | {baseline / r.PerSecond:0.0}x |");
            }
        }

        Line(sb);
        Line(sb, "## Search: recall@10 and QPS");
        Line(sb);
        Line(sb, $"`VectorDatabase.Search(collection, query, 10, new VectorSearchOptions {{ Ef = ef }})` on the HNSW collection, single thread, {queries} queries after a warm-up; recall@10 is the fraction of the exact top-10 ids (from the flat collection holding the same vectors) that HNSW returned. The database was reopened (recovered from its WAL) before searching.");
        Line(sb);
        Line(sb, "| Search | Recall@10 | QPS | Mean latency (ms) |");
        Line(sb, "|---|---:|---:|---:|");
        foreach (SweepRow r in sweep)
        {
            Line(sb, $"| {r.Label} | {r.Recall:0.000} | {F(r.Qps)} | {1000 / r.Qps:0.000} |");
        }

        Line(sb);
        Line(sb, "![recall@10 vs QPS](store-recall-qps.png)");
        Line(sb);
        sb.Append(Trust.FigureTable.Render(InsertFigures(rows, flatN, hnswN).Concat(peers.SelectMany(PeerReport.Figures))));
        PeerReport.Section(sb, peers, peerCharts);
        MachineSection(sb, m, options);
        return sb.ToString();
    }
}

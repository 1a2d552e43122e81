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
/// The <c>stall</c> verb (issue goal 1): the longest single insert while a checkpoint of a large store runs, against
/// the same writer's latency outside checkpoints; plus, in full mode, a checkpoint larger than 2 GiB.
/// Writes <c>stall.md</c> and <c>stall.png</c>.
/// </summary>
internal sealed class StallBench(VerbOptions options)
{
    private const string Verb = "stall";
    private const string Collection = "c";
    private const double GoalMs = 5;

    // Distinct vectors the writers of an HNSW scenario cycle through: a fifth of the store (more than they insert in full mode).
    private static int HnswWriterVectors(Scenario s) => Math.Max(1_000, s.Count / 5);

    private sealed record Scenario(string Name, IndexKind Kind, int Count, int Dim);

    private sealed record ScenarioResult(Scenario Scenario, int SyncMs, double FillSeconds, IReadOnlyList<StallRound> Rounds)
    {
        /// <summary>MB promoted out of gen0 and gen1 by each collection during the row's rounds (runtime GC events).</summary>
        public double[] PromotedMb { get; init; } = [];

        /// <summary>Every collection over the row's rounds (checkpoints and the windows around them), whoever triggered it.</summary>
        public RowGc Gc { get; init; } = new(0, 0, 0, 0, 0);

        /// <summary>The row's usual pace: the median CPU time per unit of work over its inserts (see <see cref="InsertSample.IsMachineStall"/>), µs.</summary>
        public double UsualCpuMicrosPerUnit { get; init; } = double.NaN;

        public string Label => $"{Scenario.Name}, SyncIntervalMs = {SyncMs}";
    }

    /// <summary>GC figures over a row's rounds: collections by highest generation, total pause, and the longest one.</summary>
    /// <param name="Gen0">Collections of generation 0 only.</param>
    /// <param name="Gen1">Collections of generation 1 (not 2).</param>
    /// <param name="Gen2">Collections of generation 2.</param>
    /// <param name="PauseMs">Total GC pause time (<see cref="GC.GetTotalPauseDuration"/>).</param>
    /// <param name="LongestPauseMs">The longest single pause of an ephemeral (gen0/gen1) collection the writer sat in.</param>
    private sealed record RowGc(int Gen0, int Gen1, int Gen2, double PauseMs, double LongestPauseMs);

    private sealed record LargeResult(Scenario Scenario, double FillSeconds, StallRound? Round, double ReopenMs, long ReopenCount, string? Error);

    public int Run()
    {
        bool quick = options.Quick;
        (int? flatSize, int? hnswSize, int? roundsOption) = options.StallSizes;
        int flat = flatSize ?? (quick ? 20_000 : 1_000_000);
        int hnsw = hnswSize ?? (quick ? 2_000 : 200_000);
        Scenario[] scenarios =
            [new($"flat {flat:N0} x 128", IndexKind.Flat, flat, 128), new($"HNSW {hnsw:N0} x 768", IndexKind.Hnsw, hnsw, 768)];
        int rounds = roundsOption ?? (quick ? 2 : 3);
        bool resized = flatSize is not null || hnswSize is not null || roundsOption is not null;
        double window = quick ? 0.3 : 1.0;
        Directory.CreateDirectory(options.OutDir);
        string work = NewWorkDir(Verb);
        try
        {
            MachineInfo machine = MachineInfo.Collect(work);
            // The machine's own stalls first, idle and while checkpoint-sized files are written (before any store exists).
            long fileBytes = scenarios.Max(s => (long)s.Count * ((s.Dim * 4) + 64));
            double calibrationSeconds = quick ? 2 : 10;
            Say(Verb, $"calibration: spinning {calibrationSeconds:0} s idle, then {calibrationSeconds:0} s while {fileBytes / 1e6:0} MB files are written as a checkpoint writes them");
            MachineCalibration calibration = MachineStallCalibration.Run(Path.Combine(work, "calibration"), fileBytes, calibrationSeconds);
            Say(Verb, $"  idle: {GapsLine(calibration.Idle)}");
            Say(Verb, $"  writing ({calibration.Files} files, {calibration.WrittenMb / calibration.WriteSeconds:0} MB/s): {GapsLine(calibration.Writing)}");
            var results = new List<ScenarioResult>();
            using var gcEvents = new GcHeapStatsListener();
            using var walEvents = new WalEventListener();
            foreach (Scenario s in scenarios)
            {
                results.AddRange(RunScenario(s, work, rounds, window, gcEvents, walEvents));
            }

            LargeResult? large = null;
            if (!quick && !resized)
            {
                large = RunLarge(new Scenario("flat 4,500,000 x 128", IndexKind.Flat, 4_500_000, 128), work, window, walEvents);
            }

            string png = Path.Combine(options.OutDir, "stall.png");
            Chart(results, png);
            string md = Path.Combine(options.OutDir, "stall.md");
            File.WriteAllText(md, Report(machine, calibration, results, large, rounds, window));
            Say(Verb, $"wrote {md} and {png}");
            return 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    private static VectorDatabase Open(string dir, int syncMs) =>
        VectorDatabase.Open(dir, new VectorDatabaseOptions
        {
            // No automatic checkpoints (count or WAL size): the probe's manual checkpoint is the only one.
            Wal = WalConfig.HighThroughput with { SyncIntervalMs = syncMs, CheckpointInterval = int.MaxValue, MaxWalSize = 1L << 40 },
        });

    private static float[][] Pool(Scenario s, int size) =>
        s.Kind == IndexKind.Flat ? Uniform(size, s.Dim, 17) : Clustered(size, 0, s.Dim, 64, 0.4, 17).Points;

    private static double Fill(VectorDatabase db, Scenario s, float[][] pool)
    {
        db.CreateCollection(Collection, new CollectionOptions(s.Dim) { Metric = DistanceMetric.Euclidean, Index = s.Kind });
        long t = Stopwatch.GetTimestamp();
        const int Batch = 1_000;
        for (int i = 0; i < s.Count; i += Batch)
        {
            int from = i;
            _ = db.InsertBatch(Collection, Enumerable.Range(from, Math.Min(Batch, s.Count - from))
                .Select(j => new VectorRecord(Id("f", j), pool[j % pool.Length], EmptyMetadata)));
        }

        return Stopwatch.GetElapsedTime(t).TotalSeconds;
    }

    private static readonly Dictionary<string, MetadataValue> EmptyMetadata = [];

    /// <summary>Fills the store once, then probes with SyncIntervalMs = 1000 and (reopened from its checkpoint) 0.</summary>
    private static List<ScenarioResult> RunScenario(Scenario s, string work, int rounds, double window, GcHeapStatsListener gcEvents, WalEventListener walEvents)
    {
        string dir = Path.Combine(work, s.Kind.ToString());
        // HNSW: distinct vectors from one distribution (graph work depends on them), the writers' after the fill's;
        // flat vectors cycle through a smaller pool shared by the fill and the writers.
        float[][] all = Pool(s, s.Kind == IndexKind.Hnsw ? s.Count + HnswWriterVectors(s) : Math.Min(s.Count, 100_000));
        float[][] pool = s.Kind == IndexKind.Hnsw ? all[..s.Count] : all;
        float[][] writerPool = s.Kind == IndexKind.Hnsw ? all[s.Count..] : all;
        var results = new List<ScenarioResult>();
        double fill;
        Say(Verb, $"{s.Name}: filling");
        using (VectorDatabase db = Open(dir, 1000))
        {
            fill = Fill(db, s, pool);
            results.Add(Probe(db, s, writerPool, 1000, fill, rounds, window, gcEvents, walEvents));
        }

        Say(Verb, $"{s.Name}: reopening with SyncIntervalMs = 0");
        using (VectorDatabase db = Open(dir, 0))
        {
            results.Add(Probe(db, s, writerPool, 0, fill, rounds, window, gcEvents, walEvents));
        }

        TryDelete(dir);
        return results;
    }

    private static int WarmUpInserts(int syncMs) => syncMs == 0 ? 200 : 2_000;

    private static ScenarioResult Probe(VectorDatabase db, Scenario s, float[][] pool, int syncMs, double fill, int rounds, double window, GcHeapStatsListener gcEvents, WalEventListener walEvents)
    {
        _ = gcEvents.TakePromotedMb(); // the fill's and the previous row's collections
        _ = gcEvents.TakeRecords();
        // Warm-up: JIT and the writer's code paths, not measured (fewer with an fsync per commit).
        for (int i = 0; i < WarmUpInserts(syncMs); i++)
        {
            _ = db.Insert(Collection, Id($"warm{syncMs}-", i), pool[i % pool.Length]);
        }

        var list = new List<StallRound>();
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        TimeSpan pause0 = GC.GetTotalPauseDuration();
        for (int r = 0; r < rounds; r++)
        {
            Say(Verb, $"{s.Name}, SyncIntervalMs = {syncMs}: checkpoint round {r + 1}/{rounds}");
            StallRound round = CheckpointStallProbe.Run(db, Collection, pool, $"w{syncMs}-{r}-", window, window, walEvents);
            Say(Verb, round.Error ?? $"  checkpoint {round.CheckpointWallMs:0} ms, {round.Info!.Bytes / 1e6:0.0} MB, WriteStallMs {round.Info.WriteStallMs:0.00}, GC pause during {round.Window.GcPauseMs:0.0} ms ({round.Window.Gen0}/{round.Window.Gen1}/{round.Window.Gen2} gen0/1/2, {round.Window.AllocatedMb:0} MB allocated, {round.Window.CheckpointThreadMb:0.00} MB of it by the checkpoint's thread; the writer {round.Window.WriterBytesPerInsert:0} B per insert), dirty peak {round.Window.MaxDirtyMb:0} MB, inserts over {GoalMs:0} ms {round.CountOver(GoalMs, true)} during / {round.CountOver(GoalMs, false)} outside");
            double usual = UsualPace([round]);
            Say(Verb, $"  longest during: {round.LongestDuring?.Describe(usual) ?? "none"}");
            Say(Verb, $"  longest outside: {round.LongestOutside?.Describe(usual) ?? "none"}");
            Say(Verb, $"  WAL: {WalSummary([round])}");
            Say(Verb, $"  copy-on-write by the writer during the checkpoint: {round.CopyOnWrite.Copies:N0} copies, {round.CopyOnWrite.Bytes / 1e6:0.0} MB");
            foreach (string line in IndexWorkLines(round))
            {
                Say(Verb, "  " + line);
            }

            list.Add(round);
            foreach (GcRecord record in gcEvents.TakeRecords())
            {
                Say(Verb, $"  {record.Describe()}");
            }
        }

        // Events arrive a little after their collection: the rounds end with a window of inserts, so all but the last few are in.
        int gen2 = GC.CollectionCount(2) - g2, gen1 = GC.CollectionCount(1) - g1 - gen2, gen0 = GC.CollectionCount(0) - g0 - gen1 - gen2;
        double longest = list.SelectMany(x => x.Samples).Select(x => x.GcPauseMs).DefaultIfEmpty(0).Max();
        var gc = new RowGc(gen0, gen1, gen2, (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds, longest);
        Say(Verb, $"  row GC: {gc.Gen0}/{gc.Gen1}/{gc.Gen2} gen0/1/2 collections, {gc.PauseMs:0.0} ms paused, longest pause inside an insert {gc.LongestPauseMs:0.00} ms");
        return new ScenarioResult(s, syncMs, fill, list) { PromotedMb = gcEvents.TakePromotedMb(), Gc = gc, UsualCpuMicrosPerUnit = UsualPace(list) };
    }

    /// <summary>A store whose checkpoint exceeds 2 GiB: one probe round, then a reopen from that checkpoint.</summary>
    private static LargeResult RunLarge(Scenario s, string work, double window, WalEventListener walEvents)
    {
        string dir = Path.Combine(work, "large");
        float[][] pool = Pool(s, 100_000);
        double fill;
        StallRound? round;
        Say(Verb, $"{s.Name}: filling (checkpoint above 2 GiB)");
        try
        {
            using (VectorDatabase db = Open(dir, 1000))
            {
                fill = Fill(db, s, pool);
                round = CheckpointStallProbe.Run(db, Collection, pool, "wl-", window, window, walEvents);
                Say(Verb, round.Error ?? $"  checkpoint {round.CheckpointWallMs:0} ms, {round.Info!.Bytes / 1e9:0.00} GB");
            }

            if (round.Error is not null)
            {
                return new LargeResult(s, fill, round, double.NaN, 0, round.Error);
            }

            long t = Stopwatch.GetTimestamp();
            using VectorDatabase reopened = Open(dir, 1000);
            double ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            return new LargeResult(s, fill, round, ms, reopened.Count(Collection), null);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OutOfMemoryException)
        {
            return new LargeResult(s, double.NaN, null, double.NaN, 0, $"{ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
        }
        finally
        {
            TryDelete(dir);
        }
    }

    /// <summary>The usual pace of <paramref name="rounds"/>' inserts: their median CPU time per unit of work, µs (see <see cref="InsertSample.IsMachineStall"/>).</summary>
    private static double UsualPace(IEnumerable<StallRound> rounds) =>
        Percentile([.. rounds.Where(r => r.Error is null).SelectMany(r => r.Samples).Select(x => x.CpuMicrosPerUnit).Order()], 0.5);

    /// <summary>One calibration phase's gaps in a line, for the console.</summary>
    private static string GapsLine(SpinGaps g) =>
        $"{g.Seconds:0.0} s, {g.Iterations:N0} readings; gaps without a context switch: longest {g.LongestQuietMs:0.00} ms, over 1 / 2 / 5 / 10 ms {g.QuietOver(1)} / {g.QuietOver(2)} / {g.QuietOver(5)} / {g.QuietOver(10)}, {g.QuietMs:0} ms lost ({g.QuietCpuMs:0} ms of it charged as CPU); with a switch: longest {g.LongestSwitchedMs:0.00} ms, {g.SwitchedGapsMs.Count(x => x > 5)} over 5 ms";

    /// <summary>
    /// The WAL's share of the slow inserts (over the goal) of <paramref name="rounds"/>, during / outside the checkpoint:
    /// in a rotation, in a segment fsync (and of those, one a control fdatasync overlapped), elsewhere; then the
    /// segment fsyncs during and outside (count, p50 / p99 / longest ms), the rotations and the control writes.
    /// </summary>
    private static string WalSummary(IReadOnlyCollection<StallRound> rounds)
    {
        string Share(bool during)
        {
            WalShare[] shares = [.. rounds.SelectMany(r => r.Samples.Where(x => x.Ms > GoalMs && r.IsDuring(x) == during).Select(r.WalShareOf))];
            return $"{shares.Count(x => x == WalShare.Rotation)} / {shares.Count(x => x is WalShare.Fsync or WalShare.FsyncWithControlWrite)} ({shares.Count(x => x == WalShare.FsyncWithControlWrite)}) / {shares.Count(x => x == WalShare.OtherThreadsFsync)} / {shares.Count(x => x == WalShare.Other)}";
        }

        string Events(WalEventKind kind, bool? during)
        {
            double[] ms = [.. rounds.SelectMany(r => r.WalEvents.Where(e => e.Kind == kind && (during is null || r.IsDuring(e) == during))).Select(e => e.Ms).Order()];
            return ms.Length == 0 ? "none" : $"{ms.Length}, {Percentile(ms, 0.5):0.00} / {Percentile(ms, 0.99):0.00} / {ms[^1]:0.00}";
        }

        return $"slow inserts during: {Share(true)}, outside: {Share(false)} (rotation / own fsync (control write overlapping) / another thread's fsync / other); " +
            $"segment fsyncs during: {Events(WalEventKind.SegmentFsync, true)}, outside: {Events(WalEventKind.SegmentFsync, false)}; " +
            $"rotations from a spare: {Events(WalEventKind.Rotation, null)}, without one: {Events(WalEventKind.RotationWithoutSpare, null)}; control writes during: {Events(WalEventKind.ControlWrite, true)}, outside: {Events(WalEventKind.ControlWrite, false)} (count, p50 / p99 / longest ms)";
    }

    /// <summary>
    /// What the HNSW index did inside the inserts of <paramref name="round"/> (the add's own counters), by group: the
    /// inserts over the goal during the checkpoint, the others during it, and those outside it; medians per insert. Empty
    /// for an index of another kind.
    /// </summary>
    private static IEnumerable<string> IndexWorkLines(StallRound round)
    {
        InsertSample[] all = [.. round.Samples.Where(x => x.Work is not null)];
        if (all.Length == 0)
        {
            yield break;
        }

        (string Name, InsertSample[] Samples)[] groups =
        [
            ($"over {GoalMs:0} ms during", [.. all.Where(x => round.IsDuring(x) && x.Ms > GoalMs)]),
            ($"others during", [.. all.Where(x => round.IsDuring(x) && x.Ms <= GoalMs)]),
            ($"over {GoalMs:0} ms outside", [.. all.Where(x => !round.IsDuring(x) && x.Ms > GoalMs)]),
            ("others outside", [.. all.Where(x => !round.IsDuring(x) && x.Ms <= GoalMs)]),
        ];
        foreach ((string name, InsertSample[] g) in groups)
        {
            if (g.Length > 0)
            {
                yield return $"index work, {name} ({g.Length}): {WorkSummary(g)}";
            }
        }

        yield return $"slow during, by index work: {SlowWorkKinds(groups[0].Samples, groups[1].Samples)}";
        foreach (InsertSample x in all.Where(x => round.IsDuring(x) && x.Ms > GoalMs).OrderByDescending(x => x.Ms).Take(5))
        {
            yield return $"  slow during: {x.Ms:0.00} ms ({x.Cause}): {WorkOf(x.Work!.Value)}";
        }
    }

    /// <summary>Medians per insert of the index's counters over <paramref name="g"/>.</summary>
    private static string WorkSummary(InsertSample[] g)
    {
        double Med(Func<HnswWriteStats, double> pick) => Percentile([.. g.Select(x => pick(x.Work!.Value)).Order()], 0.5);
        double[] nsPerDistance = [.. g.Where(x => x.Work!.Value.Distances > 0).Select(x => HnswWriteStats.Ms(x.Work!.Value.SearchTicks) * 1e6 / x.Work!.Value.Distances).Order()];
        return $"insert {Percentile([.. g.Select(x => x.Ms).Order()], 0.5):0.000} ms, in the index {Med(w => HnswWriteStats.Ms(w.AddTicks)):0.000} (lock wait {Med(w => HnswWriteStats.Ms(w.LockWaitTicks)):0.000}, search {Med(w => HnswWriteStats.Ms(w.SearchTicks)):0.000}, link {Med(w => HnswWriteStats.Ms(w.LinkTicks)):0.000}, copies {Med(w => HnswWriteStats.Ms(w.CopyTicks)):0.000}), {Med(w => w.Copies):0} copies ({Med(w => w.CopiedBytes) / 1e3:0} KB), {Med(w => w.Distances):0} distances, {Med(w => w.Expanded):0} expanded, {Med(w => w.Prunes):0} prunes, {(nsPerDistance.Length == 0 ? double.NaN : Percentile(nsPerDistance, 0.5)):0} ns per distance (median; max {(nsPerDistance.Length == 0 ? double.NaN : nsPerDistance[^1]):0})";
    }

    /// <summary>
    /// The slow inserts <paramref name="slow"/> against the <paramref name="others"/> of the same window: how many did
    /// more work (at least 1.5 times the others' median distances), how many spent at least half their time copying for
    /// the view, how many did the usual work at a slower pace (search ns per distance at least 3 times the others'
    /// median), and the rest (time outside the index: the WAL, the collection, a GC pause; or in its linking).
    /// </summary>
    private static string SlowWorkKinds(InsertSample[] slow, InsertSample[] others)
    {
        if (slow.Length == 0 || others.Length == 0)
        {
            return "none";
        }

        double distances = Percentile([.. others.Select(x => (double)x.Work!.Value.Distances).Order()], 0.5);
        double pace = Percentile([.. others.Where(x => x.Work!.Value.Distances > 0).Select(x => (double)x.Work!.Value.SearchTicks / x.Work!.Value.Distances).Order()], 0.5);
        int more = 0, copying = 0, slower = 0, outside = 0;
        foreach (InsertSample x in slow)
        {
            HnswWriteStats w = x.Work!.Value;
            if (w.Distances >= 1.5 * distances)
            {
                more++;
            }
            else if (HnswWriteStats.Ms(w.CopyTicks) * 2 >= x.Ms)
            {
                copying++;
            }
            else if (w.Distances > 0 && w.SearchTicks / (double)w.Distances >= 3 * pace)
            {
                slower++;
            }
            else
            {
                outside++;
            }
        }

        return $"more work (≥ 1.5x the distances) {more} / copying for the view (≥ half the insert) {copying} / the usual work at ≥ 3x the pace (search ns per distance) {slower} / other (neither: the time went outside the index, or into its linking) {outside}";
    }

    private static string WorkOf(HnswWriteStats w) =>
        $"in the index {HnswWriteStats.Ms(w.AddTicks):0.00} ms (lock wait {HnswWriteStats.Ms(w.LockWaitTicks):0.00}, search {HnswWriteStats.Ms(w.SearchTicks):0.00}, link {HnswWriteStats.Ms(w.LinkTicks):0.00}, copies {HnswWriteStats.Ms(w.CopyTicks):0.00}), {w.Copies} copies ({w.CopiedBytes / 1e3:0} KB), {w.Distances} distances, {w.Expanded} expanded, {w.Prunes} prunes, {(w.Distances == 0 ? double.NaN : HnswWriteStats.Ms(w.SearchTicks) * 1e6 / w.Distances):0} ns per distance";

    /// <summary>"n, median / longest ms" of the GC pauses the writer sat in (a pause inside an insert).</summary>
    private static string GcPauses(IEnumerable<StallRound> rounds)
    {
        double[] pauses = [.. rounds.SelectMany(x => x.Samples).Where(x => x.GcPauseTicks > 0).Select(x => x.GcPauseMs).Order()];
        return pauses.Length == 0 ? "none" : $"{pauses.Length}, {Percentile(pauses, 0.5):0.00} / {pauses[^1]:0.00}";
    }

    private static string Promoted(double[] mb)
    {
        double[] sorted = [.. mb.Order()];
        return sorted.Length == 0 ? "no GC events" : $"{sorted.Length}, {Percentile(sorted, 0.5):0.0} / {sorted[^1]:0.0}";
    }

    private static Spread Of(IEnumerable<StallRound> rounds, Func<StallRound, double> pick) => Spread.Of(rounds.Where(r => r.Error is null).Select(pick));

    private static void Chart(List<ScenarioResult> results, string path)
    {
        string[] groups = [.. results.Select(r => r.Label)];
        (string Name, Func<StallRound, double> Pick)[] series =
        [
            ("p50 outside checkpoints", r => Percentile(r.Outside, 0.50)),
            ("p99 outside", r => Percentile(r.Outside, 0.99)),
            ("p99.9 outside", r => Percentile(r.Outside, 0.999)),
            ("longest outside", r => r.Outside.Length == 0 ? double.NaN : r.Outside[^1]),
            ("longest insert during a checkpoint", r => r.MaxDuringMs),
            ("CheckpointInfo.WriteStallMs", r => r.Info?.WriteStallMs ?? double.NaN),
        ];
        BarSeries[] bars = [.. series.Select((s, i) => new BarSeries(s.Name, ScaleCharts.Palette[i], [.. results.Select(r => Of(r.Rounds, s.Pick))]))];
        ScaleCharts.GroupedBars(
            path,
            "Insert latency around a checkpoint (1 writer thread, single-insert commits; median of rounds, min–max whiskers)",
            "insert latency (log scale)",
            groups,
            bars,
            log: true,
            ScaleCharts.Millis,
            (GoalMs, $"goal: no insert waits more than {GoalMs:0} ms"));
    }

    /// <summary>
    /// The calibration (what the machine itself does to a thread that never leaves the CPU) and, per row, which slow
    /// inserts were machine stalls and which were not: the latter are what a checkpoint (or the WAL, a GC, another
    /// thread) can have caused.
    /// </summary>
    private static void MachineStallSection(StringBuilder sb, MachineCalibration c, List<ScenarioResult> results)
    {
        SpinGaps idle = c.Idle, writing = c.Writing;
        double charged = idle.QuietMs + writing.QuietMs <= 0 ? double.NaN : (idle.QuietCpuMs + writing.QuietCpuMs) / (idle.QuietMs + writing.QuietMs);
        Line(sb, "### The machine's own stalls");
        Line(sb);
        Line(sb, $"Before the rows (no store open), a probe thread spun reading the clock and its own context switch counts (`getrusage(RUSAGE_THREAD)`, as the writer does around each insert) for {idle.Seconds:0.0} s with nothing else running in the process, then for {writing.Seconds:0.0} s while another thread wrote {c.Files} files of {c.FileBytes / 1e6:0} MB ({c.WrittenMb:0} MB, {c.WrittenMb / c.WriteSeconds:0} MB/s) into the data directory exactly as a checkpoint writes its files (`CheckpointFiles.WriteFile`: the same write-back windows, the same fsync of each file, then of the directory). A *quiet gap* is a gap of at least {MachineStallCalibration.GapThresholdMs:0} ms between two consecutive readings with no context switch over it, voluntary or involuntary: the kernel never took the thread off the CPU, yet it made no progress. That is interrupt work charged to the running thread, or its virtual CPU stopped by the hypervisor (the guest's clocks run on); {(double.IsNaN(charged) ? "there were none" : $"{charged:P0} of the quiet gaps' time was charged to the thread as CPU time")}. Nothing in this process can cause or avoid it.");
        Line(sb);
        Line(sb, "| Phase | Spun (s) | Clock readings | Longest quiet gap (ms) | Quiet gaps over 1 / 2 / 5 / 10 ms | Time lost in quiet gaps (ms, share of the phase) | Longest gap with a context switch (ms) | Gaps with a switch over 5 ms |");
        Line(sb, "|---|---:|---:|---:|---|---:|---:|---:|");
        foreach ((string name, SpinGaps g) in new[] { ("idle", idle), ($"writing {c.FileBytes / 1e6:0} MB files as a checkpoint does", writing) })
        {
            Line(sb, $"| {name} | {g.Seconds:0.0} | {g.Iterations:N0} | {g.LongestQuietMs:0.00} | {g.QuietOver(1)} / {g.QuietOver(2)} / {g.QuietOver(5)} / {g.QuietOver(10)} | {g.QuietMs:0} ({g.QuietMs / (g.Seconds * 1000):P1}) | {g.LongestSwitchedMs:0.00} | {g.SwitchedGapsMs.Count(x => x > 5)} |");
        }

        Line(sb);
        Line(sb, $"**What the machine itself does:** a thread that never leaves the CPU lost up to **{idle.LongestQuietMs:0.0} ms** at once with the machine idle ({idle.QuietOver(GoalMs)} quiet gaps over {GoalMs:0} ms in {idle.Seconds:0} s) and up to **{writing.LongestQuietMs:0.0} ms** while checkpoint-sized files were written ({writing.QuietOver(GoalMs)} over {GoalMs:0} ms in {writing.Seconds:0} s). An insert that meets such a stall takes that long whatever the engine does. The goal's figure above is still the longest insert as measured, machine stalls included: it is **not met** whenever that is over {GoalMs:0} ms.");
        Line(sb);
        Line(sb, $"Which slow inserts (over {GoalMs:0} ms) were machine stalls, all rounds. An insert is a *machine stall* when its time went at {InsertSample.MachineStallPace:0}x the row's usual pace or slower with nothing in the process to show for it: not a GC pause, not (HNSW) half of it copying for the checkpoint's view, and either with no context switch at all over it (its wall time per unit of work at least {InsertSample.MachineStallPace:0} times the row's median CPU time per unit), or with at least half of it charged to the writer thread as CPU time at {InsertSample.MachineStallPace:0} times that median or more. A unit of work is an insert for a flat index, a distance computed for HNSW. A context switch cannot make either: a thread switched out (preempted, or blocked waiting for its own fsync) is off the CPU, counts the switch, and its CPU clock stops; what is left is the quiet gaps above. The others are the inserts a checkpoint, the WAL, a GC or another thread can have caused: the tables below say which.");
        Line(sb);
        Line(sb, "| Store | Sync policy | Usual pace (median CPU) | Slow during | Of them machine stalls | The others: blocked / preempted / GC pause / on CPU below that pace (work) | Longest during that was not a machine stall (ms) | Slow outside | Of them machine stalls | Longest outside that was not a machine stall (ms) |");
        Line(sb, "|---|---|---|---:|---:|---|---:|---:|---:|---:|");
        foreach (ScenarioResult r in results)
        {
            StallRound[] ok = [.. r.Rounds.Where(x => x.Error is null)];
            double usual = r.UsualCpuMicrosPerUnit;
            InsertSample[] during = [.. ok.SelectMany(x => x.Samples.Where(y => x.IsDuring(y) && y.Ms > GoalMs))];
            InsertSample[] outside = [.. ok.SelectMany(x => x.Samples.Where(y => !x.IsDuring(y) && y.Ms > GoalMs))];
            InsertSample[] others = [.. during.Where(x => !x.IsMachineStall(usual))];
            string Longest(IEnumerable<InsertSample> xs) => xs.Select(x => x.Ms).DefaultIfEmpty(double.NaN).Max() is double v && !double.IsNaN(v) ? v.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "none";
            string pace = r.Scenario.Kind == IndexKind.Hnsw ? $"{usual * 1000:0} ns per distance" : $"{usual:0.0} µs per insert";
            Line(sb, $"| {r.Scenario.Name} | SyncIntervalMs = {r.SyncMs} | {pace} | {during.Length} | {during.Length - others.Length} ({during.Count(x => x.IsMachineStall(usual) && x.NoContextSwitch)} with no context switch at all) | {others.Count(x => x.Cause == SlowCause.Blocked)} / {others.Count(x => x.Cause == SlowCause.Preempted)} / {others.Count(x => x.Cause == SlowCause.GcPause)} / {others.Count(x => x.Cause is SlowCause.OnCpu or SlowCause.OnCpuKernel)} | {Longest(others)} | {outside.Length} | {outside.Count(x => x.IsMachineStall(usual))} ({outside.Count(x => x.IsMachineStall(usual) && x.NoContextSwitch)} with no context switch at all) | {Longest(outside.Where(x => !x.IsMachineStall(usual)))} |");
        }

        Line(sb);
    }

    private string Report(MachineInfo m, MachineCalibration calibration, List<ScenarioResult> results, LargeResult? large, int rounds, double window)
    {
        var sb = new StringBuilder();
        Line(sb, "# OxiVec checkpoint stall benchmark (issue goal 1)");
        Line(sb);
        Line(sb, $"Generated by the `{Verb}` verb of bench/OxiVec.Benchmarks on {m.Date:yyyy-MM-dd}. Goal: **a write never waits more than {GoalMs:0} ms for a checkpoint**, whatever the store's size.");
        Line(sb);
        QuickBanner(sb, options);
        Line(sb, "## Method");
        Line(sb);
        Line(sb, "- The store is filled through `VectorDatabase.InsertBatch` (batches of 1,000; Euclidean; flat vectors uniform in [-1, 1) cycling through a pool of at most 100,000, HNSW vectors from 64 Gaussian clusters (the writers' vectors are other draws from the same clusters), default HNSW parameters M = 16, efConstruction = 200). Automatic checkpoints are off (CheckpointInterval = int.MaxValue, MaxWalSize = 1 TiB) so the measured checkpoint is the only one.");
        Line(sb, $"- One writer thread then inserts continuously, one record per `Insert` call (a commit each), timing every call, at most {CheckpointStallProbe.MaxInsertsPerSecond:N0} inserts/s (ahead of that schedule it sleeps 1 ms, so a long checkpoint does not grow the store by millions of records; HNSW writers and fsync-per-commit writers never reach it). After {window:0.0} s the main thread calls `VectorDatabase.Checkpoint()`; the writer goes on for {window:0.0} s after it returns. An insert is *during* the checkpoint when its call overlapped the `Checkpoint()` call, *outside* otherwise (the windows before and after).");
        Line(sb, $"- {rounds} checkpoint rounds per row, on the same store (it grows by what the writer adds); figures are the median over the rounds with (min–max). Each sync policy row follows a warm-up of {WarmUpInserts(1000):N0} inserts ({WarmUpInserts(0):N0} with SyncIntervalMs = 0). The SyncIntervalMs = 0 row reopens the same store (recovered from the last checkpoint of the row above), so every insert waits for its fsync there.");
        Line(sb, "- *WriteStallMs* is the engine's own `CheckpointInfo.WriteStallMs`; *longest insert during* is what the writer measured, the goal's figure.");
        Line(sb, "- Before the rows, a calibration measures what the machine itself does to a thread that never leaves the CPU, idle and while checkpoint-sized files are written (*The machine's own stalls* below); each slow insert is then classed as a machine stall or not.");
        Line(sb);
        Line(sb, "## Results");
        Line(sb);
        Line(sb, "| Store (index, vectors x dims, warm page cache) | Sync policy | Fill (inserts/s) | Checkpoint wall (ms) | Checkpoint size (MB) | WriteStallMs | Longest insert during (ms) | p50 / p99 during (ms) | Inserts during | p50 / p99 / p99.9 outside (ms) | Longest outside (ms) | Longest during / p99.9 outside | Goal ≤ 5 ms |");
        Line(sb, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (ScenarioResult r in results)
        {
            StallRound[] ok = [.. r.Rounds.Where(x => x.Error is null)];
            Spread maxDuring = Of(ok, x => x.MaxDuringMs);
            Spread p999 = Of(ok, x => Percentile(x.Outside, 0.999));
            string verdict = ok.Length < r.Rounds.Count ? $"checkpoint failed in {r.Rounds.Count - ok.Length} round(s)"
                : ok.All(x => !(x.MaxDuringMs > GoalMs)) ? $"**met** in all {ok.Length} rounds"
                : $"**not met** ({ok.Count(x => x.MaxDuringMs > GoalMs)} of {ok.Length} rounds over)";
            Line(sb, $"| {r.Scenario.Name} | SyncIntervalMs = {r.SyncMs}, 1 writer thread | {N(r.Scenario.Count / r.FillSeconds)} (batches of 1,000, SyncIntervalMs = 1000) | {S(Of(ok, x => x.CheckpointWallMs), "0")} | {S(Of(ok, x => x.Info!.Bytes / 1e6), "0.0")} | {S(Of(ok, x => x.Info!.WriteStallMs))} | {S(maxDuring)} | {S(Of(ok, x => Percentile(x.During, 0.5)), "0.000")} / {S(Of(ok, x => Percentile(x.During, 0.99)), "0.000")} | {S(Of(ok, x => x.During.Length), "0")} | {S(Of(ok, x => Percentile(x.Outside, 0.5)), "0.000")} / {S(Of(ok, x => Percentile(x.Outside, 0.99)), "0.000")} / {S(p999, "0.000")} | {S(Of(ok, x => x.Outside.Length == 0 ? double.NaN : x.Outside[^1]))} | {maxDuring.Median / p999.Median:0.0}x | {verdict} |");
        }

        Line(sb);
        foreach (ScenarioResult r in results)
        {
            foreach (StallRound x in r.Rounds.Where(x => x.Error is not null))
            {
                Line(sb, $"- {r.Label}: checkpoint failed: `{x.Error}`");
            }
        }

        MachineStallSection(sb, calibration, results);

        Line(sb, "### What the slow inserts were");
        Line(sb);
        Line(sb, $"Each insert is timed with the GC pause that ended inside it (`GC.GetTotalPauseDuration` before and after; the highest generation collected) and the writer thread's own counters over it ({(ThreadUsage.Supported ? "" : "not available on this system: zeros; ")}CPU time from `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`, exact; its kernel share, context switches and page faults from `getrusage(RUSAGE_THREAD)`, the kernel share sampled at scheduler ticks). A slow insert is a *GC pause* when at least half of it was one, else *blocked* (off the CPU after blocking: a lock, I/O) or *preempted* (off the CPU while runnable: the 2 cores were busy) when at least half of it was off the CPU, else *on CPU, user* (work inside the insert) or *on CPU, kernel* (system calls, page faults, interrupt work charged to the thread) by which side at least half its CPU time was on. A virtual CPU stopped by its hypervisor is invisible from inside (no steal time is reported here): the guest clocks run on and charge that time to the running thread, so it shows as *on CPU*. Process figures over the checkpoint call: GC pause time and collections, bytes allocated (and of them, by the thread that ran the checkpoint: `GC.GetAllocatedBytesForCurrentThread` around the call), what the writer thread allocated per insert over the round (its id string included: its allocations set the pace of the gen0 collections), and the page cache's peak Dirty + Writeback (sampled every 20 ms; the machine's, not only this process's). *Promoted per collection* is what each collection of the row's rounds copied out of gen0 and gen1 (the runtime's GCHeapStats events, read in-process by an EventListener): a pause grows with it.");
        Line(sb);
        Line(sb, $"| Store | Sync policy | GC pause during checkpoint (ms) | Collections during (gen0 / gen1 / gen2) | Allocated during (MB) | Of it, by the checkpoint's thread (MB) | Writer allocated per insert (B) | Dirty + Writeback peak (MB) | Inserts over {GoalMs:0} ms during / outside | Slow inserts by cause, all rounds (GC pause / blocked / preempted / on CPU, user / on CPU, kernel) | Longest during was a GC pause | GC pauses inside inserts, all rounds (count, median / longest ms) | Promoted per collection, gen0 + gen1 (collections, median / largest MB) | All rounds: collections gen0 / gen1 / gen2, total pause (ms) |");
        Line(sb, "|---|---|---:|---|---:|---:|---:|---:|---|---|---|---|---|---|");
        foreach (ScenarioResult r in results)
        {
            StallRound[] ok = [.. r.Rounds.Where(x => x.Error is null)];
            InsertSample[] slow = [.. ok.SelectMany(x => x.Samples).Where(x => x.Ms > GoalMs)];
            int Cause(SlowCause c) => slow.Count(x => x.Cause == c);
            int gcLongest = ok.Count(x => x.LongestDuring is { Cause: SlowCause.GcPause });
            Line(sb, $"| {r.Scenario.Name} | SyncIntervalMs = {r.SyncMs} | {S(Of(ok, x => x.Window.GcPauseMs), "0.0")} | {S(Of(ok, x => x.Window.Gen0), "0")} / {S(Of(ok, x => x.Window.Gen1), "0")} / {S(Of(ok, x => x.Window.Gen2), "0")} | {S(Of(ok, x => x.Window.AllocatedMb), "0")} | {S(Of(ok, x => x.Window.CheckpointThreadMb), "0.00")} | {S(Of(ok, x => x.Window.WriterBytesPerInsert), "0")} | {S(Of(ok, x => x.Window.MaxDirtyMb), "0")} | {S(Of(ok, x => x.CountOver(GoalMs, true)), "0")} / {S(Of(ok, x => x.CountOver(GoalMs, false)), "0")} | {Cause(SlowCause.GcPause)} / {Cause(SlowCause.Blocked)} / {Cause(SlowCause.Preempted)} / {Cause(SlowCause.OnCpu)} / {Cause(SlowCause.OnCpuKernel)} | {gcLongest} of {ok.Length} rounds | {GcPauses(ok)} | {Promoted(r.PromotedMb)} | {r.Gc.Gen0} / {r.Gc.Gen1} / {r.Gc.Gen2}, {r.Gc.PauseMs:0.0} |");
        }

        Line(sb);
        Line(sb, $"What the WAL was doing in the inserts over {GoalMs:0} ms, all rounds, from the durations the WAL publishes on its meter (`OxiVec.Wal`: each segment fsync, the write-path part of each rotation, from a ready spare or without one, each control file write with its fdatasync), placed in time by an in-process `MeterListener`. A slow insert is *rotation* when a rotation held the write path during it, else *own fsync* when segment fsyncs run by the writer thread itself (its commits') cover at least half of it (in brackets: those whose fsync a control fdatasync overlapped), else *another thread's fsync* when fsyncs run by other threads (one it queued behind, or with an interval policy the background fsync beside it, which it does not wait for) cover at least half of it, else *other*. Segment fsyncs *during* overlapped the checkpoint call: against those *outside*, they show what the checkpoint's write-back costs a commit's fsync.");
        Line(sb);
        Line(sb, "| Store | Sync policy | WAL |");
        Line(sb, "|---|---|---|");
        foreach (ScenarioResult r in results)
        {
            Line(sb, $"| {r.Scenario.Name} | SyncIntervalMs = {r.SyncMs} | {WalSummary([.. r.Rounds.Where(x => x.Error is null)])} |");
        }

        Line(sb);
        Line(sb, "Copy-on-write during the checkpoint call: what the index copied because the checkpoint's captured view shared the chunks (and upper-layer lists) the writer's inserts changed, per round (copies, MB; median (min–max)). Only an HNSW index keeps a view; it lives until the index file is written.");
        Line(sb);
        Line(sb, "| Store | Sync policy | Copies | MB copied |");
        Line(sb, "|---|---|---:|---:|");
        foreach (ScenarioResult r in results)
        {
            StallRound[] ok = [.. r.Rounds.Where(x => x.Error is null)];
            Line(sb, $"| {r.Scenario.Name} | SyncIntervalMs = {r.SyncMs} | {S(Of(ok, x => x.CopyOnWrite.Copies), "0")} | {S(Of(ok, x => x.CopyOnWrite.Bytes / 1e6), "0.0")} |");
        }

        ScenarioResult[] hnswRows = [.. results.Where(r => r.Rounds.Any(x => x.Error is null && x.Samples.Any(y => y.Work is not null)))];
        if (hnswRows.Length > 0)
        {
            Line(sb);
            Line(sb, $"What the HNSW index did inside the inserts, all rounds, from the index's own counters read around each insert (`HnswIndex.WriteStats`: time in the add, its wait for the writer lock, its layer beam searches and its linking, the copy-on-write copies inside it, distances computed, nodes expanded, full neighbour lists re-selected), medians per insert by group. *ns per distance* is the search time over its distances: the same work at a slower pace points outside the insert's code (the memory system, or a virtual CPU the hypervisor stopped), more work or copies to the code.");
            Line(sb);
            Line(sb, "| Store | Sync policy | Group (inserts) | Index work per insert (medians) |");
            Line(sb, "|---|---|---|---|");
            foreach (ScenarioResult r in hnswRows)
            {
                StallRound[] ok = [.. r.Rounds.Where(x => x.Error is null)];
                (string Name, InsertSample[] Samples)[] groups =
                [
                    ($"over {GoalMs:0} ms during", [.. ok.SelectMany(x => x.Samples.Where(y => y.Work is not null && x.IsDuring(y) && y.Ms > GoalMs))]),
                    ("others during", [.. ok.SelectMany(x => x.Samples.Where(y => y.Work is not null && x.IsDuring(y) && y.Ms <= GoalMs))]),
                    ($"over {GoalMs:0} ms outside", [.. ok.SelectMany(x => x.Samples.Where(y => y.Work is not null && !x.IsDuring(y) && y.Ms > GoalMs))]),
                    ("others outside", [.. ok.SelectMany(x => x.Samples.Where(y => y.Work is not null && !x.IsDuring(y) && y.Ms <= GoalMs))]),
                ];
                foreach ((string name, InsertSample[] g) in groups.Where(g => g.Samples.Length > 0))
                {
                    Line(sb, $"| {r.Scenario.Name} | SyncIntervalMs = {r.SyncMs} | {name} ({g.Length:N0}) | {WorkSummary(g)} |");
                }

                Line(sb, $"| {r.Scenario.Name} | SyncIntervalMs = {r.SyncMs} | over {GoalMs:0} ms during, by what their index work says | {SlowWorkKinds(groups[0].Samples, groups[1].Samples)} |");
            }

            Line(sb);
            Line(sb, $"The inserts over {GoalMs:0} ms during the checkpoint, slowest first (at most 5 per row):");
            Line(sb);
            foreach (ScenarioResult r in hnswRows)
            {
                foreach (InsertSample x in r.Rounds.Where(x => x.Error is null).SelectMany(x => x.Samples.Where(y => y.Work is not null && x.IsDuring(y) && y.Ms > GoalMs)).OrderByDescending(y => y.Ms).Take(5))
                {
                    Line(sb, $"- {r.Label}: {x.Describe(r.UsualCpuMicrosPerUnit)}; {WorkOf(x.Work!.Value)}.");
                }
            }
        }

        Line(sb);
        Line(sb, "The longest insert of each round, during the checkpoint and outside it:");
        Line(sb);
        foreach (ScenarioResult r in results)
        {
            foreach ((StallRound x, int i) in r.Rounds.Where(x => x.Error is null).Select((x, i) => (x, i)))
            {
                Line(sb, $"- {r.Label}, round {i + 1}: during {x.LongestDuring?.Describe(r.UsualCpuMicrosPerUnit) ?? "none"}; outside {x.LongestOutside?.Describe(r.UsualCpuMicrosPerUnit) ?? "none"}.");
            }
        }

        Line(sb);
        Line(sb, "![insert latency around a checkpoint](stall.png)");
        Line(sb);
        Line(sb, "## A checkpoint larger than 2 GiB");
        Line(sb);
        if (large is null)
        {
            Line(sb, "Not run in quick mode (it needs a 4.5M x 128 store, about 2.3 GB of vectors); the full mode runs it.");
        }
        else if (large.Error is not null)
        {
            Line(sb, $"{large.Scenario.Name} (flat, SyncIntervalMs = 1000, 1 writer thread): **the checkpoint failed**: `{large.Error}`. The engine cannot checkpoint this store; its WAL is never trimmed.");
        }
        else
        {
            StallRound x = large.Round!;
            Line(sb, $"{large.Scenario.Name} (flat, filled at {N(large.Scenario.Count / large.FillSeconds)} inserts/s in batches of 1,000, SyncIntervalMs = 1000, 1 writer thread, one round): checkpoint of **{x.Info!.Bytes / 1e9:0.00} GB** ({x.Info.Bytes / (double)(1L << 30):0.00} GiB) written in {x.CheckpointWallMs / 1000:0.0} s; WriteStallMs {x.Info.WriteStallMs:0.00}; longest insert during it **{x.MaxDuringMs:0.00} ms** ({x.During.Length:N0} inserts during; p99.9 outside {Percentile(x.Outside, 0.999):0.000} ms). Reopening from it (checkpoint load plus the WAL after it): {large.ReopenMs / 1000:0.0} s, {large.ReopenCount:N0} rows recovered (expected {large.Scenario.Count + x.During.Length + x.Outside.Length:N0}: the fill plus every acknowledged writer insert).");
        }

        Line(sb);
        MachineSection(sb, m, options);
        return sb.ToString();
    }
}

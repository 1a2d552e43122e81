using System.Diagnostics;
using System.Globalization;

namespace OxiVec.Benchmarks.Macro;

/// <summary>Everything one harness run measured, for the report and the charts.</summary>
internal sealed record BenchResults(
    HarnessOptions Options,
    MachineInfo Machine,
    Dataset Data,
    IReadOnlyList<ProbeRun> Sequential,
    IReadOnlyList<ProbeRun> SequentialSynced,
    IReadOnlyList<ProbeRun> FsyncOverwrite,
    IReadOnlyList<ProbeRun> FsyncPreallocated,
    IReadOnlyList<ProbeRun> FsyncExtend,
    IReadOnlyList<ProbeRun> WalSequential,
    IReadOnlyDictionary<CellKey, IReadOnlyList<WorkloadRun>> Cells,
    TimeSpan Elapsed,
    string OtherLoad,
    IReadOnlyList<FasterLogTrial> FasterLogSweep)
{
    /// <summary>The FasterLog configuration of the peer cells: the sweep's best.</summary>
    public string FasterLogChoice => FasterLogSweep.Count == 0 ? Peers.FasterLogConfig.Recommended.Name : FasterLogTrial.Best(FasterLogSweep).Config.Name;
}

/// <summary>One FasterLog configuration's runs in the sweep (durable commit per record, the largest writer count).</summary>
internal sealed record FasterLogTrial(Peers.FasterLogConfig Config, int Writers, IReadOnlyList<WorkloadRun> Runs)
{
    public double MedianCommits => Spread.Of(Runs.Select(x => x.CommitsPerSecond)).Median;

    /// <summary>The trial with the highest median commits/s.</summary>
    public static FasterLogTrial Best(IReadOnlyList<FasterLogTrial> trials) => trials.MaxBy(t => t.MedianCommits)!;
}

/// <summary>
/// The macro benchmark: machine, disk limit, WAL throughput and latency per sync policy and writer count, a
/// no-WAL baseline and a transaction row; prints the markdown report and writes it with two charts.
/// </summary>
internal sealed class MacroHarness(HarnessOptions options)
{
    /// <summary>The <c>wal</c> verb: parses <paramref name="args"/>, prints the usage for <c>--help</c>, else runs.</summary>
    public static int RunVerb(string[] args)
    {
        HarnessOptions options = HarnessOptions.Parse(args);
        if (options.ShowHelp)
        {
            Console.WriteLine(HarnessOptions.Usage);
            return 0;
        }

        return options.GroupCommitOnly ? new MacroHarness(options).RunGroupCommit() : new MacroHarness(options).Run();
    }

    /// <summary>
    /// <c>--group-commit</c>: only the cells of issue 12's goal 2 (SyncIntervalMs = 0; one writer, the largest writer
    /// count as threads and as async tasks), interleaved round by round; writes wal-group-commit.md.
    /// </summary>
    public int RunGroupCommit()
    {
        long started = Stopwatch.GetTimestamp();
        string outDir = options.OutDir is { } given ? Path.GetFullPath(given)
            : Path.Combine(Path.GetTempPath(), "oxivec-bench-results-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        string workParent = Path.GetFullPath(options.WorkDir ?? Path.GetTempPath());
        if (!Directory.Exists(workParent))
        {
            throw new DirectoryNotFoundException($"the work directory '{workParent}' does not exist");
        }

        Directory.CreateDirectory(outDir);
        string workRoot = Path.Combine(workParent, "oxivec-bench-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(workRoot);
        try
        {
            SystemLoad load = SystemLoad.Snapshot();
            MachineInfo machine = MachineInfo.Collect(workRoot);
            var data = new Dataset();
            var workload = new Workload(data, workRoot, Peers.FasterLogConfig.Recommended);
            int writers = options.WriterCounts[^1];
            CellKey[] plan = [new(CellKind.Wal, 0, options.WriterCounts[0]), new(CellKind.Wal, 0, writers), new(CellKind.WalAsync, 0, writers)];
            Progress($"group commit only: {options.Repeats} repeat(s), {options.RunDuration.TotalSeconds:F1} s per run, work dir {workRoot}");
            TimeSpan warm = TimeSpan.FromMilliseconds(options.Quick ? 250 : 500);
            foreach (CellKey cell in plan)
            {
                _ = workload.Run(cell, warm, options.MaxOpsPerRun);
            }

            var cells = plan.ToDictionary(c => c, _ => new List<WorkloadRun>());
            var overlap = new List<IReadOnlyList<FsyncOverlapProbe.Run>>();
            for (int r = 0; r < options.Repeats; r++)
            {
                if (options.FsyncOverlap)
                {
                    List<FsyncOverlapProbe.Run> probes = [.. FsyncOverlapProbe.SyncerCounts.Select(k => FsyncOverlapProbe.Measure(workRoot, k, TimeSpan.FromSeconds(1)))];
                    overlap.Add(probes);
                    Progress($"[{r + 1}/{options.Repeats}] fsync overlap: " + string.Join(", ", probes.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Syncers} in flight {p.SyncsPerSecond:N0}/s (avg {p.AvgSyncMicros:F0} µs)"))));
                }

                foreach (CellKey cell in plan)
                {
                    WorkloadRun run = workload.Run(cell, options.RunDuration, options.MaxOpsPerRun);
                    cells[cell].Add(run);
                    Progress(string.Create(CultureInfo.InvariantCulture,
                        $"[{r + 1}/{options.Repeats}] {cell}: {run.CommitsPerSecond:N0} commits/s, p99 {run.Latency.P99Us:F1} µs, {run.CommitsPerSync:F2} commits per fsync, fsync avg {run.WalAvgSyncMs * 1000:F0} µs, CPU {run.CpuMicrosPerCommit:F1} µs per commit, switches {run.VoluntarySwitches / run.Commits:F2} / {run.InvoluntarySwitches / run.Commits:F2} per commit"));
                }
            }

            var results = new BenchResults(
                options, machine, data, [], [], [], [], [], [],
                cells.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<WorkloadRun>)kv.Value),
                Stopwatch.GetElapsedTime(started), SystemLoad.Describe(load), []);
            string markdown = GroupCommitGoal.Render(results);
            if (overlap.Count > 0)
            {
                markdown += "\n" + FsyncOverlapProbe.Section(overlap);
            }

            File.WriteAllText(Path.Combine(outDir, "wal-group-commit.md"), markdown);
            Console.Out.Write(markdown);
            Progress($"wrote {Path.Combine(outDir, "wal-group-commit.md")} in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
            return 0;
        }
        finally
        {
            Directory.Delete(workRoot, recursive: true);
        }
    }

    public int Run()
    {
        long started = Stopwatch.GetTimestamp();
        string outDir = ResolveOutDir();
        string workParent = Path.GetFullPath(options.WorkDir ?? Path.GetTempPath());
        if (!Directory.Exists(workParent))
        {
            throw new DirectoryNotFoundException($"the work directory '{workParent}' does not exist");
        }

        Directory.CreateDirectory(outDir); // fail before measuring, not after
        string workRoot = Path.Combine(workParent, "oxivec-bench-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(workRoot);
        try
        {
            BenchResults results = Measure(workRoot, started);
            string markdown = Report.Render(results);
            File.WriteAllText(Path.Combine(outDir, "wal.md"), markdown);
            Charts.WriteCommits(results, Path.Combine(outDir, "wal-commits.png"));
            Charts.WriteLatency(results, Path.Combine(outDir, "wal-latency.png"));
            Charts.WritePeers(results, Path.Combine(outDir, "wal-peers.png"));
            Console.Out.Write(markdown);
            Progress($"wrote {Path.Combine(outDir, "wal.md")}, wal-commits.png, wal-latency.png and wal-peers.png in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
            return 0;
        }
        finally
        {
            Directory.Delete(workRoot, recursive: true);
        }
    }

    private BenchResults Measure(string workRoot, long started)
    {
        SystemLoad load = SystemLoad.Snapshot();
        MachineInfo machine = MachineInfo.Collect(workRoot);
        var data = new Dataset();
        int repeats = options.Repeats;

        Progress($"{(options.Quick ? "quick" : "full")} mode: {repeats} repeat(s), {options.RunDuration.TotalSeconds:F1} s per run, work dir {workRoot}");

        // Disk limit first, on an idle disk.
        var sequential = new List<ProbeRun>();
        var sequentialSynced = new List<ProbeRun>();
        var overwrite = new List<ProbeRun>();
        var preallocated = new List<ProbeRun>();
        var extend = new List<ProbeRun>();
        var walSequential = new List<ProbeRun>();
        for (int r = 0; r < repeats; r++)
        {
            sequential.Add(DiskProbe.SequentialWrite(workRoot, options.SequentialBytes));
            Progress($"disk: sequential write {sequential[^1].Rate:F0} MB/s");
            sequentialSynced.Add(DiskProbe.SequentialWrite(workRoot, options.SequentialBytes, DiskProbe.WalLikeSyncBytes));
            Progress($"disk: sequential write, fdatasync every {DiskProbe.WalLikeSyncBytes >> 20} MiB {sequentialSynced[^1].Rate:F0} MB/s");
            overwrite.Add(DiskProbe.FsyncOverwrite(workRoot, options.FsyncProbeDuration));
            Progress($"disk: fdatasync (overwrite) {overwrite[^1].Rate:F0}/s");
            preallocated.Add(DiskProbe.FsyncIntoPreallocated(workRoot, options.FsyncProbeDuration));
            Progress($"disk: fdatasync (into preallocated space) {preallocated[^1].Rate:F0}/s");
            extend.Add(DiskProbe.FsyncExtend(workRoot, options.FsyncProbeDuration));
            Progress($"disk: fdatasync (extending the file) {extend[^1].Rate:F0}/s");
            walSequential.Add(WalSequentialProbe.Run(workRoot, options.SequentialBytes, data));
            Progress($"WAL: sequential write {walSequential[^1].Rate:F0} MB/s");
        }

        // FasterLog in its best documented configuration: every candidate (fast-commit mode, preallocation,
        // AutoCommit, commit policies) durable per record at the largest writer count, interleaved over the repeats;
        // the peer cells then use the best by median commits/s.
        int sweepWriters = options.WriterCounts[^1];
        var sweepRuns = Peers.FasterLogConfig.Candidates.ToDictionary(c => c, _ => new List<WorkloadRun>());
        foreach (Peers.FasterLogConfig config in Peers.FasterLogConfig.Candidates)
        {
            _ = new Workload(data, workRoot, config).Run(new CellKey(CellKind.FasterLog, 0, 8), TimeSpan.FromMilliseconds(options.Quick ? 150 : 300), options.MaxOpsPerRun);
        }

        for (int r = 0; r < repeats; r++)
        {
            foreach (Peers.FasterLogConfig config in Peers.FasterLogConfig.Candidates)
            {
                WorkloadRun run = new Workload(data, workRoot, config).Run(new CellKey(CellKind.FasterLog, 0, sweepWriters), options.RunDuration, options.MaxOpsPerRun);
                sweepRuns[config].Add(run);
                Progress(string.Create(CultureInfo.InvariantCulture, $"FasterLog sweep, {config.Name}, {sweepWriters} writers: {run.CommitsPerSecond:N0} commits/s, p99 {run.Latency.P99Us:F1} µs"));
            }
        }

        List<FasterLogTrial> sweep = [.. sweepRuns.Select(kv => new FasterLogTrial(kv.Key, sweepWriters, kv.Value))];
        Peers.FasterLogConfig best = FasterLogTrial.Best(sweep).Config;
        Progress($"FasterLog: best configuration {best.Name}");
        var workload = new Workload(data, workRoot, best);

        // Each OxiVec cell is followed by the peers it is compared with (durable per commit at SyncIntervalMs = 0,
        // their periodic or process-crash-safe variant at 1000), so that within a round a target's candidate and
        // baseline run back to back and its verdict can pair them round by round.
        List<CellKey> plan = [];
        plan.AddRange(options.WriterCounts.Select(w => new CellKey(CellKind.Baseline, 0, w)));
        foreach (int sync in options.SyncIntervals)
        {
            foreach (int w in options.WriterCounts)
            {
                plan.Add(new CellKey(CellKind.Wal, sync, w));
                if ((sync == 0 || sync == Workload.PeerIntervalMs) && options.PeerWriterCounts.Contains(w))
                {
                    plan.Add(new CellKey(CellKind.FasterLog, sync, w));
                    plan.Add(new CellKey(CellKind.Sqlite, sync, w));
                }
            }
        }

        if (options.SyncIntervals.Contains(0))
        {
            // Issue 12's goal 2 at the largest writer count with asynchronous tasks (threads are the Wal cell above).
            plan.Add(new CellKey(CellKind.WalAsync, 0, options.WriterCounts[^1]));
        }

        plan.Add(new CellKey(CellKind.Transaction, 0, 1));

        // The old SQLite layout (a connection per writer, the busy handler's sleeps) at the largest writer count, as a secondary row.
        plan.Add(new CellKey(CellKind.SqliteConnections, 0, options.WriterCounts[^1]));
        plan.Add(new CellKey(CellKind.FasterLogTransaction, 0, 1));
        plan.Add(new CellKey(CellKind.SqliteTransaction, 0, 1));

        // Warm-up (JIT tiering, the WAL's first segment, the thread pool): every code path once, discarded.
        TimeSpan warm = TimeSpan.FromMilliseconds(options.Quick ? 250 : 500);
        CellKey[] warmUp =
        [
            new(CellKind.Baseline, 0, 8), new(CellKind.Wal, 0, 8), new(CellKind.WalAsync, 0, 8), new(CellKind.Wal, 1_000, 8), new(CellKind.Transaction, 0, 1),
            new(CellKind.FasterLog, 0, 8), new(CellKind.FasterLog, Workload.PeerIntervalMs, 8), new(CellKind.FasterLogTransaction, 0, 1),
            new(CellKind.Sqlite, 0, 8), new(CellKind.Sqlite, Workload.PeerIntervalMs, 8), new(CellKind.SqliteConnections, 0, 8), new(CellKind.SqliteTransaction, 0, 1),
        ];
        foreach (CellKey cell in warmUp)
        {
            _ = workload.Run(cell, warm, options.MaxOpsPerRun);
        }

        Progress("warm-up done");

        // Repeats are interleaved (every cell once, then again) so slow drift of the machine spreads over all cells.
        var cells = plan.ToDictionary(c => c, _ => new List<WorkloadRun>());
        int step = 0;
        for (int r = 0; r < repeats; r++)
        {
            foreach (CellKey cell in plan)
            {
                WorkloadRun run = workload.Run(cell, options.RunDuration, options.MaxOpsPerRun);
                cells[cell].Add(run);
                step++;
                Progress(string.Create(CultureInfo.InvariantCulture,
                    $"[{step}/{plan.Count * repeats}] {cell}: {run.CommitsPerSecond:N0} commits/s, {run.OpsPerSecond:N0} inserts/s, p50 {run.Latency.P50Us:F1} µs, p99 {run.Latency.P99Us:F1} µs, max {run.Latency.MaxUs / 1000:F1} ms, {run.Syncs} fsyncs, CPU {run.CpuCores:F2} cores"));
            }
        }

        return new BenchResults(
            options, machine, data, sequential, sequentialSynced, overwrite, preallocated, extend, walSequential,
            cells.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<WorkloadRun>)kv.Value),
            Stopwatch.GetElapsedTime(started),
            SystemLoad.Describe(load),
            sweep);
    }

    private string ResolveOutDir()
    {
        if (options.OutDir is { } given)
        {
            return Path.GetFullPath(given);
        }

        if (options.Quick)
        {
            // CI runs --quick: never write into the repository unless asked to.
            return Path.Combine(Path.GetTempPath(), "oxivec-bench-results-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        }

        string root = FindRepositoryRoot(Environment.CurrentDirectory) ?? FindRepositoryRoot(AppContext.BaseDirectory)
            ?? throw new DirectoryNotFoundException("cannot find the repository root (a directory holding OxiVec.slnx) above the current directory; pass --out DIR");
        return Path.Combine(root, "bench", "results");
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (DirectoryInfo? d = new(Path.GetFullPath(start)); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "OxiVec.slnx")))
            {
                return d.FullName;
            }
        }

        return null;
    }

    /// <summary>Progress goes to stderr: stdout carries only the report.</summary>
    private static void Progress(string message) => Console.Error.WriteLine("oxivec-bench: " + message);
}

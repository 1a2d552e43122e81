using System.Diagnostics;
using System.Text;
using OxiVec.Benchmarks.Macro;
using OxiVec.Benchmarks.Store;
using OxiVec.Benchmarks.Trust;
using OxiVec.Replication;
using OxiVec.Replication.Grpc;
using OxiVec.Storage;
using OxiVec.Wal;
using static OxiVec.Benchmarks.Scale.ScaleCommon;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Replication;

/// <summary>
/// The <c>replication</c> verb (issue 15, Measured): commit throughput and p99 of single-point upserts at 1 and 32
/// writers, local only against asynchronous replication, synchronous remote flush with one standby and a quorum of two
/// (each standby a <see cref="StandbyReceiver"/> streaming over gRPC on loopback from a <see cref="WalReplicator"/>
/// in this process, every WAL fsynced per commit); then a standby's catch-up (MB/s, records applied per second) and a
/// base backup's time. Writes <c>replication.md</c>. Goal: sync remote flush with one standby at 32 writers reaches at
/// least 70 % of local-only throughput.
/// </summary>
/// <remarks>
/// Besides the shared options: <c>--rounds N</c> (default 5, 1 with <c>--quick</c>) and <c>--goal-only</c>, which runs
/// only the goal's cells (local only, asynchronous and sync remote flush with one standby, 32 writers, alternating within
/// each round), prints each round and the paired ratios, and writes no report: for iterating on the goal; <c>--seconds N</c>
/// measures each cell N seconds instead of 6 (1.5 with <c>--quick</c>): long cells to profile; <c>--modes 1,2</c> (implies
/// <c>--goal-only</c>) runs those modes only (0 local only, 1 async, 2 sync remote flush, 3 quorum).
/// </remarks>
internal sealed class ReplicationBench(VerbOptions options, int? rounds, bool goalOnly, int? seconds = null, ReplicationBench.Mode[]? modes = null)
{
    public const string Verb = "replication";
    private const string Collection = "bench";
    private const int Dimension = 64;
    private const double Goal = 0.70;

    /// <summary>A replication mode; <paramref name="StandbyOnRamDisk"/>: the standbys' data directories on tmpfs (/dev/shm).</summary>
    internal sealed record Mode(string Name, int Standbys, string? Synchronous, bool StandbyOnRamDisk = false);

    private sealed record CellResult(
        string Mode, int Writers, int Round, double PerSecond, double P50Ms, double P99Ms, double CpuMicrosPerCommit, double PrimaryFsyncsPerCommit, double StandbyFsyncsPerCommit,
        double ContextSwitchesPerCommit, double BatchesPerCommit, double ReportsPerCommit, double WorkItemsPerCommit, double AllocatedBytesPerCommit,
        double ConfirmedBeforeLocalFsync, double PrimaryFsyncMs, double StandbyFsyncMs)
    {
        /// <summary>Mean µs from the primary's send of a batch to the standby's receive (0 without standbys).</summary>
        public double ShipMicros { get; init; }

        /// <summary>Mean µs from a standby's receive of a batch to its report (verify, write, fsync).</summary>
        public double StandbyMicros { get; init; }

        /// <summary>Batches a standby wrote under the fsync of an earlier one (group receive), per commit.</summary>
        public double CoalescedPerCommit { get; init; }
    }

    private static readonly int[] Writers = [1, 32];

    private static readonly Mode[] Modes =
    [
        new("local only", 0, null),
        new("async, 1 standby", 1, null),
        new("sync remote flush, 1 standby", 1, "FIRST 1 (s1)"),
        new("quorum ANY 2 of 2, remote flush", 2, "ANY 2 (s1, s2)"),
        new("sync remote flush, 1 standby on tmpfs", 1, "FIRST 1 (s1)", StandbyOnRamDisk: true),
    ];

    /// <summary>Where a standby on tmpfs keeps its data: a RAM file system, so its fsyncs never touch the primary's disk.</summary>
    private const string RamDisk = "/dev/shm";

    /// <summary>Whether this machine has <see cref="RamDisk"/>; without it the tmpfs mode is left out of a full run (and the report says so).</summary>
    private static bool HasRamDisk => Directory.Exists(RamDisk);

    /// <summary>The modes a full run measures: all of them, but the tmpfs one only where <see cref="RamDisk"/> exists.</summary>
    private static Mode[] AvailableModes => HasRamDisk ? Modes : [.. Modes.Where(m => !m.StandbyOnRamDisk)];

    public static int RunVerb(string[] args)
    {
        int? rounds = null;
        int? seconds = null;
        Mode[]? modes = null;
        bool goalOnly = false;
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--goal-only":
                    goalOnly = true;
                    break;
                case "--modes":
                    modes = ++i < args.Length && args[i].Split(',').All(m => int.TryParse(m, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) && k < Modes.Length)
                        ? [.. args[i].Split(',').Select(m => Modes[int.Parse(m, System.Globalization.CultureInfo.InvariantCulture)])]
                        : throw new ArgumentException($"--modes needs a comma-separated list of mode numbers below {Modes.Length} (0 local only, 1 async, 2 sync remote flush, 3 quorum, 4 sync remote flush with the standby on tmpfs)");
                    break;
                case "--seconds":
                    seconds = ++i < args.Length && int.TryParse(args[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int m) && m > 0
                        ? m
                        : throw new ArgumentException("--seconds needs a positive integer (usage: replication [--quick] [--out DIR] [--allow-dirty] [--rounds N] [--goal-only] [--seconds N])");
                    break;
                case "--rounds":
                    rounds = ++i < args.Length && int.TryParse(args[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n > 0
                        ? n
                        : throw new ArgumentException("--rounds needs a positive integer (usage: replication [--quick] [--out DIR] [--allow-dirty] [--rounds N] [--goal-only])");
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        VerbOptions common = VerbOptions.Parse(Verb, [.. rest]);
        common = common with { CommandLine = "dotnet run -c Release --project bench/OxiVec.Benchmarks -- " + string.Join(' ', [Verb, .. args]) };
        return new ReplicationBench(common, rounds, goalOnly || modes is not null, seconds, modes).RunAsync().GetAwaiter().GetResult();
    }

    /// <summary>The modes of a goal-only run: <c>--modes</c>, else local only, async and sync remote flush with one standby.</summary>
    private Mode[] GoalModes => !goalOnly ? AvailableModes : modes ?? [Modes[0], Modes[1], Modes[2]];

    private TimeSpan Measured => seconds is { } n ? TimeSpan.FromSeconds(n) : options.Quick ? TimeSpan.FromSeconds(1.5) : TimeSpan.FromSeconds(6);

    /// <summary>How long each cell runs its load, unmeasured, before its measured window.</summary>
    private TimeSpan LeadIn => options.Quick ? TimeSpan.FromSeconds(0.5) : TimeSpan.FromSeconds(1);

    /// <summary>How long each mode runs once, unmeasured, before round 1.</summary>
    private static TimeSpan WarmUp => TimeSpan.FromSeconds(1.5);

    private int CatchUpRecords => options.Quick ? 5_000 : 50_000;

    /// <summary>Rounds of every cell, alternating modes within a round so that a slower spell of the machine hits all of them alike.</summary>
    private int Rounds => rounds ?? (options.Quick ? 1 : 5);

    private async Task<int> RunAsync()
    {
        Directory.CreateDirectory(options.OutDir);
        string work = NewWorkDir(Verb);
        try
        {
            MachineInfo machine = MachineInfo.Collect(work);
            ThreadPool.GetMinThreads(out int workers, out int io);
            _ = ThreadPool.SetMinThreads(Math.Max(workers, 64 + Environment.ProcessorCount), io);
            var cells = new List<CellResult>();
            Say(Verb, $"thread pool: idle workers spin {ThreadPoolSpinLimit()}");
            foreach (Mode mode in GoalModes)
            {
                // Unmeasured: the first cell of a mode used to pay the JIT of its whole path (the gRPC client and server,
                // Kestrel, the standby's receive) in round 1, a startup cost that is not the commit path's throughput.
                CellResult warm = await RunCellAsync(Path.Combine(work, $"warm-up-{Array.IndexOf(Modes, mode)}"), mode, 32, round: -1, WarmUp).ConfigureAwait(false);
                Say(Verb, $"  warm-up (not counted), {mode.Name}: {warm.PerSecond:N0}/s");
            }

            for (int round = 0; round < Rounds; round++)
            {
                Say(Verb, $"round {round + 1}/{Rounds}");
                foreach (Mode mode in GoalModes)
                {
                    foreach (int writers in goalOnly ? [32] : Writers)
                    {
                        CellResult cell = await RunCellAsync(Path.Combine(work, $"cell-{cells.Count}"), mode, writers, round, Measured).ConfigureAwait(false);
                        Say(Verb, $"  {mode.Name}, {writers} writers: {cell.PerSecond:N0}/s, p50 {cell.P50Ms:0.000} ms, p99 {cell.P99Ms:0.00} ms, CPU {cell.CpuMicrosPerCommit:0} µs/commit, context switches {cell.ContextSwitchesPerCommit:0.00}/commit, thread-pool work items {cell.WorkItemsPerCommit:0.00}/commit, allocated {cell.AllocatedBytesPerCommit:N0} B/commit, fsyncs per commit: primary {cell.PrimaryFsyncsPerCommit:0.000}, standbys {cell.StandbyFsyncsPerCommit:0.000}; messages per commit: to standbys {cell.BatchesPerCommit:0.000}, from standbys {cell.ReportsPerCommit:0.000}{(mode.Standbys == 0 || cell.BatchesPerCommit == 0 ? "" : $" (messages to standbys {cell.PerSecond * cell.BatchesPerCommit:N0}/s, {1 / cell.BatchesPerCommit:0.0} commits per message; reports {cell.PerSecond * cell.ReportsPerCommit:N0}/s)")}{(mode.Synchronous is null ? "" : $"; confirmed by the standbys before the local fsync ended: {cell.ConfirmedBeforeLocalFsync * 100:0.0} % of commits")}; mean fsync: primary {cell.PrimaryFsyncMs:0.000} ms{(mode.Standbys == 0 ? "" : $", standbys {cell.StandbyFsyncMs:0.000} ms; round stages: ship {cell.ShipMicros:0} µs, standby receive to report {cell.StandbyMicros:0} µs; batches coalesced {cell.CoalescedPerCommit:0.000}/commit")}");
                        cells.Add(cell);
                    }
                }
            }

            if (goalOnly)
            {
                double[] Rates(string mode) => PerRound(cells, mode, 32, c => c.PerSecond);
                if (!GoalModes.Contains(Modes[0]) || !GoalModes.Contains(Modes[1]) || !GoalModes.Contains(Modes[2]))
                {
                    return 0;
                }

                Interval ratio = Bootstrap.PairedRatio(Rates(Modes[2].Name), Rates(Modes[0].Name));
                Interval asyncRatio = Bootstrap.PairedRatio(Rates(Modes[1].Name), Rates(Modes[0].Name));
                string ramDisk = GoalModes.Contains(Modes[4]) ? $"; sync remote flush with the standby on tmpfs / local only = {Bootstrap.PairedRatio(Rates(Modes[4].Name), Rates(Modes[0].Name)).Describe(Pct)}" : "";
                Say(Verb, $"goal only: sync remote flush / local only at 32 writers = {ratio.Describe(Pct)}; async / local only = {asyncRatio.Describe(Pct)}{ramDisk} ({Rounds} rounds); no report written");
                return 0;
            }

            (double catchUpMBps, double applyPerSecond, double catchUpCpuMicros, double baseBackupSeconds, long backupBytes) = await CatchUpAndBaseBackupAsync(Path.Combine(work, "catchup")).ConfigureAwait(false);
            Say(Verb, $"catch-up {catchUpMBps:0.0} MB/s, {applyPerSecond:N0} records/s applied, CPU {catchUpCpuMicros:0.0} µs per record; base backup {baseBackupSeconds:0.00} s");
            string report = Render(machine, cells, catchUpMBps, applyPerSecond, catchUpCpuMicros, baseBackupSeconds, backupBytes);
            Chart(cells, Path.Combine(options.OutDir, "replication.png"));
            string path = Path.Combine(options.OutDir, "replication.md");
            File.WriteAllText(path, report);
            Say(Verb, $"wrote {path}");
            return 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    private static VectorDatabaseOptions DatabaseOptions(bool replicate) =>
        new() { Wal = WalConfig.Default with { SyncIntervalMs = 0, EnableReplication = replicate } };

    private async Task<CellResult> RunCellAsync(string dir, Mode mode, int writers, int round, TimeSpan measured)
    {
        // Each cell starts from the same state, whatever ran before it: no garbage of earlier cells left to collect, no
        // files of theirs left for the kernel to write back under this cell's fsyncs (their directories are deleted).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        try
        {
            return await MeasureCellAsync(dir, mode, writers, round, measured).ConfigureAwait(false);
        }
        finally
        {
            TryDelete(dir);
            if (mode.StandbyOnRamDisk)
            {
                TryDelete(StandbyRoot(dir));
            }
        }
    }

    /// <summary>The tmpfs directory of a cell's standbys when its mode keeps them there.</summary>
    private static string StandbyRoot(string cellDir) =>
        HasRamDisk
            ? Path.Combine(RamDisk, $"oxivec-replication-{Environment.ProcessId}-{Path.GetFileName(Path.GetDirectoryName(cellDir))}-{Path.GetFileName(cellDir)}")
            : throw new InvalidOperationException($"The mode with the standby on tmpfs needs {RamDisk} (a RAM file system); it does not exist on this machine.");

    private async Task<CellResult> MeasureCellAsync(string dir, Mode mode, int writers, int round, TimeSpan measured)
    {
        await using Cluster cluster = await Cluster.StartAsync(dir, mode.Standbys, mode.Synchronous, mode.StandbyOnRamDisk ? StandbyRoot(dir) : null).ConfigureAwait(false);
        VectorDatabase db = cluster.Primary;
        float[][] vectors = Uniform(4_096, Dimension, 15_001);
        var latencies = new List<double>[writers];
        long ops = 0;
        int measuring = 0; // 1 during the measured window: operations that end then are counted
        using var stop = new CancellationTokenSource();
        Task[] loops = [.. Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<double>(100_000);
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                long t = Stopwatch.GetTimestamp();
                await db.UpsertAsync(Collection, $"{w}-{i % 1_000}", vectors[(w * 131 + i) % vectors.Length]).ConfigureAwait(false);
                if (Volatile.Read(ref measuring) != 0)
                {
                    mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                    Interlocked.Increment(ref ops);
                }
            }
        }))];

        // The same load, unmeasured, first: the cell's own steady state (thread-pool threads, group-commit batches, the
        // standby's stream), not its ramp-up, is what the window sees.
        await Task.Delay(LeadIn).ConfigureAwait(false);
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        long switchesBefore = ContextSwitches();
        long workItemsBefore = ThreadPool.CompletedWorkItemCount;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        (long toStandbys, long fromStandbys) = (cluster.Messages.FromPrimary, cluster.Messages.ToPrimary);
        long primarySyncs = db.GetWalMetrics().SyncCount;
        long standbySyncs = cluster.StandbySyncCount();
        long confirmedFirst = db.CommitsConfirmedBeforeDurable;
        var stagesBefore = cluster.Messages.Stages;
        long coalescedBefore = cluster.CoalescedBatches();
        long started = Stopwatch.GetTimestamp();
        Volatile.Write(ref measuring, 1);
        await Task.Delay(measured).ConfigureAwait(false);
        Volatile.Write(ref measuring, 0);
        double seconds = Seconds(started);
        double cpuMicros = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds;
        double switches = ContextSwitches() - switchesBefore;
        double workItems = ThreadPool.CompletedWorkItemCount - workItemsBefore;
        double allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        (toStandbys, fromStandbys) = (cluster.Messages.FromPrimary - toStandbys, cluster.Messages.ToPrimary - fromStandbys);
        primarySyncs = db.GetWalMetrics().SyncCount - primarySyncs;
        standbySyncs = cluster.StandbySyncCount() - standbySyncs;
        confirmedFirst = db.CommitsConfirmedBeforeDurable - confirmedFirst;
        var stages = cluster.Messages.Stages;
        long coalesced = cluster.CoalescedBatches() - coalescedBefore;
        long shipped = stages.Shipped - stagesBefore.Shipped, standbyRounds = stages.StandbyRounds - stagesBefore.StandbyRounds;
        ops = Interlocked.Read(ref ops);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false);
        double[] all = [.. latencies.SelectMany(l => l).Order()];
        return new CellResult(mode.Name, writers, round, ops / seconds, Percentile(all, 0.50), Percentile(all, 0.99), ops == 0 ? 0 : cpuMicros / ops, ops == 0 ? 0 : primarySyncs / (double)ops, ops == 0 ? 0 : standbySyncs / (double)ops,
            ops == 0 ? 0 : switches / ops, ops == 0 ? 0 : toStandbys / (double)ops, ops == 0 ? 0 : fromStandbys / (double)ops, ops == 0 ? 0 : workItems / ops, ops == 0 ? 0 : allocated / ops,
            ops == 0 ? 0 : confirmedFirst / (double)ops, db.GetWalMetrics().AvgSyncLatencyMs, cluster.StandbyFsyncMs())
        {
            ShipMicros = shipped == 0 ? 0 : (stages.ShipMicros - stagesBefore.ShipMicros) / (double)shipped,
            StandbyMicros = standbyRounds == 0 ? 0 : (stages.StandbyTicks - stagesBefore.StandbyTicks) * 1e6 / Stopwatch.Frequency / standbyRounds,
            CoalescedPerCommit = ops == 0 ? 0 : coalesced / (double)ops,
        };
    }

    private async Task<(double MBps, double AppliedPerSecond, double CpuMicrosPerRecord, double BaseBackupSeconds, long BackupBytes)> CatchUpAndBaseBackupAsync(string dir)
    {
        await using Cluster cluster = await Cluster.StartAsync(dir, 1, null, standbyRoot: null).ConfigureAwait(false);
        VectorDatabase db = cluster.Primary;
        await cluster.StopStandbyAsync(0).ConfigureAwait(false);
        long sizeBefore = db.GetWalMetrics().CurrentSizeBytes;
        float[][] vectors = Uniform(CatchUpRecords, Dimension, 15_002);
        for (int i = 0; i < vectors.Length; i++)
        {
            db.Upsert(Collection, $"c-{i}", vectors[i]);
        }

        long walBytes = db.GetWalMetrics().CurrentSizeBytes - sizeBefore;
        long target = db.AppliedLsn;
        long t = Stopwatch.GetTimestamp();
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        StandbyReceiver again = await cluster.StartStandbyAsync(0).ConfigureAwait(false);
        using (var patience = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
        {
            _ = await again.WaitForAppliedAsync(target, TimeSpan.FromMinutes(5), patience.Token).ConfigureAwait(false);
        }

        double catchUp = Seconds(t);
        double cpuPerRecord = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds / vectors.Length;
        CheckpointInfo checkpoint = db.Checkpoint();
        t = Stopwatch.GetTimestamp();
        StandbyReceiver fresh = await cluster.StartStandbyAsync(1).ConfigureAwait(false);
        double backup = Seconds(t);
        _ = fresh;
        return (walBytes / 1e6 / catchUp, vectors.Length / catchUp, cpuPerRecord, backup, checkpoint.Bytes);
    }

    private static string S(Spread spread, string format) =>
        spread.Min == spread.Max ? spread.Median.ToString(format, System.Globalization.CultureInfo.InvariantCulture)
            : $"{spread.Median.ToString(format, System.Globalization.CultureInfo.InvariantCulture)} ({spread.Min.ToString(format, System.Globalization.CultureInfo.InvariantCulture)}–{spread.Max.ToString(format, System.Globalization.CultureInfo.InvariantCulture)})";

    private static void Chart(IReadOnlyList<CellResult> cells, string path) =>
        Scale.ScaleCharts.GroupedBars(
            path, "Commits per second: local only vs replication (fsync per commit everywhere)", "commits/s",
            [.. Writers.Select(w => $"{w} writer{(w == 1 ? "" : "s")}")],
            [.. AvailableModes.Select((m, i) => new Scale.BarSeries(m.Name, Scale.ScaleCharts.Palette[i % Scale.ScaleCharts.Palette.Length],
                [.. Writers.Select(w => Spread.Of(cells.Where(c => c.Mode == m.Name && c.Writers == w).Select(c => c.PerSecond)))]))],
            log: false, Scale.ScaleCharts.Rate);

    /// <summary>The process's voluntary and involuntary context switches so far (0 where getrusage is unavailable).</summary>
    private static long ContextSwitches() => Macro.Native.ResourceUsage(0 /* RUSAGE_SELF */, out Macro.Native.RUsage u) ? u.Nvcsw + u.Nivcsw : 0;

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    /// <summary>One figure of every round's cell of <paramref name="mode"/> at <paramref name="writers"/>, in round order (for paired ratios).</summary>
    private static double[] PerRound(List<CellResult> cells, string mode, int writers, Func<CellResult, double> value) =>
        [.. cells.Where(c => c.Mode == mode && c.Writers == writers).OrderBy(c => c.Round).Select(value)];

    private static string Pct(double v) => $"{v * 100:0.0} %";

    private string Render(MachineInfo machine, List<CellResult> cells, double catchUpMBps, double applyPerSecond, double catchUpCpuMicros, double baseBackupSeconds, long backupBytes)
    {
        double[] Rates(string mode, int writers) => PerRound(cells, mode, writers, c => c.PerSecond);
        Spread Of(string mode, int writers, Func<CellResult, double> value) => Spread.Of(cells.Where(c => c.Mode == mode && c.Writers == writers).Select(value));
        Interval VsLocal(string mode, int writers) => Bootstrap.PairedRatio(Rates(mode, writers), Rates(Modes[0].Name, writers));
        Interval goal = VsLocal(Modes[2].Name, 32);
        Verdict verdict = Verdicts.AtLeast(goal, Goal);
        var sb = new StringBuilder();
        Line(sb, "# OxiVec replication benchmark: commits with standbys, catch-up, base backup");
        Line(sb);
        sb.Append(options.Stamp);
        Line(sb);
        Line(sb, $"Generated by the `replication` verb of bench/OxiVec.Benchmarks on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(options.Quick ? " (**--quick**: smoke-test sizes, not figures to quote)" : "")}. Goal (issue 15): synchronous remote flush with one standby at 32 writers reaches **at least 70 %** of local-only commit throughput.");
        Line(sb);
        Line(sb, $"**Measured** ({Rounds} rounds, each mode once per round, paired with local only of the same round): sync remote flush with one standby at 32 writers reached **{goal.Describe(Pct)}** of local-only throughput: the 70 % goal is {Verdicts.Markdown(verdict, goal)}.");
        Line(sb);
        Line(sb, "## Setup");
        Line(sb);
        Line(sb, $"- Single-point upserts (`VectorDatabase.UpsertAsync`, awaited) of {Dimension}-dimension vectors into a flat collection, ids from a pool of 1,000 per writer; every WAL (primary and standbys) fsyncs each commit before acknowledging it (SyncIntervalMs = 0). Closed loops: each writer sends its next upsert when the previous one was acknowledged; {Measured.TotalSeconds:0.#} s measured per cell after {LeadIn.TotalSeconds:0.#} s of the same load unmeasured (every cell in a new directory, the previous cell's deleted, after a full GC: no cell inherits another's garbage or unwritten files), and one unmeasured {WarmUp.TotalSeconds:0.#} s cell per mode before round 1 (the JIT of each mode's path, gRPC and Kestrel included), latency p50/p99 over all operations of a cell; tables give the median over rounds with the range (min–max).");
        Line(sb, "- Standbys are `StandbyReceiver`s in this process, each in its own data directory, streaming from the primary's `WalReplicator` over gRPC (HTTP/2, Kestrel on 127.0.0.1, `GrpcReplication.ConnectToPrimary`): the serve host's transport, without the REST layer. Everything shares this machine's cores and disk.");
        Line(sb, $"- .NET thread pool: idle workers spin {ThreadPoolSpinLimit()} before they sleep (the spinning is CPU taken from the commits on a small machine; it shows as context switches per commit).");
        Line(sb, $"- Catch-up: a standby is stopped, {CatchUpRecords:N0} upserts are written, the standby is started again; time until it has applied the last one. Base backup: after a checkpoint, a new standby in an empty directory; time until its database is open.");
        Line(sb);
        Line(sb, "## Commits");
        Line(sb);
        Line(sb, "| Mode | Writers | Commits/s, median (range) | vs local only (95 % interval) | p50 (ms) | p99 (ms) | CPU per commit (µs, whole process) | context switches per commit (whole process) | thread-pool work items per commit | bytes allocated per commit | primary fsyncs per commit | standby fsyncs per commit | mean fsync, ms (primary / standbys) | messages per commit (to standbys + from standbys) |");
        Line(sb, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Mode mode in AvailableModes)
        {
            foreach (int writers in Writers)
            {
                string versus = mode == Modes[0] ? "–" : VsLocal(mode.Name, writers).Describe(Pct);
                Line(sb, $"| {mode.Name} | {writers} | {S(Of(mode.Name, writers, c => c.PerSecond), "N0")} | {versus} | {S(Of(mode.Name, writers, c => c.P50Ms), "0.000")} | {S(Of(mode.Name, writers, c => c.P99Ms), "0.000")} | {S(Of(mode.Name, writers, c => c.CpuMicrosPerCommit), "0")} | {S(Of(mode.Name, writers, c => c.ContextSwitchesPerCommit), "0.00")} | {S(Of(mode.Name, writers, c => c.WorkItemsPerCommit), "0.00")} | {S(Of(mode.Name, writers, c => c.AllocatedBytesPerCommit), "N0")} | {S(Of(mode.Name, writers, c => c.PrimaryFsyncsPerCommit), "0.000")} | {(mode.Standbys == 0 ? "–" : S(Of(mode.Name, writers, c => c.StandbyFsyncsPerCommit), "0.000"))} | {S(Of(mode.Name, writers, c => c.PrimaryFsyncMs), "0.000")}{(mode.Standbys == 0 ? "" : $" / {S(Of(mode.Name, writers, c => c.StandbyFsyncMs), "0.000")}")} | {(mode.Standbys == 0 ? "–" : $"{S(Of(mode.Name, writers, c => c.BatchesPerCommit), "0.000")} + {S(Of(mode.Name, writers, c => c.ReportsPerCommit), "0.000")}")} |");
            }
        }

        Line(sb);
        Line(sb, "![commits per second by mode](replication.png)");
        Line(sb);
        BoundsSection(sb, cells);
        Line(sb);
        Line(sb, "## Catch-up and base backup");
        Line(sb);
        Line(sb, $"- Catch-up: **{catchUpMBps:0.0} MB/s** of WAL, **{applyPerSecond:N0} records/s** applied (standby apply rate, including its fsyncs); **{catchUpCpuMicros:0.0} µs of CPU per record** (the whole process while the primary only sends: the standby's receive, verify, WAL write, fsync and apply, and the primary's tail reads and sends).");
        Line(sb, $"- Base backup of a {backupBytes / 1e6:0.0} MB checkpoint: **{baseBackupSeconds:0.00} s** until the new standby's database was open.");
        Line(sb);
        sb.Append(FigureTable.Render(
        [
            new Figure("Commits/s, sync remote flush with 1 standby, 32 writers", $"{Of(Modes[2].Name, 32, c => c.PerSecond).Median:N0}/s", $"local only {Of(Modes[0].Name, 32, c => c.PerSecond).Median:N0}/s",
                goal.Describe(Pct), $"≥ 70 % of local only: {Verdicts.Words(verdict)}", "single-point upserts, fsync per commit on both sides, gRPC on loopback, one machine", Rounds),
            .. (HasRamDisk
                ? [new Figure("Commits/s, sync remote flush with 1 standby on tmpfs, 32 writers", $"{Of(Modes[4].Name, 32, c => c.PerSecond).Median:N0}/s", $"local only {Of(Modes[0].Name, 32, c => c.PerSecond).Median:N0}/s",
                    VsLocal(Modes[4].Name, 32).Describe(Pct), "– (not the goal's figure)", "as above, but the standby's data on a RAM file system: its fsyncs off the primary's disk", Rounds)]
                : Array.Empty<Figure>()),
            new Figure("Standby catch-up", $"{catchUpMBps:0.0} MB/s, {applyPerSecond:N0} records/s", "–", "–", "–", $"{CatchUpRecords:N0} upserts of {Dimension} dims, gRPC on loopback", 1),
            new Figure("Base backup", $"{baseBackupSeconds:0.00} s", "–", "–", "–", $"{backupBytes / 1e6:0.0} MB checkpoint, gRPC on loopback", 1),
        ]));
        MachineSection(sb, machine, options);
        return sb.ToString();
    }

    /// <summary>
    /// What bounds the goal's ratio on this machine, from the same run's cells at 32 writers: asynchronous replication
    /// (the primary never waits for its standby, so no waiting mode can do better while the standby shares the cores and
    /// the disk), the CPU ceiling (every core busy at the sync cell's CPU per commit), and the sync mode with the
    /// standby's data on tmpfs (its fsyncs off the primary's disk; not the goal's figure).
    /// </summary>
    private static void BoundsSection(StringBuilder sb, List<CellResult> cells)
    {
        double[] Rates(Mode mode) => PerRound(cells, mode.Name, 32, c => c.PerSecond);
        double MedianFsyncMs(Mode mode) => Spread.Of(PerRound(cells, mode.Name, 32, c => c.PrimaryFsyncMs)).Median;
        double[] local = Rates(Modes[0]);
        double[] ceiling = PerRound(cells, Modes[2].Name, 32, c => c.CpuMicrosPerCommit <= 0 ? 0 : Environment.ProcessorCount * 1e6 / c.CpuMicrosPerCommit);
        Interval asyncBound = Bootstrap.PairedRatio(Rates(Modes[1]), local);
        Interval cpuBound = Bootstrap.PairedRatio(ceiling, local);
        string ramDisk = HasRamDisk ? Bootstrap.PairedRatio(Rates(Modes[4]), local).Describe(Pct) : $"not measured (this machine has no {RamDisk})";
        Line(sb, "## What bounds the goal on this machine");
        Line(sb);
        Line(sb, "The primary, its standby and the writers share this machine's cores and its one disk; a standby in production has its own. From the 32-writer cells of the same rounds, as fractions of local only:");
        Line(sb);
        Line(sb, $"- **Asynchronous replication: {asyncBound.Describe(Pct)}.** The primary never waits for the standby, yet loses this much to the standby's CPU and to its fsyncs on the same disk (the primary's mean fsync rises from {MedianFsyncMs(Modes[0]):0.000} ms alone to {MedianFsyncMs(Modes[1]):0.000} ms). A mode that also waits for the standby's flush does not do better here.");
        Line(sb, $"- **CPU ceiling of sync remote flush: {cpuBound.Describe(Pct)}**: {Environment.ProcessorCount} cores divided by the sync cell's CPU per commit (the whole process: writers, primary, gRPC both ways, standby), the rate it would reach with no core ever idle.");
        Line(sb, $"- **Sync remote flush with the standby's data on tmpfs: {ramDisk}.** The same mode with the standby's directory on a RAM file system ({RamDisk}), so its fsyncs leave the primary's disk alone (they cost nothing, which a real standby's disk does not): how much of the gap is the shared disk. Not the goal's figure.");
        Line(sb);
    }

    /// <summary>A primary with a replicator and its endpoint, and its standbys.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly string _standbyRoot;
        private readonly StandbyReceiver?[] _standbys;
        private PrimaryEndpoint? _endpoint;
        private PrimaryConnection? _connection;
        private WalReplicator? _replicator;

        private Cluster(string standbyRoot, VectorDatabase primary, int standbys)
        {
            _standbyRoot = standbyRoot;
            Primary = primary;
            _standbys = new StandbyReceiver?[Math.Max(2, standbys)];
        }

        public VectorDatabase Primary { get; }

        /// <summary>The mean time of the recent fsyncs (the newest 4,096) of the running standbys' WALs, in ms (0 without standbys).</summary>
        public double StandbyFsyncMs() => _standbys.OfType<StandbyReceiver>().Select(s => s.Database.GetWalMetrics().AvgSyncLatencyMs).DefaultIfEmpty(0).Average();

        /// <summary>Batches the running standbys coalesced with an earlier one so far (group receive).</summary>
        public long CoalescedBatches() => _standbys.Sum(s => s?.CoalescedBatches ?? 0);

        /// <summary>The fsyncs of every running standby's WAL so far.</summary>
        public long StandbySyncCount() => _standbys.Sum(s => s is null ? 0 : s.Database.GetWalMetrics().SyncCount);

        /// <summary>Starts a primary in <paramref name="dir"/> and its standbys in <paramref name="standbyRoot"/> (default: <paramref name="dir"/>).</summary>
        public static async Task<Cluster> StartAsync(string dir, int standbys, string? synchronous, string? standbyRoot)
        {
            Directory.CreateDirectory(dir);
            if (standbyRoot is not null)
            {
                Directory.CreateDirectory(standbyRoot);
            }

            var cluster = new Cluster(standbyRoot ?? dir, VectorDatabase.Open(Path.Combine(dir, "primary"), DatabaseOptions(replicate: standbys > 0)), standbys);
            cluster.Primary.CreateCollection(Collection, new CollectionOptions(Dimension) { Index = IndexKind.Flat });
            if (standbys == 0)
            {
                return cluster;
            }

            cluster.Primary.Checkpoint();
            cluster._replicator = new WalReplicator(cluster.Primary, new ReplicationOptions { SynchronousStandbys = synchronous });
            cluster._endpoint = await PrimaryEndpoint.StartAsync(cluster._replicator).ConfigureAwait(false);
            cluster._connection = GrpcReplication.ConnectToPrimary(cluster._endpoint.Address);
            for (int i = 0; i < standbys; i++)
            {
                await cluster.StartStandbyAsync(i).ConfigureAwait(false);
            }

            // The synchronous set is complete once every standby has confirmed a commit: one write, awaited.
            await cluster.Primary.UpsertAsync(Collection, "warm-up", Enumerable.Repeat(1f, Dimension).ToArray()).ConfigureAwait(false);
            return cluster;
        }

        public async Task<StandbyReceiver> StartStandbyAsync(int index)
        {
            var receiver = new StandbyReceiver(Path.Combine(_standbyRoot, $"s{index + 1}"), DatabaseOptions(replicate: false), $"s{index + 1}", ConnectCountingAsync, _connection!.BaseBackup);
            await receiver.StartAsync(CancellationToken.None).ConfigureAwait(false);
            _standbys[index] = receiver;
            return receiver;
        }

        /// <summary>Messages over every standby's stream so far.</summary>
        public MessageCount Messages { get; } = new();

        private async ValueTask<IReplicationChannel<StandbyMessage, PrimaryMessage>> ConnectCountingAsync(CancellationToken cancellationToken) =>
            new CountingChannel(await _connection!.Connect(cancellationToken).ConfigureAwait(false), Messages);

        public async Task StopStandbyAsync(int index)
        {
            if (_standbys[index] is { } standby)
            {
                await standby.DisposeAsync().ConfigureAwait(false);
                _standbys[index] = null;
            }
        }

        public async ValueTask DisposeAsync()
        {
            for (int i = 0; i < _standbys.Length; i++)
            {
                await StopStandbyAsync(i).ConfigureAwait(false);
            }

            if (_replicator is not null)
            {
                await _replicator.DisposeAsync().ConfigureAwait(false);
            }

            if (_endpoint is not null)
            {
                await _endpoint.DisposeAsync().ConfigureAwait(false);
            }

            _connection?.Dispose();
            await Primary.DisposeAsync().ConfigureAwait(false);
        }
    }
}

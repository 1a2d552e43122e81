using System.Diagnostics;
using System.Globalization;
using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.Benchmarks.Scale;

/// <summary>Why a slow insert was slow, from what the writer thread measured around it.</summary>
internal enum SlowCause
{
    /// <summary>At least half of it was a garbage collection pause (the runtime stopped every managed thread).</summary>
    GcPause,

    /// <summary>At least half of it off the CPU after blocking (a lock, I/O, a page fault waiting for I/O).</summary>
    Blocked,

    /// <summary>At least half of it off the CPU while runnable: preempted by another thread or process.</summary>
    Preempted,

    /// <summary>Mostly on the CPU, mostly in user code: work done inside the insert (or a stopped virtual CPU: see <see cref="ThreadUsage"/>).</summary>
    OnCpu,

    /// <summary>Mostly on the CPU, mostly in the kernel: system calls, page faults, or interrupt work charged to the thread.</summary>
    OnCpuKernel,
}

/// <summary>What the WAL was doing during a slow insert.</summary>
internal enum WalShare
{
    /// <summary>A segment rotation held the write path during the insert.</summary>
    Rotation,

    /// <summary>At least half of the insert was segment fsyncs run by the inserting thread itself (its commit's), with no control write overlapping them.</summary>
    Fsync,

    /// <summary>As <see cref="Fsync"/>, and a control file fdatasync overlapped such an fsync (two flushes of one disk).</summary>
    FsyncWithControlWrite,

    /// <summary>At least half of the insert was covered by another thread's segment fsync (one it queued behind, or, with an interval policy, the background fsync running beside it).</summary>
    OtherThreadsFsync,

    /// <summary>None of these: the insert's time went elsewhere (GC, CPU, preemption, the index).</summary>
    Other,
}

/// <summary>One timed insert: its call's start and end, the GC pause inside it, and the writer thread's counters over it.</summary>
/// <param name="Start">Stopwatch timestamp before the call.</param>
/// <param name="End">Stopwatch timestamp after it.</param>
/// <param name="GcPauseTicks">GC pause time (TimeSpan ticks) that ended inside the call (<see cref="GC.GetTotalPauseDuration"/>).</param>
/// <param name="GcGeneration">The highest generation collected inside the call, or -1.</param>
/// <param name="Usage">The writer thread's CPU, faults and context switches over the call (zeros off Linux).</param>
internal readonly record struct InsertSample(long Start, long End, long GcPauseTicks, int GcGeneration, ThreadUsage.Reading Usage)
{
    /// <summary>What the HNSW index did inside this insert (its add's counters), or null for another index kind.</summary>
    public HnswWriteStats? Work { get; init; }

    public double Ms => ScaleCommon.Ms(End - Start);

    public double GcPauseMs => GcPauseTicks / (double)TimeSpan.TicksPerMillisecond;

    public SlowCause Cause
    {
        get
        {
            double ms = Ms;
            if (GcPauseMs >= ms / 2)
            {
                return SlowCause.GcPause;
            }

            double offCpu = ms - (Usage.CpuMicros / 1000.0);
            if (offCpu < ms / 2)
            {
                return Usage.KernelMicros * 2 >= Usage.CpuMicros ? SlowCause.OnCpuKernel : SlowCause.OnCpu;
            }

            return Usage.Voluntary > 0 ? SlowCause.Blocked : SlowCause.Preempted;
        }
    }

    /// <summary>How much work the insert did, for its pace: the HNSW add's distances, or 1 (a flat insert's work does not vary).</summary>
    public double WorkUnits => Work is { Distances: > 0 } w ? w.Distances : 1;

    /// <summary>The writer thread's CPU time over the insert per unit of its work (<see cref="WorkUnits"/>), µs.</summary>
    public double CpuMicrosPerUnit => Usage.CpuMicros / WorkUnits;

    /// <summary>Whether the writer thread had no context switch at all over the insert (voluntary or involuntary).</summary>
    public bool NoContextSwitch => Usage.Voluntary == 0 && Usage.Involuntary == 0;

    /// <summary>
    /// How many times the usual pace (<paramref name="usualCpuMicrosPerUnit"/>: the row's median <see cref="CpuMicrosPerUnit"/>)
    /// the insert went at: its CPU time per unit of work, or, with no context switch at all, its wall time per unit
    /// (time the thread lost without the kernel ever taking it off the CPU).
    /// </summary>
    public double StallPace(double usualCpuMicrosPerUnit) =>
        Math.Max(CpuMicrosPerUnit, NoContextSwitch ? Ms * 1000 / WorkUnits : 0) / usualCpuMicrosPerUnit;

    /// <summary>
    /// A machine stall: the insert's time went at <see cref="MachineStallPace"/> times the usual pace or slower with
    /// nothing in the process to show for it: not a GC pause, not (HNSW) copying for the checkpoint's view, and either
    /// with no context switch at all (the kernel never took the thread off the CPU), or with at least half of it charged
    /// to the thread as CPU time. A context switch cannot make either: a thread switched out (preempted, or blocked in
    /// its own fsync) is off the CPU, counts the switch, and its CPU clock stops; what is left is work the kernel
    /// charges to the running thread (interrupts) or a virtual CPU its hypervisor stopped (the calibration measures
    /// both on this machine: gaps with no context switch, partly charged as CPU time).
    /// </summary>
    public bool IsMachineStall(double usualCpuMicrosPerUnit) =>
        Cause != SlowCause.GcPause
        && (Work is not { } w || HnswWriteStats.Ms(w.CopyTicks) * 2 < Ms)
        && (NoContextSwitch || Cause is SlowCause.OnCpu or SlowCause.OnCpuKernel)
        && StallPace(usualCpuMicrosPerUnit) >= MachineStallPace;

    /// <summary>How many times the usual CPU time per unit of work makes an on-CPU insert a machine stall.</summary>
    public const double MachineStallPace = 3;

    /// <summary>"12.3 ms: GC pause; GC pause 11.9 ms (gen 1), thread CPU 0.4 ms (kernel 0.0 ms), ...".</summary>
    /// <param name="usualCpuMicrosPerUnit">The row's usual pace (see <see cref="IsMachineStall"/>); NaN leaves the machine-stall verdict out.</param>
    public string Describe(double usualCpuMicrosPerUnit = double.NaN) => string.Create(
        CultureInfo.InvariantCulture,
        $"{Ms:0.00} ms: {Cause switch { SlowCause.GcPause => "GC pause", SlowCause.Blocked => "blocked", SlowCause.Preempted => "preempted", SlowCause.OnCpuKernel => "on CPU in the kernel", _ => "on CPU" }}{(!double.IsNaN(usualCpuMicrosPerUnit) && IsMachineStall(usualCpuMicrosPerUnit) ? $", machine stall ({(NoContextSwitch ? "no context switch, " : "")}{StallPace(usualCpuMicrosPerUnit):0}x the usual pace)" : "")}; GC pause {GcPauseMs:0.00} ms{(GcGeneration >= 0 ? $" (gen {GcGeneration})" : "")}, thread CPU {Usage.CpuMicros / 1000.0:0.00} ms (kernel {Usage.KernelMicros / 1000.0:0.0} ms), context switches {Usage.Voluntary} voluntary / {Usage.Involuntary} involuntary, page faults {Usage.MinorFaults} minor / {Usage.MajorFaults} major");
}

/// <summary>One checkpoint taken while a writer inserted: the checkpoint's own figures and the writer's insert latencies.</summary>
/// <param name="CheckpointWallMs">Wall time of the <see cref="VectorDatabase.Checkpoint"/> call.</param>
/// <param name="During">Latencies (ms, ascending) of inserts whose call overlapped the checkpoint call.</param>
/// <param name="Outside">Latencies (ms, ascending) of the other inserts of the window (before and after it).</param>
/// <param name="Error">The checkpoint's exception message when it failed (then <paramref name="Info"/> is null).</param>
/// <param name="Samples">Every insert of the round, in order, with what the writer measured around it.</param>
/// <param name="Window">What the process saw over the checkpoint call: GC pauses and collections, the page cache's dirty peak.</param>
internal sealed record StallRound(CheckpointInfo? Info, double CheckpointWallMs, long RowsAtStart, double[] During, double[] Outside, string? Error)
{
    public double MaxDuringMs => During.Length == 0 ? double.NaN : During[^1];

    public InsertSample[] Samples { get; init; } = [];

    public long CheckpointStart { get; init; }

    public long CheckpointEnd { get; init; }

    public WindowCounters Window { get; init; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>
    /// What the index copied for the checkpoint's captured view over the checkpoint call (chunks and upper-layer
    /// lists, bytes): the writer's copy-on-write work (zero for a flat index, which keeps no view).
    /// </summary>
    public (long Copies, long Bytes) CopyOnWrite { get; init; }

    /// <summary>The WAL's fsyncs, rotations and control writes over the round (see <see cref="WalEventListener"/>).</summary>
    public WalEvent[] WalEvents { get; init; } = [];

    /// <summary>The managed thread id of the writer thread (the WAL's own fsyncs on it are the inserts' commits).</summary>
    public int WriterThreadId { get; init; }

    public bool IsDuring(WalEvent e) => e.End > CheckpointStart && e.Start < CheckpointEnd;

    /// <summary>What the WAL was doing over <paramref name="s"/>: see <see cref="WalShare"/>.</summary>
    public WalShare WalShareOf(InsertSample s)
    {
        if (WalEvents.Any(e => e.Kind is WalEventKind.Rotation or WalEventKind.RotationWithoutSpare && e.Overlap(s.Start, s.End) > 0))
        {
            return WalShare.Rotation;
        }

        WalEvent[] fsyncs = [.. WalEvents.Where(e => e.Kind == WalEventKind.SegmentFsync && e.ThreadId == WriterThreadId && e.Overlap(s.Start, s.End) > 0)];
        if (fsyncs.Sum(e => e.Overlap(s.Start, s.End)) * 2 < s.End - s.Start)
        {
            long others = WalEvents.Where(e => e.Kind == WalEventKind.SegmentFsync && e.ThreadId != WriterThreadId).Sum(e => e.Overlap(s.Start, s.End));
            return others * 2 >= s.End - s.Start ? WalShare.OtherThreadsFsync : WalShare.Other;
        }

        return fsyncs.Any(f => WalEvents.Any(c => c.Kind == WalEventKind.ControlWrite && c.Overlap(f.Start, f.End) > 0))
            ? WalShare.FsyncWithControlWrite
            : WalShare.Fsync;
    }

    public bool IsDuring(InsertSample s) => s.End > CheckpointStart && s.Start < CheckpointEnd;

    /// <summary>The longest insert during the checkpoint, or null.</summary>
    public InsertSample? LongestDuring => Samples.Where(IsDuring).Select(s => (InsertSample?)s).MaxBy(s => s!.Value.Ms);

    /// <summary>The longest insert outside it, or null.</summary>
    public InsertSample? LongestOutside => Samples.Where(s => !IsDuring(s)).Select(s => (InsertSample?)s).MaxBy(s => s!.Value.Ms);

    public int CountOver(double ms, bool during) => Samples.Count(s => IsDuring(s) == during && s.Ms > ms);
}

/// <summary>Process-wide figures over the checkpoint call.</summary>
/// <param name="GcPauseMs">GC pause time (all collections, all threads stopped) that ended during the call.</param>
/// <param name="Gen0">Collections of generation 0 only.</param>
/// <param name="Gen1">Collections of generation 1 (not 2).</param>
/// <param name="Gen2">Collections of generation 2 (blocking or background).</param>
/// <param name="MaxDirtyMb">The page cache's largest Dirty + Writeback (MB, /proc/meminfo, sampled every 20 ms), from the checkpoint's start to its end.</param>
/// <param name="AllocatedMb">Bytes allocated by the process during the call (MB).</param>
internal sealed record WindowCounters(double GcPauseMs, int Gen0, int Gen1, int Gen2, double MaxDirtyMb, double AllocatedMb)
{
    /// <summary>Bytes (MB) allocated by the thread that ran the checkpoint (<see cref="GC.GetAllocatedBytesForCurrentThread"/> around the call): the checkpoint's own share of <see cref="AllocatedMb"/>.</summary>
    public double CheckpointThreadMb { get; init; }

    /// <summary>Bytes the writer thread allocated per insert over the round (its id string included): what drives its gen0 collections.</summary>
    public double WriterBytesPerInsert { get; init; }
}

/// <summary>
/// Runs one writer thread inserting single-record commits into a collection while the calling thread takes a
/// checkpoint with <see cref="VectorDatabase.Checkpoint"/>, and records every insert's start and end with the GC pause
/// inside it and the writer thread's own counters (CPU, context switches, page faults), so that each slow insert can
/// be attributed.
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
    public static StallRound Run(VectorDatabase db, string collection, float[][] pool, string prefix, double beforeSeconds, double afterSeconds, WalEventListener walEvents)
    {
        _ = walEvents.Take(); // the warm-up's and the previous round's
        // Preallocated so the writer's own bookkeeping does not allocate large arrays (and trigger collections) mid-run.
        var samples = new List<InsertSample>(1 << 18);
        int stop = 0;
        Exception? writerError = null;
        long writerAllocated = 0, writerInserts = 0;
        var writer = new Thread(() =>
        {
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            long i = 0;
            try
            {
                long origin = Stopwatch.GetTimestamp();
                double ticksPerInsert = Stopwatch.Frequency / (double)MaxInsertsPerSecond;
                while (Volatile.Read(ref stop) == 0)
                {
                    if (Stopwatch.GetTimestamp() < origin + (long)(i * ticksPerInsert))
                    {
                        Thread.Sleep(1);
                        continue;
                    }

                    string id = ScaleCommon.Id(prefix, i);
                    float[] vector = pool[i % pool.Length];
                    ThreadUsage.Reading u0 = ThreadUsage.Now();
                    int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
                    TimeSpan p0 = GC.GetTotalPauseDuration();
                    HnswWriteStats? w0 = db.IndexWriteStats(collection);
                    long t0 = Stopwatch.GetTimestamp();
                    _ = db.Insert(collection, id, vector);
                    long t1 = Stopwatch.GetTimestamp();
                    HnswWriteStats? w1 = db.IndexWriteStats(collection);
                    TimeSpan p1 = GC.GetTotalPauseDuration();
                    int generation = GC.CollectionCount(2) != g2 ? 2 : GC.CollectionCount(1) != g1 ? 1 : GC.CollectionCount(0) != g0 ? 0 : -1;
                    ThreadUsage.Reading u1 = ThreadUsage.Now();
                    samples.Add(new InsertSample(t0, t1, (p1 - p0).Ticks, generation, u1 - u0) { Work = w1 - w0 });
                    i++;
                }

                writerAllocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
                writerInserts = i;
            }
#pragma warning disable CA1031 // Reported after the join.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                writerError = ex;
            }
        })
        { Name = "stall-writer" };
        int writerThreadId = writer.ManagedThreadId;

        writer.Start();
        // Window lengths, not synchronisation: the writer runs freely before and after the checkpoint.
        Thread.Sleep(TimeSpan.FromSeconds(beforeSeconds));
        long rows = db.Count(collection);
        CheckpointInfo? info = null;
        string? error = null;
        using var dirty = new DirtyPageSampler();
        int c0Gen0 = GC.CollectionCount(0), c0Gen1 = GC.CollectionCount(1), c0Gen2 = GC.CollectionCount(2);
        TimeSpan pause0 = GC.GetTotalPauseDuration();
        long allocated0 = GC.GetTotalAllocatedBytes();
        long ownAllocated0 = GC.GetAllocatedBytesForCurrentThread();
        (long Copies, long Bytes) cow0 = db.IndexCopyOnWrite(collection);
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
        (long Copies, long Bytes) cow1 = db.IndexCopyOnWrite(collection);
        double pauseMs = (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds;
        int gen2 = GC.CollectionCount(2) - c0Gen2, gen1 = GC.CollectionCount(1) - c0Gen1 - gen2, gen0 = GC.CollectionCount(0) - c0Gen0 - gen1 - gen2;
        double allocatedMb = (GC.GetTotalAllocatedBytes() - allocated0) / 1e6;
        double checkpointThreadMb = (GC.GetAllocatedBytesForCurrentThread() - ownAllocated0) / 1e6;
        double maxDirty = dirty.Stop();
        Thread.Sleep(TimeSpan.FromSeconds(afterSeconds));
        Volatile.Write(ref stop, 1);
        writer.Join();
        if (writerError is not null)
        {
            throw new InvalidOperationException("the writer failed during the stall probe: " + writerError.Message, writerError);
        }

        var during = new List<double>();
        var outside = new List<double>();
        foreach (InsertSample s in samples)
        {
            (s.End > c0 && s.Start < c1 ? during : outside).Add(s.Ms);
        }

        during.Sort();
        outside.Sort();
        return new StallRound(info, ScaleCommon.Ms(c1 - c0), rows, [.. during], [.. outside], error)
        {
            Samples = [.. samples],
            CheckpointStart = c0,
            CheckpointEnd = c1,
            Window = new WindowCounters(pauseMs, gen0, gen1, gen2, maxDirty, allocatedMb)
            {
                CheckpointThreadMb = checkpointThreadMb,
                WriterBytesPerInsert = writerInserts == 0 ? 0 : writerAllocated / (double)writerInserts,
            },
            WalEvents = walEvents.Take(),
            WriterThreadId = writerThreadId,
            CopyOnWrite = (cow1.Copies - cow0.Copies, cow1.Bytes - cow0.Bytes),
        };
    }

    /// <summary>Samples Dirty + Writeback of /proc/meminfo every 20 ms on its own thread until stopped; keeps the peak (MB).</summary>
    private sealed class DirtyPageSampler : IDisposable
    {
        private readonly Thread? _thread;
        private readonly ManualResetEventSlim _stop = new();
        private double _peakMb = double.NaN;

        public DirtyPageSampler()
        {
            if (!File.Exists("/proc/meminfo"))
            {
                return;
            }

            _thread = new Thread(() =>
            {
                do
                {
                    double mb = Read();
                    _peakMb = double.IsNaN(_peakMb) ? mb : Math.Max(_peakMb, mb);
                }
                while (!_stop.Wait(20));
            })
            { Name = "stall-dirty-sampler", IsBackground = true };
            _thread.Start();
        }

        /// <summary>Stops sampling and returns the peak (NaN where /proc/meminfo is absent).</summary>
        public double Stop()
        {
            _stop.Set();
            _thread?.Join();
            return _peakMb;
        }

        public void Dispose()
        {
            Stop();
            _stop.Dispose();
        }

        private static double Read()
        {
            long kb = 0;
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("Dirty:", StringComparison.Ordinal) || line.StartsWith("Writeback:", StringComparison.Ordinal))
                {
                    kb += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                }
            }

            return kb / 1024.0;
        }
    }
}

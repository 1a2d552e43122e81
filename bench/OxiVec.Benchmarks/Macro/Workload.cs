using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using OxiVec.Benchmarks.Macro.Peers;
using OxiVec.Wal;

namespace OxiVec.Benchmarks.Macro;

/// <summary>What a cell measures.</summary>
internal enum CellKind
{
    /// <summary>No WAL: the in-memory work of an insert only (<see cref="InMemoryStore"/>).</summary>
    Baseline,

    /// <summary>One <see cref="WalManager.LogInsert"/> per commit.</summary>
    Wal,

    /// <summary><see cref="WalManager.BeginTransaction"/>, <see cref="Workload.TransactionBatch"/> inserts, <see cref="WalTransaction.Commit"/>.</summary>
    Transaction,

    /// <summary>One insert per commit, awaited (<see cref="WalManager.AppendAsync"/>) by asynchronous tasks instead of threads.</summary>
    WalAsync,

    /// <summary>
    /// Peer: FASTER's FasterLog, one record per commit (<see cref="Peers.FasterLogPeer"/>). SyncIntervalMs 0: each
    /// commit waits until durable; 1000: a commit every second, writers wait only for the enqueue.
    /// </summary>
    FasterLog,

    /// <summary>Peer: FasterLog, <see cref="Workload.TransactionBatch"/> records enqueued as one atomic batch, then committed (SyncIntervalMs 0).</summary>
    FasterLogTransaction,

    /// <summary>
    /// Peer: SQLite in WAL mode with application-level group commit (<see cref="Peers.SqliteGroupCommitPeer"/>: one
    /// connection, writers enqueue, one thread commits everything queued in one transaction). SyncIntervalMs 0:
    /// <c>synchronous=FULL</c>; 1000: <c>synchronous=NORMAL</c> (process-crash safe, like a positive interval).
    /// </summary>
    Sqlite,

    /// <summary>
    /// Secondary peer row: SQLite with one connection per writer, one row per autocommit transaction
    /// (<see cref="Peers.SqlitePeer"/>); contending writers sleep in SQLite's busy handler. SyncIntervalMs 0 only.
    /// </summary>
    SqliteConnections,

    /// <summary>Peer: SQLite, transactions of <see cref="Workload.TransactionBatch"/> rows (SyncIntervalMs 0: <c>synchronous=FULL</c>).</summary>
    SqliteTransaction,
}

/// <summary>One cell of the result grid.</summary>
/// <param name="SyncIntervalMs">
/// The WAL's sync interval; for a peer, the OxiVec policy its variant is compared with: 0 for a commit that is
/// durable when it returns, <see cref="Workload.PeerIntervalMs"/> for the peer's process-crash-safe or periodic variant.
/// </param>
internal readonly record struct CellKey(CellKind Kind, int SyncIntervalMs, int Writers)
{
    /// <summary>True for the peers measured against OxiVec (FasterLog, SQLite).</summary>
    public bool IsPeer => Kind is CellKind.FasterLog or CellKind.FasterLogTransaction or CellKind.Sqlite or CellKind.SqliteConnections or CellKind.SqliteTransaction;

    /// <summary>True when a commit carries <see cref="Workload.TransactionBatch"/> records.</summary>
    public bool IsBatch => Kind is CellKind.Transaction or CellKind.FasterLogTransaction or CellKind.SqliteTransaction;

    public override string ToString() => Kind switch
    {
        CellKind.Baseline => string.Create(CultureInfo.InvariantCulture, $"baseline (no WAL), writers={Writers}"),
        CellKind.Transaction => string.Create(CultureInfo.InvariantCulture, $"transactions of {Workload.TransactionBatch}, SyncIntervalMs={SyncIntervalMs}, writers={Writers}"),
        CellKind.Wal => string.Create(CultureInfo.InvariantCulture, $"WAL SyncIntervalMs={SyncIntervalMs}, writers={Writers}"),
        CellKind.WalAsync => string.Create(CultureInfo.InvariantCulture, $"WAL SyncIntervalMs={SyncIntervalMs}, async tasks={Writers}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Workload.PeerName(this)}, writers={Writers}"),
    };
}

/// <summary>The outcome of one run of one cell.</summary>
/// <param name="Ops">Inserts done.</param>
/// <param name="Commits">Acknowledged commits (inserts, or transactions for <see cref="CellKind.Transaction"/>).</param>
/// <param name="Seconds">From the start signal to the last acknowledgement.</param>
/// <param name="WalBytes">Bytes the WAL wrote to its segment files (<see cref="WalMetrics.BytesWritten"/> delta).</param>
/// <param name="Syncs">fsyncs the WAL performed (<see cref="WalMetrics.SyncCount"/> delta).</param>
/// <param name="Latency">Commit latency: the time of each LogInsert (or Commit) call.</param>
/// <param name="WalAvgSyncMs">The WAL's own average fsync time (<see cref="WalMetrics.LifetimeAvgSyncLatencyMs"/>, since the WAL was opened); NaN without fsyncs.</param>
/// <param name="CpuCores">Process CPU time (user + system, all threads) over the run's wall time: cores kept busy.</param>
/// <param name="Writers">Writer threads.</param>
/// <param name="VoluntarySwitches">Context switches of the process during the run where a thread blocked (NaN when unknown).</param>
/// <param name="InvoluntarySwitches">Context switches where a runnable thread was preempted or yielded (spin-waiting shows here).</param>
/// <param name="SyncBatches">The WAL's commits-per-fsync histogram over the run (<see cref="WalMetrics.CommitsPerSyncHistogram"/> delta); empty for peers.</param>
internal sealed record WorkloadRun(
    long Ops, long Commits, double Seconds, long WalBytes, long Syncs, LatencySummary Latency, double WalAvgSyncMs, double CpuCores,
    int Writers, double VoluntarySwitches, double InvoluntarySwitches, IReadOnlyList<WalCommitBatchBucket>? SyncBatches = null)
{
    /// <summary>Process CPU time per commit, in microseconds.</summary>
    public double CpuMicrosPerCommit => Commits == 0 ? double.NaN : CpuCores * Seconds / Commits * 1e6;

    /// <summary>Share of the writers' time spent inside commits of 10 ms or more.</summary>
    public double StalledShare => Latency.SlowSeconds / (Writers * Seconds);

    public double OpsPerSecond => Ops / Seconds;

    public double CommitsPerSecond => Commits / Seconds;

    public double WalMBPerSecond => WalBytes / 1e6 / Seconds;

    public double SyncsPerSecond => Syncs / Seconds;

    public double CommitsPerSync => Syncs == 0 ? double.NaN : Commits / (double)Syncs;
}

/// <summary>
/// Runs cells: N writer threads in a tight loop for a fixed duration (or until a total operation cap), each
/// timing every commit with <see cref="Stopwatch"/> timestamps into its own array.
/// </summary>
internal sealed class Workload(Dataset data, string workRoot, FasterLogConfig fasterLog)
{
    /// <summary>Inserts per transaction in the transaction row.</summary>
    public const int TransactionBatch = 100;

    /// <summary>The OxiVec sync interval the peers' non-durable variants are compared with (<c>HighThroughput</c>).</summary>
    public const int PeerIntervalMs = 1_000;

    /// <summary>What a peer cell runs, as the report and the progress lines name it.</summary>
    public static string PeerName(CellKey cell) => (cell.Kind, cell.SyncIntervalMs) switch
    {
        (CellKind.FasterLog, 0) => "FasterLog, commit per record",
        (CellKind.FasterLog, _) => "FasterLog, commit every 1 s",
        (CellKind.FasterLogTransaction, _) => $"FasterLog, atomic batches of {TransactionBatch}",
        (CellKind.Sqlite, 0) => "SQLite WAL, synchronous=FULL, group commit",
        (CellKind.Sqlite, _) => "SQLite WAL, synchronous=NORMAL, group commit",
        (CellKind.SqliteConnections, _) => "SQLite WAL, synchronous=FULL, one connection per writer (secondary)",
        (CellKind.SqliteTransaction, 0) => $"SQLite WAL, synchronous=FULL, transactions of {TransactionBatch}",
        (CellKind.SqliteTransaction, _) => $"SQLite WAL, synchronous=NORMAL, transactions of {TransactionBatch}",
        _ => cell.Kind.ToString(),
    };

    /// <summary>The guide's profile for a sync interval, pointed at <paramref name="dir"/>.</summary>
    public static WalConfig Profile(int syncIntervalMs, string dir) => syncIntervalMs switch
    {
        0 => WalConfig.MaximumDurability,
        100 => WalConfig.Balanced,
        1_000 => WalConfig.HighThroughput,
        10_000 => WalConfig.Development,
        _ => WalConfig.Default with { SyncIntervalMs = syncIntervalMs },
    } with { WalDir = dir };

    public static string ProfileName(int syncIntervalMs) => syncIntervalMs switch
    {
        0 => nameof(WalConfig.MaximumDurability),
        100 => nameof(WalConfig.Balanced),
        1_000 => nameof(WalConfig.HighThroughput),
        10_000 => nameof(WalConfig.Development),
        _ => "custom",
    };

    public WorkloadRun Run(CellKey cell, TimeSpan duration, long maxOps) => cell.Kind switch
    {
        CellKind.Baseline => RunBaseline(cell.Writers, duration, maxOps),
        CellKind.Wal => RunWal(cell, duration, maxOps),
        CellKind.Transaction => RunWal(cell, duration, maxOps),
        CellKind.WalAsync => RunWal(cell, duration, maxOps),
        _ when cell.IsPeer => RunPeer(cell, duration, maxOps),
        _ => throw new ArgumentOutOfRangeException(nameof(cell)),
    };

    private WorkloadRun RunBaseline(int writers, TimeSpan duration, long maxOps)
    {
        var store = new InMemoryStore(writers);
        Driven d = Drive(writers, duration, maxOps, (w, seq, latency) =>
        {
            string id = Dataset.Id(w, seq);
            ReadOnlyMemory<float> vector = data.Vector(seq);
            ReadOnlyMemory<byte> metadata = data.Metadata(seq);
            long t0 = Stopwatch.GetTimestamp();
            store.Insert(w, seq, id, vector.Span, metadata.Span);
            latency.Add(Stopwatch.GetTimestamp() - t0);
            return 1;
        });
        return new WorkloadRun(d.Ops, d.Ops, d.Seconds, 0, 0, d.Latency, double.NaN, d.CpuCores, writers, d.Voluntary, d.Involuntary);
    }

    private WorkloadRun RunWal(CellKey cell, TimeSpan duration, long maxOps)
    {
        string dir = Path.Combine(workRoot, "wal-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            WalMetrics before, after;
            Driven d;
            using (WalManager wal = WalManager.Open(Profile(cell.SyncIntervalMs, dir)))
            {
                before = wal.GetMetrics();
                d = cell.Kind switch
                {
                    CellKind.Transaction => DriveTransactions(wal, cell.Writers, duration, maxOps),
                    CellKind.WalAsync => DriveInsertsAsync(wal, cell.Writers, duration, maxOps),
                    _ => DriveInserts(wal, cell.Writers, duration, maxOps),
                };
                after = wal.GetMetrics();
            }

            long syncs = after.SyncCount - before.SyncCount;
            long commits = cell.Kind == CellKind.Transaction ? d.Ops / TransactionBatch : d.Ops;
            return new WorkloadRun(
                d.Ops, commits, d.Seconds, after.BytesWritten - before.BytesWritten, syncs, d.Latency, syncs == 0 ? double.NaN : after.LifetimeAvgSyncLatencyMs, d.CpuCores,
                cell.Writers, d.Voluntary, d.Involuntary,
                [.. after.CommitsPerSyncHistogram.Zip(before.CommitsPerSyncHistogram, (a, b) => a with { Syncs = a.Syncs - b.Syncs })]);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private Driven DriveInserts(WalManager wal, int writers, TimeSpan duration, long maxOps) =>
        Drive(writers, duration, maxOps, (w, seq, latency) =>
        {
            string id = Dataset.Id(w, seq);
            ReadOnlyMemory<float> vector = data.Vector(seq);
            ReadOnlyMemory<byte> metadata = data.Metadata(seq);
            long t0 = Stopwatch.GetTimestamp();
            wal.LogInsert(Dataset.Collection, id, vector, metadata);
            latency.Add(Stopwatch.GetTimestamp() - t0);
            return 1;
        });

    /// <summary>
    /// <paramref name="tasks"/> asynchronous writers on the thread pool, each awaiting its commit (<see cref="WalManager.AppendAsync"/>):
    /// the server's shape, where a request's commit frees its thread while it waits.
    /// </summary>
    private Driven DriveInsertsAsync(WalManager wal, int tasks, TimeSpan duration, long maxOps)
    {
        var buffers = new LatencyBuffer[tasks];
        long[] done = new long[tasks];
        long[] lastDone = new long[tasks];
        int stop = 0;
        using var usage = new UsageProbe();
        long start = Stopwatch.GetTimestamp();
        long deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var running = new Task[tasks];
        for (int w = 0; w < tasks; w++)
        {
            int writer = w;
            buffers[w] = new LatencyBuffer((int)Math.Min(1 << 16, maxOps / tasks + 1));
            running[w] = Task.Run(async () =>
            {
                LatencyBuffer latency = buffers[writer];
                long seq = 0;
                while (Volatile.Read(ref stop) == 0)
                {
                    var entry = new WalEntry.Insert(Dataset.Collection, Dataset.Id(writer, seq), data.Vector(seq), data.Metadata(seq));
                    long t0 = Stopwatch.GetTimestamp();
                    await wal.AppendAsync(entry).ConfigureAwait(false);
                    long t1 = Stopwatch.GetTimestamp();
                    latency.Add(t1 - t0);
                    seq++;
                    Volatile.Write(ref done[writer], seq);
                    if (t1 >= deadline || Volatile.Read(ref done[writer]) * tasks >= maxOps)
                    {
                        Volatile.Write(ref stop, 1);
                    }
                }

                lastDone[writer] = Stopwatch.GetTimestamp();
            });
        }

        Task.WaitAll(running);
        return usage.Finish(done.Sum(), start, lastDone.Max(), LatencySummary.Merge(buffers));
    }

    private Driven DriveTransactions(WalManager wal, int writers, TimeSpan duration, long maxOps) =>
        Drive(writers, duration, maxOps, (w, seq, latency) =>
        {
            using WalTransaction tx = wal.BeginTransaction();
            for (int i = 0; i < TransactionBatch; i++)
            {
                tx.LogInsert(Dataset.Collection, Dataset.Id(w, seq + i), data.Vector(seq + i), data.Metadata(seq + i));
            }

            long t0 = Stopwatch.GetTimestamp();
            tx.Commit();
            latency.Add(Stopwatch.GetTimestamp() - t0);
            return TransactionBatch;
        });

    /// <summary>
    /// A peer on the same records: each record is the payload of the OxiVec insert record with the same writer and
    /// sequence (<see cref="Dataset.EncodePayload"/>), encoded by the writer before its commit is timed, as OxiVec
    /// encodes inside <c>LogInsert</c>. Latency is the peer's commit call; WAL bytes and fsyncs are not counted.
    /// </summary>
    private WorkloadRun RunPeer(CellKey cell, TimeSpan duration, long maxOps)
    {
        string dir = Path.Combine(workRoot, "peer-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        try
        {
            Driven d;
            using (IPeerLog peer = OpenPeer(cell, dir))
            {
                d = cell.IsBatch ? DrivePeerBatches(peer, cell.Writers, duration, maxOps) : DrivePeerRecords(peer, cell.Writers, duration, maxOps);
            }

            long commits = cell.IsBatch ? d.Ops / TransactionBatch : d.Ops;
            return new WorkloadRun(d.Ops, commits, d.Seconds, 0, 0, d.Latency, double.NaN, d.CpuCores, cell.Writers, d.Voluntary, d.Involuntary);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private IPeerLog OpenPeer(CellKey cell, string dir) => cell.Kind switch
    {
        CellKind.FasterLog or CellKind.FasterLogTransaction => new FasterLogPeer(dir, commitPerRecord: cell.SyncIntervalMs == 0, fasterLog),
        CellKind.Sqlite => new SqliteGroupCommitPeer(dir, fullSync: cell.SyncIntervalMs == 0),
        CellKind.SqliteConnections or CellKind.SqliteTransaction => new SqlitePeer(dir, cell.Writers, fullSync: cell.SyncIntervalMs == 0),
        _ => throw new ArgumentOutOfRangeException(nameof(cell)),
    };

    private Driven DrivePeerRecords(IPeerLog peer, int writers, TimeSpan duration, long maxOps)
    {
        byte[][] records = [.. Enumerable.Range(0, writers).Select(_ => new byte[data.PayloadBytes])];
        return Drive(writers, duration, maxOps, (w, seq, latency) =>
        {
            byte[] record = records[w];
            data.EncodePayload(w, seq, record);
            long t0 = Stopwatch.GetTimestamp();
            peer.Commit(w, record);
            latency.Add(Stopwatch.GetTimestamp() - t0);
            return 1;
        });
    }

    private Driven DrivePeerBatches(IPeerLog peer, int writers, TimeSpan duration, long maxOps)
    {
        byte[][][] batches = [.. Enumerable.Range(0, writers).Select(_ => Enumerable.Range(0, TransactionBatch).Select(_ => new byte[data.PayloadBytes]).ToArray())];
        return Drive(writers, duration, maxOps, (w, seq, latency) =>
        {
            byte[][] batch = batches[w];
            for (int i = 0; i < TransactionBatch; i++)
            {
                data.EncodePayload(w, seq + i, batch[i]);
            }

            long t0 = Stopwatch.GetTimestamp();
            peer.CommitBatch(w, batch);
            latency.Add(Stopwatch.GetTimestamp() - t0);
            return TransactionBatch;
        });
    }

    /// <summary>
    /// One step of a writer: does <c>n</c> inserts starting at sequence <c>seq</c>, records the commit latency,
    /// returns <c>n</c>.
    /// </summary>
    private delegate int Step(int writer, long seq, LatencyBuffer latency);

    private readonly record struct Driven(long Ops, double Seconds, LatencySummary Latency, double CpuCores, double Voluntary, double Involuntary);

    /// <summary>The process's CPU time and context switches from the probe's creation to <see cref="Finish"/> (one drive of the writers).</summary>
    private sealed class UsageProbe : IDisposable
    {
        private readonly Process _process = Process.GetCurrentProcess();
        private readonly TimeSpan _cpuBefore;
        private readonly (long Voluntary, long Involuntary)? _switchesBefore;

        public UsageProbe()
        {
            _cpuBefore = _process.TotalProcessorTime;
            _switchesBefore = Native.ContextSwitches();
        }

        /// <summary>The drive's result: <paramref name="ops"/> done from <paramref name="start"/> to <paramref name="lastDone"/> (timestamps), CPU in cores over the whole drive.</summary>
        public Driven Finish(long ops, long start, long lastDone, LatencySummary latency)
        {
            double seconds = (lastDone - start) / (double)Stopwatch.Frequency;
            (long Voluntary, long Involuntary)? switchesAfter = Native.ContextSwitches();
            _process.Refresh();
            double cpu = (_process.TotalProcessorTime - _cpuBefore).TotalSeconds / Stopwatch.GetElapsedTime(start).TotalSeconds;
            (double voluntary, double involuntary) = _switchesBefore is { } b && switchesAfter is { } a
                ? (a.Voluntary - b.Voluntary, a.Involuntary - b.Involuntary)
                : (double.NaN, double.NaN);
            return new Driven(ops, seconds, latency, cpu, voluntary, involuntary);
        }

        public void Dispose() => _process.Dispose();
    }

    private static Driven Drive(int writers, TimeSpan duration, long maxOps, Step step)
    {
        const int Stride = 16; // one cache line (and more) between the writers' published counters
        long[] published = new long[writers * Stride];
        long[] lastDone = new long[writers];
        var buffers = new LatencyBuffer[writers];
        var threads = new Thread[writers];
        Exception?[] failures = new Exception?[writers];
        using var ready = new CountdownEvent(writers);
        using var go = new ManualResetEventSlim(false);
        int stop = 0;
        for (int w = 0; w < writers; w++)
        {
            int writer = w;
            buffers[w] = new LatencyBuffer((int)Math.Min(1 << 16, maxOps / writers + 1));
            threads[w] = new Thread(() =>
            {
                LatencyBuffer latency = buffers[writer];
                long seq = 0;
                ready.Signal();
                go.Wait();
                try
                {
                    while (Volatile.Read(ref stop) == 0)
                    {
                        seq += step(writer, seq, latency);
                        Volatile.Write(ref published[writer * Stride], seq);
                    }
                }
#pragma warning disable CA1031 // reported by the driver after the join
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failures[writer] = ex;
                    Volatile.Write(ref stop, 1);
                }

                lastDone[writer] = Stopwatch.GetTimestamp();
            })
            {
                IsBackground = true,
                Name = string.Create(CultureInfo.InvariantCulture, $"bench-writer-{w}"),
            };
            threads[w].Start();
        }

        ready.Wait();
        using var usage = new UsageProbe();
        long start = Stopwatch.GetTimestamp();
        long deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        go.Set();
        while (Volatile.Read(ref stop) == 0)
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= deadline)
            {
                break;
            }

            long done = 0;
            for (int w = 0; w < writers; w++)
            {
                done += Volatile.Read(ref published[w * Stride]);
            }

            if (done >= maxOps)
            {
                break;
            }

            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Clamp((deadline - now) * 1000.0 / Stopwatch.Frequency, 1, 10)));
        }

        Volatile.Write(ref stop, 1);
        foreach (Thread t in threads)
        {
            t.Join();
        }

        if (failures.FirstOrDefault(f => f is not null) is { } failure)
        {
            throw new InvalidOperationException("a writer failed: " + failure.Message, failure);
        }

        long ops = 0;
        for (int w = 0; w < writers; w++)
        {
            ops += published[w * Stride];
        }

        return usage.Finish(ops, start, lastDone.Max(), LatencySummary.Merge(buffers));
    }
}

/// <summary>
/// The no-WAL baseline: the in-memory work an insert does without durability. Per insert: copy the 128 floats
/// and the 32 metadata bytes into the writer's preallocated ring of 4096 slots, and upsert id → slot in one
/// shared <see cref="ConcurrentDictionary{TKey,TValue}"/>, first removing the id the slot held before (so the
/// map stays at writers × 4096 entries and the run measures steady state, not growth).
/// </summary>
internal sealed class InMemoryStore
{
    public const int SlotsPerWriter = 4096;

    private readonly ConcurrentDictionary<string, int> _index;
    private readonly float[][] _vectors;
    private readonly byte[][] _metadata;
    private readonly string?[][] _slotIds;

    public InMemoryStore(int writers)
    {
        _index = new ConcurrentDictionary<string, int>(Environment.ProcessorCount, writers * SlotsPerWriter, StringComparer.Ordinal);
        _vectors = [.. Enumerable.Range(0, writers).Select(_ => new float[SlotsPerWriter * Dataset.Dimensions])];
        _metadata = [.. Enumerable.Range(0, writers).Select(_ => new byte[SlotsPerWriter * Dataset.MetadataBytes])];
        _slotIds = [.. Enumerable.Range(0, writers).Select(_ => new string?[SlotsPerWriter])];
    }

    public void Insert(int writer, long seq, string id, ReadOnlySpan<float> vector, ReadOnlySpan<byte> metadata)
    {
        int slot = (int)(seq & (SlotsPerWriter - 1));
        vector.CopyTo(_vectors[writer].AsSpan(slot * Dataset.Dimensions, Dataset.Dimensions));
        metadata.CopyTo(_metadata[writer].AsSpan(slot * Dataset.MetadataBytes, Dataset.MetadataBytes));
        string?[] ids = _slotIds[writer];
        if (ids[slot] is { } previous)
        {
            _index.TryRemove(previous, out _);
        }

        ids[slot] = id;
        _index[id] = (writer * SlotsPerWriter) + slot;
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>
/// How group commit forms its batches, shown by holding segment fsyncs open on the simulated disk: which fsync covers
/// which commit, whom an fsync's end wakes, who runs the next fsync, and the commit delay. No timing is asserted (one
/// test bounds the CPU a waiting syncer uses over an observation window).
/// </summary>
public sealed class WalGroupCommitTests
{
    [Fact]
    public async Task WritersArrivingDuringAHeldFsync_AreNotWokenByIt_AndTheNextSingleFsyncCoversThemAll()
    {
        var disk = new SimulatedDisk($"/sim/{Guid.NewGuid():N}"); // its own directory tag: other tests' WALs record too
        using var wal = WalManager.Open(disk, Config(disk.Directory));
        var recorded = new List<int>();
        using MeterListener listener = ListenToBatches(disk.Directory, recorded);
        using var held = new HeldSegmentSyncs(disk, hold: 2);

        Task leader = Task.Run(() => wal.Append(InsertFor(1)));
        held.WaitUntilHeld(1);
        Task[] followers = [.. Enumerable.Range(2, 10).Select(n => Task.Run(() => wal.Append(InsertFor(n))))];
        WaitUntil(() => wal.WaitingCommits == 11, "the followers never joined the next batch");
        held.Release(1);
        await leader;

        // The next fsync (for the followers) is held now: none of them has been woken, and none is acknowledged.
        held.WaitUntilHeld(2);
        Assert.All(followers, f => Assert.False(f.IsCompleted, "acknowledged before an fsync covered it"));
        Assert.Equal(0, wal.UncoveredWakeups);
        Assert.Equal(1, wal.DurableLsn);
        held.Release(2);
        await Task.WhenAll(followers);

        Assert.Equal(2, held.Syncs);
        Assert.Equal(11, wal.DurableLsn);
        Assert.Equal(0, wal.UncoveredWakeups);
        WalMetrics metrics = wal.GetMetrics();
        Assert.Equal(2, metrics.CommitSyncs);
        Assert.Equal(5.5, metrics.AvgCommitsPerSync);
        Assert.Equal(1, Bar(metrics, 1).Syncs);
        Assert.Equal(1, Bar(metrics, 10).Syncs);
        Assert.Equal(2, metrics.CommitsPerSyncHistogram.Sum(b => b.Syncs));
        lock (recorded)
        {
            Assert.Equal(new[] { 1, 10 }, recorded);
        }
    }

    [Fact]
    public async Task AsyncWritersArrivingDuringAHeldFsync_AreNotWokenByIt_AndTheNextSingleFsyncCoversThemAll()
    {
        var disk = new SimulatedDisk();
        await using var wal = WalManager.Open(disk, Config(disk.Directory));
        using var held = new HeldSegmentSyncs(disk, hold: 2);

        Task<long> leader = Task.Run(() => wal.AppendAsync(InsertFor(1)).AsTask());
        held.WaitUntilHeld(1);
        Task<long>[] followers = [.. Enumerable.Range(2, 99).Select(n => Task.Run(() => wal.AppendAsync(InsertFor(n)).AsTask()))];
        WaitUntil(() => wal.WaitingCommits == 100, "the followers never joined the next batch");
        held.Release(1);
        Assert.Equal(1, await leader);

        held.WaitUntilHeld(2);
        Assert.All(followers, f => Assert.False(f.IsCompleted, "acknowledged before an fsync covered it"));
        Assert.Equal(0, wal.UncoveredWakeups);
        held.Release(2);
        long[] lsns = await Task.WhenAll(followers);

        Assert.Equal(Enumerable.Range(2, 99).Select(n => (long)n), lsns.Order());
        Assert.Equal(2, held.Syncs);
        Assert.Equal(100, wal.DurableLsn);
        Assert.Equal(0, wal.UncoveredWakeups);
        Assert.Equal(1, Bar(wal.GetMetrics(), 99).Syncs);
    }

    [Fact]
    public void NextFsync_IsRunByABlockedWriterOfItsBatch_NotByThePreviousSyncerNorAPoolThread()
    {
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory) with { CommitDelayMicros = 0 });
        using var held = new HeldSegmentSyncs(disk, hold: 2);

        var leader = new Thread(() => wal.Append(InsertFor(1)));
        leader.Start();
        held.WaitUntilHeld(1);
        Thread[] followers = [.. Enumerable.Range(2, 4).Select(n => new Thread(() => wal.Append(InsertFor(n))))];
        foreach (Thread follower in followers)
        {
            follower.Start();
        }

        WaitUntil(() => wal.WaitingCommits == 5, "the followers never joined the next batch");
        held.Release(1);
        held.WaitUntilHeld(2);

        Assert.Contains(held.SyncThreads[1], followers.Select(f => f.ManagedThreadId));
        held.Release(2);
        Assert.True(leader.Join(TimeSpan.FromSeconds(60)));
        Assert.All(followers, f => Assert.True(f.Join(TimeSpan.FromSeconds(60))));
        Assert.Equal(5, wal.DurableLsn);
        Assert.Equal(0, wal.UncoveredWakeups);
    }

    [Fact]
    public async Task FsyncFailsWhileTheNextBatchWaits_EveryWaiterThrowsWalFailed()
    {
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory));
        using var held = new HeldSegmentSyncs(disk, hold: 1, failHeld: true);

        Task leader = Task.Run(() => wal.Append(InsertFor(1)));
        held.WaitUntilHeld(1);
        Task[] followers = [.. Enumerable.Range(2, 5).Select(n => Task.Run(() => wal.Append(InsertFor(n))))];
        WaitUntil(() => wal.WaitingCommits == 6, "the followers never joined the next batch");
        held.Release(1);

        foreach (Task writer in (Task[])[leader, .. followers])
        {
            await Assert.ThrowsAsync<WalFailedException>(() => writer);
        }

        Assert.Equal(0, wal.DurableLsn);
        Assert.True(wal.GetMetrics().IsFailed);
    }

    [Fact]
    public async Task CommitDelay_NextFsyncWaitsUntilAsManyCommitsJoinedAsTheLastOneSaw()
    {
        // The clock never moves, so the delay can only end by its batch filling up: the outcome is deterministic.
        var disk = new SimulatedDisk();
        WalConfig config = Config(disk.Directory) with { CommitDelayMicros = 1_000_000, CommitSiblings = 2 };
        using var wal = WalManager.Open(disk, config, timeProvider: new FrozenClock());
        using var held = new HeldSegmentSyncs(disk, hold: 1);

        Task a = Task.Run(() => wal.Append(InsertFor(1)));
        held.WaitUntilHeld(1);
        Task b = Task.Run(() => wal.Append(InsertFor(2)));
        WaitUntil(() => wal.WaitingCommits == 2, "B never joined the next batch");
        held.Release(1);
        await a;

        // The fsync that ended saw 2 commits (A and B): the next one waits for a second commit beside B.
        WaitUntil(() => wal.WaitingCommits == 1 && wal.DurableLsn == 1, "the next syncer never took B's batch");
        Assert.False(b.IsCompleted, "B was acknowledged by an fsync that did not cover it");
        Task c = Task.Run(() => wal.Append(InsertFor(3)));
        await Task.WhenAll(b, c);

        Assert.Equal(2, held.Syncs);
        Assert.Equal(3, wal.DurableLsn);
        Assert.Equal(2, wal.GetMetrics().CommitSyncs);
        Assert.Equal(1, Bar(wal.GetMetrics(), 2).Syncs);
    }

    [Fact]
    public async Task CommitDelay_SyncerSleepsWhileItsBatchFills_InsteadOfSpinning()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // reads a thread's CPU time from /proc
        }

        // As above, the frozen clock makes the delay end only when the batch fills; B's thread is its syncer meanwhile.
        var disk = new SimulatedDisk();
        WalConfig config = Config(disk.Directory) with { CommitDelayMicros = 1_000_000, CommitSiblings = 2 };
        using var wal = WalManager.Open(disk, config, timeProvider: new FrozenClock());
        using var held = new HeldSegmentSyncs(disk, hold: 1);

        Task a = Task.Run(() => wal.Append(InsertFor(1)));
        held.WaitUntilHeld(1);
        int bThread = 0;
        var bDone = new TaskCompletionSource();
        var b = new Thread(() =>
        {
            Volatile.Write(ref bThread, OxiVec.Internal.BatchScheduling.CurrentOsThreadId());
            wal.Append(InsertFor(2));
            bDone.SetResult();
        })
        { IsBackground = true };
        b.Start();
        Task? c = null;
        try
        {
            WaitUntil(() => wal.WaitingCommits == 2, "B never joined the next batch");
            held.Release(1);
            await a;
            WaitUntil(() => wal.WaitingCommits == 1 && wal.DurableLsn == 1, "B's thread never took its batch's fsync");

            // An observation window, not a synchronisation: B's thread waits for a sibling that only C brings.
            double before = ThreadCpuSeconds(Volatile.Read(ref bThread));
            var window = Stopwatch.StartNew();
            Thread.Sleep(300);
            double used = ThreadCpuSeconds(Volatile.Read(ref bThread)) - before;
            Assert.False(bDone.Task.IsCompleted, "B was acknowledged before its batch filled");
            Assert.True(used < 0.1 * window.Elapsed.TotalSeconds, $"the waiting syncer used {used:F3} s of CPU in {window.Elapsed.TotalSeconds:F3} s");
        }
        finally
        {
            // C fills B's batch, so that the frozen clock's delay ends and closing the WAL cannot wait for it forever.
            held.Release(1);
            c = Task.Run(() => wal.Append(InsertFor(3)));
        }

        await Task.WhenAll(bDone.Task, c);
        Assert.Equal(2, held.Syncs);
        Assert.Equal(3, wal.DurableLsn);
    }

    /// <summary>utime + stime of one thread of this process (/proc/self/task/TID/stat, fields 14 and 15), in seconds.</summary>
    private static double ThreadCpuSeconds(int tid)
    {
        string stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // fields from 3 (state) on
        long ticks = long.Parse(fields[14 - 3], CultureInfo.InvariantCulture) + long.Parse(fields[15 - 3], CultureInfo.InvariantCulture);
        return ticks / 100.0; // USER_HZ is 100 on Linux
    }

    [Fact]
    public async Task CommitDelayZero_NextFsyncDoesNotWaitForSiblings()
    {
        var disk = new SimulatedDisk();
        WalConfig config = Config(disk.Directory) with { CommitDelayMicros = 0, CommitSiblings = 1 };
        using var wal = WalManager.Open(disk, config, timeProvider: new FrozenClock());
        using var held = new HeldSegmentSyncs(disk, hold: 1);

        Task a = Task.Run(() => wal.Append(InsertFor(1)));
        held.WaitUntilHeld(1);
        Task b = Task.Run(() => wal.Append(InsertFor(2)));
        WaitUntil(() => wal.WaitingCommits == 2, "B never joined the next batch");
        held.Release(1);
        await Task.WhenAll(a, b); // with a delay and this frozen clock, B would wait for a sibling that never comes

        Assert.Equal(2, held.Syncs);
        Assert.Equal(2, wal.DurableLsn);
    }

    [Fact]
    public void LoneWriter_NeverWaitsForSiblings_EvenWithAFrozenClock()
    {
        var disk = new SimulatedDisk();
        WalConfig config = Config(disk.Directory) with { CommitDelayMicros = 1_000_000, CommitSiblings = 1 };
        using var wal = WalManager.Open(disk, config, timeProvider: new FrozenClock());
        for (int n = 1; n <= 20; n++)
        {
            wal.Append(InsertFor(n));
        }

        Assert.Equal(20, wal.DurableLsn);
        Assert.Equal(20, Bar(wal.GetMetrics(), 1).Syncs);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1_000_001)]
    public void CommitDelayMicrosOutOfRange_ThrowsNamingTheField(int micros)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => WalConfig.Default with { CommitDelayMicros = micros });
        Assert.Equal(nameof(WalConfig.CommitDelayMicros), ex.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_001)]
    public void CommitSiblingsOutOfRange_ThrowsNamingTheField(int siblings)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => WalConfig.Default with { CommitSiblings = siblings });
        Assert.Equal(nameof(WalConfig.CommitSiblings), ex.ParamName);
    }

    [Fact]
    public void CommitDelayDefaults_AreDocumentedValues()
    {
        Assert.Equal(300, WalConfig.Default.CommitDelayMicros);
        Assert.Equal(5, WalConfig.Default.CommitSiblings);
        Assert.Equal(300, WalConfig.MaximumDurability.CommitDelayMicros);
    }

    private static WalCommitBatchBucket Bar(WalMetrics metrics, int commits) =>
        metrics.CommitsPerSyncHistogram.Single(b => b.MinCommits <= commits && commits <= b.MaxCommits);

    private static void WaitUntil(Func<bool> condition, string message) =>
        Assert.True(SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(60)), message);

    private static MeterListener ListenToBatches(string walDir, List<int> recorded)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == WalInstrumentation.MeterName && instrument.Name == "oxivec.wal.sync.commits"
                    && instrument.Meter.Tags?.Any(t => t.Key == "oxivec.wal.dir" && Equals(t.Value, walDir)) == true)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) =>
        {
            lock (recorded)
            {
                recorded.Add(value);
            }
        });
        listener.Start();
        return listener;
    }

    /// <summary>A clock that never moves (a commit delay can then end only by its batch filling up).</summary>
    private sealed class FrozenClock : TimeProvider
    {
        private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;

        public override long GetTimestamp() => 1_000_000;
    }

    /// <summary>
    /// Holds the first <c>hold</c> segment fsyncs open until released, one by one (the control file's fsyncs run
    /// freely and are not counted); with <c>failHeld</c> a held fsync fails when released.
    /// </summary>
    private sealed class HeldSegmentSyncs : IDisposable
    {
        private readonly ManualResetEventSlim[] _held;
        private readonly ManualResetEventSlim[] _release;
        private int _syncs;

        public HeldSegmentSyncs(SimulatedDisk disk, int hold, bool failHeld = false)
        {
            _held = [.. Enumerable.Range(0, hold).Select(_ => new ManualResetEventSlim())];
            _release = [.. Enumerable.Range(0, hold).Select(_ => new ManualResetEventSlim())];
            SyncThreads = new int[hold];
            disk.OnSync = name =>
            {
                if (!name.EndsWith(WalSegmentName.Suffix, StringComparison.Ordinal))
                {
                    return;
                }

                int n = Interlocked.Increment(ref _syncs);
                if (n <= hold)
                {
                    SyncThreads[n - 1] = Environment.CurrentManagedThreadId;
                    _held[n - 1].Set();
                    _release[n - 1].Wait();
                    if (failHeld)
                    {
                        throw new IOException("fsync failed: Input/output error (simulated).");
                    }
                }
            };
        }

        /// <summary>The managed thread that ran each held fsync.</summary>
        public int[] SyncThreads { get; }

        /// <summary>Segment fsyncs started so far.</summary>
        public int Syncs => Volatile.Read(ref _syncs);

        public void WaitUntilHeld(int n) => Assert.True(_held[n - 1].Wait(TimeSpan.FromSeconds(60)), $"segment fsync {n} never started");

        public void Release(int n) => _release[n - 1].Set();

        public void Dispose()
        {
            foreach (ManualResetEventSlim e in _release)
            {
                e.Set();
            }

            foreach (ManualResetEventSlim e in (ManualResetEventSlim[])[.. _held, .. _release])
            {
                e.Dispose();
            }
        }
    }
}

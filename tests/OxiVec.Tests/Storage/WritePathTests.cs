using OxiVec.Storage;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>The write path's second half: applying in order, all of a commit at once, failures, cancellation, closing.</summary>
public sealed class WritePathTests
{
    private static readonly VectorDatabaseOptions Durable = new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 256 << 10, MaxWalSize = 64 << 20, CheckpointInterval = 1_000_000 },
    };

    private static readonly CollectionOptions Flat = new(2) { Index = IndexKind.Flat, Metric = OxiVec.Indexing.DistanceMetric.Euclidean };

    [Fact]
    public void ApplyThatThrows_FailsTheDatabase_OwnerLaterWritesAndCheckpointsThrow_ReadsGoOn_ReopenAppliesTheLoggedWrite()
    {
        using var temp = new TempDirectory();
        using (var db = VectorDatabase.Open(temp.Path, Durable))
        {
            db.CreateCollection("docs", Flat);
            db.Insert("docs", "ok", new float[] { 1, 1 });
            db.FaultInjector = op => throw new InvalidOperationException($"injected failure applying {op.GetType().Name}");

            var owner = Assert.Throws<WalFailedException>(() => db.Insert("docs", "bad", new float[] { 2, 2 }));
            Assert.Contains("injected failure", owner.Message, StringComparison.Ordinal);
            db.FaultInjector = null;

            Assert.Throws<WalFailedException>(() => db.Insert("docs", "later", new float[] { 3, 3 }));
            Assert.Throws<WalFailedException>(() => db.Checkpoint());
            Assert.NotNull(db.Get("docs", "ok"));
            Assert.Equal(1, db.Count("docs"));
        }

        using (var db = VectorDatabase.Open(temp.Path, Durable))
        {
            Assert.NotNull(db.Get("docs", "bad")); // logged and durable before the apply failed
            Assert.Null(db.Get("docs", "later"));
            Assert.Null(db.LastCheckpoint);
        }
    }

    [Fact]
    public void ApplyThatThrowsInsideATransaction_FailsTheDatabase()
    {
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, Durable);
        db.CreateCollection("docs", Flat);
        db.FaultInjector = op => throw new InvalidOperationException("injected");
        using (VectorTransaction tx = db.BeginTransaction())
        {
            tx.Insert("docs", "a", new float[] { 1, 1 });
            tx.Insert("docs", "b", new float[] { 2, 2 });
            Assert.Throws<WalFailedException>(() => tx.Commit());
        }

        db.FaultInjector = null;
        Assert.Throws<WalFailedException>(() => db.Insert("docs", "c", new float[] { 3, 3 }));
    }

    [Fact]
    public async Task ReaderCountingDuringBatchesAndTransactions_NeverSeesAPartialCommit()
    {
        const int Batch = 64;
        const int Commits = 150;
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, new VectorDatabaseOptions { Wal = WalConfig.Balanced with { CheckpointInterval = 1_000_000 } });
        db.CreateCollection("a", Flat);
        db.CreateCollection("b", Flat);

        Task writer = Task.Run(() =>
        {
            for (int c = 0; c < Commits; c++)
            {
                if (c % 2 == 0)
                {
                    db.InsertBatch("a", Enumerable.Range(0, Batch).Select(i => new VectorRecord($"{c}-{i}", new float[] { c, i }, new Dictionary<string, MetadataValue>())));
                }
                else
                {
                    using VectorTransaction tx = db.BeginTransaction();
                    for (int i = 0; i < Batch; i++)
                    {
                        tx.Insert(i % 2 == 0 ? "a" : "b", $"{c}-{i}", new float[] { c, i });
                    }

                    tx.Commit();
                }
            }
        });

        var partial = new List<string>();
        long reads = 0;
        while (!writer.IsCompleted && reads < 5_000_000)
        {
            reads++;
            int a = db.Count("a");
            int b = db.Count("b");
            if (a % (Batch / 2) != 0 || b % (Batch / 2) != 0)
            {
                partial.Add($"a={a} b={b}");
            }
        }

        await writer;
        Assert.Empty(partial);
        Assert.Equal((Commits / 2 * Batch) + (Commits / 2 * Batch / 2), db.Count("a"));
    }

    [Fact]
    public async Task AsyncWriteCancelledWhileWaitingForItsFsync_IsVisibleOnceDurable_NotOnlyAfterALaterWrite()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk();
        using var db = VectorDatabase.Open(temp.Path, Durable, disk);
        db.CreateCollection("docs", Flat);

        using var inSync = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int armed = 1;
        int holder = -1; // only the thread under test is held (never a background allocator or flusher)
        disk.OnSync = _ =>
        {
            if (Environment.CurrentManagedThreadId == Volatile.Read(ref holder) && Interlocked.Exchange(ref armed, 0) == 1)
            {
                inSync.Set();
                release.Wait();
            }
        };

        Task first = Task.Run(() =>
        {
            Volatile.Write(ref holder, Environment.CurrentManagedThreadId);
            db.Insert("docs", "first", new float[] { 1, 1 });
        });
        Assert.True(inSync.Wait(TimeSpan.FromMinutes(2)), "the first write reached its fsync"); // it holds the fsync: the next write must follow it
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await db.InsertAsync("docs", "second", new float[] { 2, 2 }, null, cancelled.Token));
        release.Set();
        await first;

        db.Sync();
        Assert.NotNull(db.Get("docs", "second"));
        Assert.Equal(2, db.Count("docs"));
        Assert.Throws<InvalidOperationException>(() => db.Insert("docs", "second", new float[] { 2, 2 }));
    }

    [Fact]
    public async Task DisposeDuringAManualCheckpoint_WaitsForIt_ThenClosesTheWal()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk();
        VectorDatabase db = VectorDatabase.Open(temp.Path, Durable, disk);
        db.CreateCollection("docs", Flat);
        db.Insert("docs", "a", new float[] { 1, 1 });

        using var inSync = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int armed = 1;
        int holder = -1; // only the thread under test is held (never a background allocator or flusher)
        disk.OnSync = _ =>
        {
            if (Environment.CurrentManagedThreadId == Volatile.Read(ref holder) && Interlocked.Exchange(ref armed, 0) == 1)
            {
                inSync.Set();
                release.Wait();
            }
        };

        Task<CheckpointInfo> checkpoint = Task.Run(() =>
        {
            Volatile.Write(ref holder, Environment.CurrentManagedThreadId);
            return db.Checkpoint();
        });
        Assert.True(inSync.Wait(TimeSpan.FromMinutes(2)), "the checkpoint reached its first fsync");
        var disposer = new Thread(db.Dispose);
        disposer.Start();

        // Let Dispose get as far as it goes while the checkpoint runs (it blocks or, without a barrier, finishes).
        SpinWait.SpinUntil(() => (disposer.ThreadState & (ThreadState.WaitSleepJoin | ThreadState.Stopped)) != 0, TimeSpan.FromSeconds(30));
        release.Set();

        CheckpointInfo info = await checkpoint; // completes against an open WAL
        disposer.Join();
        Assert.Throws<ObjectDisposedException>(() => db.Checkpoint());
        Assert.Equal(0, disk.OpenHandles);

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, Durable, disk);
        Assert.Equal(info.Sequence, reopened.LastCheckpoint?.Sequence);
        Assert.NotNull(reopened.Get("docs", "a"));
    }
}

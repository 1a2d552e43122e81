using OxiVec.Storage;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>
/// The id checks of the write lock (insert: the id is new; update: it exists; delete: false when absent) against the
/// logical state: the applied collection's catalog with the logged writes not yet applied over it (<see cref="UnappliedIds"/>).
/// Writes are held unapplied by holding the fsync of an earlier commit (SyncIntervalMs = 0: a write is applied only
/// once durable, in LSN order); a cancelled asynchronous write is logged all the same.
/// </summary>
public sealed class LogicalIdTests
{
    private static readonly VectorDatabaseOptions Durable = new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 256 << 10, MaxWalSize = 64 << 20, CheckpointInterval = 1_000_000 },
    };

    private static readonly CollectionOptions Flat = new(2) { Index = IndexKind.Flat, Metric = OxiVec.Indexing.DistanceMetric.Euclidean };

    [Fact]
    public async Task WritesLoggedButNotApplied_DecideLaterIdChecks_OverTheAppliedStore()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk();
        using (var db = VectorDatabase.Open(temp.Path, Durable, disk))
        {
            db.CreateCollection("docs", Flat);
            db.Insert("docs", "applied", new float[] { 1, 1 });
            db.Insert("docs", "kept", new float[] { 1, 2 });

            using HeldSync held = HeldSync.Start(disk, () => db.Insert("docs", "held", new float[] { 9, 9 }));
            using var cancelled = new CancellationTokenSource();
            await cancelled.CancelAsync();

            // A new id, logged and not applied: a second insert of it is refused, though the store does not hold it yet.
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await db.InsertAsync("docs", "a", new float[] { 2, 2 }, null, cancelled.Token));
            Assert.Null(db.Get("docs", "a"));
            InvalidOperationException duplicate = await Assert.ThrowsAsync<InvalidOperationException>(
                async () => await db.InsertAsync("docs", "a", new float[] { 2, 3 }, null, cancelled.Token));
            Assert.Equal("Record 'a' already exists in collection 'docs'; use Upsert or Update to replace it.", duplicate.Message);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await db.InsertAsync("docs", "held", new float[] { 2, 3 }, null, cancelled.Token));
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await db.InsertAsync("docs", "applied", new float[] { 2, 3 }, null, cancelled.Token));

            // Deletes logged and not applied: of that unapplied id, and of an applied one.
            await CommitCancelledAsync(db, tx => tx.Delete("docs", "a"), cancelled.Token);
            await CommitCancelledAsync(db, tx => tx.Delete("docs", "applied"), cancelled.Token);
            Assert.NotNull(db.Get("docs", "applied")); // still in the store
            RecordNotFoundException missing = Assert.Throws<RecordNotFoundException>(() => db.Update("docs", "a", new float[] { 3, 3 }));
            Assert.Equal("Record 'a' does not exist in collection 'docs'.", missing.Message);
            Assert.Throws<RecordNotFoundException>(() => db.Update("docs", "applied", new float[] { 3, 3 }));
            Assert.Throws<RecordNotFoundException>(() => db.Update("docs", "never", new float[] { 3, 3 }));
            Assert.False(db.Delete("docs", "a"));
            Assert.False(db.Delete("docs", "applied"));
            Assert.False(db.Delete("docs", "never"));

            // Deleted ids may be inserted again; the applied, untouched id is still found in the store.
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await db.InsertAsync("docs", "applied", new float[] { 4, 4 }, null, cancelled.Token));
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await db.InsertAsync("docs", "kept", new float[] { 2, 3 }, null, cancelled.Token));

            // A transaction sees its own earlier writes over the unapplied ones.
            await CommitCancelledAsync(
                db,
                tx =>
                {
                    tx.Insert("docs", "a", new float[] { 5, 5 }); // deleted above, unapplied: new again
                    tx.Update("docs", "a", new float[] { 5, 6 });
                },
                cancelled.Token);
            using (VectorTransaction tx = db.BeginTransaction())
            {
                tx.Insert("docs", "b", new float[] { 6, 6 });
                tx.Insert("docs", "b", new float[] { 6, 7 });
                await Assert.ThrowsAsync<InvalidOperationException>(async () => await tx.CommitAsync(cancelled.Token));
            }

            held.Release();
            db.Sync();
            Assert.Equal(new float[] { 5, 6 }, db.Get("docs", "a")!.Vector.ToArray());
            Assert.Equal(new float[] { 4, 4 }, db.Get("docs", "applied")!.Vector.ToArray());
            Assert.NotNull(db.Get("docs", "held"));
            Assert.Null(db.Get("docs", "b"));
            Assert.Equal(4, db.Count("docs"));

            // Everything applied: the checks read the store alone.
            Assert.Throws<InvalidOperationException>(() => db.Insert("docs", "a", new float[] { 7, 7 }));
            Assert.Throws<RecordNotFoundException>(() => db.Update("docs", "b", new float[] { 7, 7 }));
            Assert.True(db.Delete("docs", "held"));
            Assert.False(db.Delete("docs", "held"));
        }

        // Reopened: the checks see the recovered store (replayed from the WAL).
        using var reopened = VectorDatabase.Open(temp.Path, Durable, disk);
        Assert.Throws<InvalidOperationException>(() => reopened.Insert("docs", "kept", new float[] { 8, 8 }));
        Assert.Throws<RecordNotFoundException>(() => reopened.Update("docs", "held", new float[] { 8, 8 }));
        reopened.Insert("docs", "held", new float[] { 8, 8 });
        Assert.Equal(4, reopened.Count("docs"));
    }

    [Fact]
    public async Task ACollectionDroppedAndCreatedAgain_WhileUnapplied_HoldsNoneOfTheOldIds()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk();
        using var db = VectorDatabase.Open(temp.Path, Durable, disk);
        db.CreateCollection("docs", Flat);
        db.Insert("docs", "old", new float[] { 1, 1 });
        db.CreateCollection("other", Flat);

        Task drop, create;
        using (HeldSync held = HeldSync.Start(disk, () => db.Insert("other", "held", new float[] { 9, 9 })))
        {
            long logged = db.Wal.LastLsn;
            drop = Task.Run(() => db.DropCollection("docs"));
            Assert.True(SpinWait.SpinUntil(() => db.Wal.LastLsn > logged, TimeSpan.FromMinutes(2)), "the drop was logged");
            create = Task.Run(() => db.CreateCollection("docs", Flat));
            Assert.True(SpinWait.SpinUntil(() => db.Wal.LastLsn > logged + 1, TimeSpan.FromMinutes(2)), "the creation was logged");
            Assert.NotNull(db.Get("docs", "old")); // the old collection is still the applied one

            using var cancelled = new CancellationTokenSource();
            await cancelled.CancelAsync();
            Assert.Throws<RecordNotFoundException>(() => db.Update("docs", "old", new float[] { 2, 2 }));
            Assert.False(db.Delete("docs", "old"));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await db.InsertAsync("docs", "old", new float[] { 2, 2 }, null, cancelled.Token));
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await db.InsertAsync("docs", "old", new float[] { 3, 3 }, null, cancelled.Token));
            held.Release();
        }

        await drop;
        await create;
        db.Sync();
        Assert.Equal(1, db.Count("docs"));
        Assert.Equal(new float[] { 2, 2 }, db.Get("docs", "old")!.Vector.ToArray());

        // The new collection's creation applied: its checks now read its store.
        Assert.Throws<InvalidOperationException>(() => db.Insert("docs", "old", new float[] { 4, 4 }));
        db.Insert("docs", "new", new float[] { 4, 4 });
        Assert.Equal(2, db.Count("docs"));
    }

    [Fact]
    public void UnappliedIds_KeepTheNewestWriteOfEachId_UntilTheAppliedLsnReachesIt()
    {
        var ids = new UnappliedIds();
        Assert.False(ids.TryGet("a", out _));

        ids.Record("a", exists: true, lsn: 1, appliedLsn: 0);
        ids.Record("b", exists: true, lsn: 2, appliedLsn: 0);
        ids.Record("a", exists: false, lsn: 3, appliedLsn: 1); // not all applied: nothing dropped
        Assert.True(ids.TryGet("a", out bool a));
        Assert.False(a);
        Assert.True(ids.TryGet("b", out bool b));
        Assert.True(b);
        Assert.Equal(2, ids.Count);

        ids.Record("c", exists: true, lsn: 4, appliedLsn: 3); // everything before applied: dropped at once
        Assert.Equal(1, ids.Count);
        Assert.False(ids.TryGet("a", out _));
        Assert.True(ids.TryGet("c", out _));

        // Behind by a few writes for long (many writers): the table is swept of what is applied, never grows without bound.
        for (int i = 0; i < 100_000; i++)
        {
            ids.Record("id" + i, exists: true, lsn: 10 + i, appliedLsn: 10 + i - 8);
        }

        Assert.InRange(ids.Count, 8, 2048);
        for (int i = 100_000 - 8; i < 100_000; i++)
        {
            Assert.True(ids.TryGet("id" + i, out bool exists), $"id{i} is not applied yet");
            Assert.True(exists);
        }
    }

    private static async Task CommitCancelledAsync(VectorDatabase db, Action<VectorTransaction> writes, CancellationToken cancelled)
    {
        using VectorTransaction tx = db.BeginTransaction();
        writes(tx);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await tx.CommitAsync(cancelled));
    }

    /// <summary>A write on a thread of its own whose fsync is held until <see cref="Release"/>: every later commit is logged and waits.</summary>
    private sealed class HeldSync : IDisposable
    {
        private readonly ManualResetEventSlim _inSync = new();
        private readonly ManualResetEventSlim _release = new();
        private Task _writer = Task.CompletedTask;

        public static HeldSync Start(SimulatedDisk disk, Action write)
        {
            var held = new HeldSync();
            int armed = 1;
            int holder = -1; // only the writer's own fsync is held (never a background allocator or flusher)
            disk.OnSync = _ =>
            {
                if (Environment.CurrentManagedThreadId == Volatile.Read(ref holder) && Interlocked.Exchange(ref armed, 0) == 1)
                {
                    held._inSync.Set();
                    held._release.Wait();
                }
            };
            held._writer = Task.Run(() =>
            {
                Volatile.Write(ref holder, Environment.CurrentManagedThreadId);
                write();
            });
            Assert.True(held._inSync.Wait(TimeSpan.FromMinutes(2)), "the held write reached its fsync");
            return held;
        }

        public void Release()
        {
            _release.Set();
            _writer.GetAwaiter().GetResult();
        }

        public void Dispose()
        {
            _release.Set();
            _ = _writer.Wait(TimeSpan.FromMinutes(2));
            _inSync.Dispose();
            _release.Dispose();
        }
    }
}

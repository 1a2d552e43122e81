using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>
/// The parts of the single-write path that take no lock: the apply queue (one producer under the write lock, one
/// consumer under the apply lock), the one-entry form of the unapplied ids, the vector copy
/// the pool keeps outside its lock, the flat index's released ids read without its lock, and the applied collection a queued write carries.
/// </summary>
public sealed class WritePathLockFreeTests
{
    [Fact]
    public void ApplyQueue_KeepsOrderAndContent_AcrossGrowthWithItemsPending()
    {
        var queue = new ApplyQueue();
        Assert.False(queue.TryPeek(out _));
        Assert.Throws<InvalidOperationException>(queue.Dequeue);

        long next = 1;
        long expected = 1;
        for (int round = 0; round < 5; round++)
        {
            for (int i = 0; i < 37 * (round + 1); i++)
            {
                queue.Enqueue(Item(next++));
            }

            for (int i = 0; i < 20 * (round + 1); i++)
            {
                Assert.True(queue.TryPeek(out PendingApply item));
                AssertItem(expected++, item);
                queue.Dequeue();
            }
        }

        while (queue.TryPeek(out PendingApply rest))
        {
            AssertItem(expected++, rest);
            queue.Dequeue();
        }

        Assert.Equal(next, expected);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task ApplyQueue_OneProducerAndOneConsumerOnTheirOwnThreads_SeeEveryItemOnceInOrder()
    {
        const int Items = 200_000;
        var queue = new ApplyQueue();
        Task producer = Task.Factory.StartNew(
            () =>
            {
                for (long lsn = 1; lsn <= Items; lsn++)
                {
                    // A burst now and then lets the backlog grow the ring while the consumer reads it.
                    queue.Enqueue(Item(lsn));
                    if (lsn % 5_000 == 0)
                    {
                        var spin = new SpinWait();
                        while (queue.Count > 64)
                        {
                            spin.SpinOnce();
                        }
                    }
                }
            },
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        Task consumer = Task.Factory.StartNew(
            () =>
            {
                var spin = new SpinWait();
                long expected = 1;
                while (expected <= Items)
                {
                    if (!queue.TryPeek(out PendingApply item))
                    {
                        spin.SpinOnce();
                        continue;
                    }

                    AssertItem(expected++, item);
                    queue.Dequeue();
                }
            },
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await Task.WhenAll(producer, consumer).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.False(queue.TryPeek(out _));
    }

    [Fact]
    public void UnappliedIds_OneEntryAtATime_AnswersLikeTheTable()
    {
        var ids = new UnappliedIds();
        ids.Record("a", exists: true, lsn: 1, appliedLsn: 0);
        Assert.True(ids.TryGet("a", out bool a));
        Assert.True(a);
        Assert.False(ids.TryGet("b", out bool b));
        Assert.False(b);
        Assert.Equal(1, ids.Count);

        ids.Record("a", exists: false, lsn: 2, appliedLsn: 0); // the same id again, unapplied: still one entry
        Assert.True(ids.TryGet("a", out a));
        Assert.False(a);
        Assert.Equal(1, ids.Count);

        ids.Record("b", exists: true, lsn: 3, appliedLsn: 1); // a second id while the first is unapplied: both held
        Assert.Equal(2, ids.Count);
        Assert.True(ids.TryGet("a", out a));
        Assert.False(a);
        Assert.True(ids.TryGet("b", out b));
        Assert.True(b);

        ids.Record("c", exists: true, lsn: 4, appliedLsn: 2); // "a" (LSN 2) applied, "b" not: nothing dropped yet
        Assert.True(ids.TryGet("a", out _));
        Assert.Equal(3, ids.Count);

        ids.Record("d", exists: false, lsn: 5, appliedLsn: 4); // everything applied: dropped, "d" alone
        Assert.Equal(1, ids.Count);
        Assert.False(ids.TryGet("a", out _));
        Assert.False(ids.TryGet("c", out _));
        Assert.True(ids.TryGet("d", out bool d));
        Assert.False(d);

        ids.Record("e", exists: true, lsn: 6, appliedLsn: 5); // one writer: each write applied before the next
        Assert.Equal(1, ids.Count);
        Assert.False(ids.TryGet("d", out _));
        Assert.True(ids.TryGet("e", out bool e));
        Assert.True(e);
    }

    [Fact]
    public async Task VectorCopyPool_CopiesAreExactAndOwnedByOneWriteAtATime()
    {
        var pool = new VectorCopyPool();
        float[] source = [1, 2, 3, 4];
        float[] first = pool.Copy(source);
        Assert.Equal(source, first);
        pool.Return(first);

        float[] again = pool.Copy(new float[] { 5, 6, 7, 8 });
        Assert.Same(first, again); // the array given back last, taken back without the lock
        Assert.Equal(new float[] { 5, 6, 7, 8 }, again);
        float[] other = pool.Copy(source); // taken while "again" is out: a different array
        Assert.NotSame(again, other);
        Assert.Equal(source, other);

        float[] longer = pool.Copy(new float[] { 9, 9, 9, 9, 9 });
        Assert.Equal(5, longer.Length);
        Assert.Empty(pool.Copy(ReadOnlySpan<float>.Empty));

        // Taken on one thread and given back on another, as when a writer applies the writes queued ahead of its own.
        float[] fromOtherThread = await Task.Run(() => pool.Copy(source));
        pool.Return(fromOtherThread);
        pool.Return(again);
        pool.Return(other);
        var seen = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < 4; i++)
        {
            float[] copy = pool.Copy(new float[] { i, i, i, i });
            Assert.True(seen.Add(copy), "an array was handed out twice");
            Assert.Equal(new float[] { i, i, i, i }, copy);
        }
    }

    [Fact]
    public void FlatIndex_TakeReleasedIds_ReportsEachRemovalOnce()
    {
        using var index = new FlatIndex(2, DistanceMetric.Euclidean);
        Assert.Empty(index.TakeReleasedIds());
        for (int i = 0; i < 4; i++)
        {
            index.Add(i, [i, 1]);
        }

        Assert.Empty(index.TakeReleasedIds());
        index.Remove(1);
        index.Remove(3);
        Assert.Equal(new[] { 1, 3 }, index.TakeReleasedIds());
        Assert.Empty(index.TakeReleasedIds());
        index.Remove(0);
        Assert.Equal(new[] { 0 }, index.TakeReleasedIds());
        Assert.Empty(index.TakeReleasedIds());
    }

    [Fact]
    public void Database_SingleWritesAfterADropAndRecreate_GoToTheNewCollection()
    {
        using var temp = new TempDirectory();
        var options = new VectorDatabaseOptions { Wal = WalConfig.HighThroughput with { SegmentSizeBytes = 1 << 20, MaxWalSize = 64 << 20 } };
        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            db.CreateCollection("c", new CollectionOptions(2) { Index = IndexKind.Flat, Metric = DistanceMetric.Euclidean });
            db.Insert("c", "a", new float[] { 1, 2 });
            db.Upsert("c", "a", new float[] { 3, 4 });
            Assert.True(db.DropCollection("c"));
            db.CreateCollection("c", new CollectionOptions(3) { Index = IndexKind.Flat, Metric = DistanceMetric.Euclidean });
            db.Insert("c", "a", new float[] { 5, 6, 7 });
            db.Upsert("c", "b", new float[] { 8, 9, 10 });
            Assert.True(db.Delete("c", "b"));
            Assert.Equal(new float[] { 5, 6, 7 }, db.Get("c", "a")!.Vector.ToArray());
            Assert.Equal(1, db.Count("c"));
            Assert.Throws<InvalidOperationException>(() => db.Insert("c", "a", new float[] { 1, 1, 1 }));
        }

        using (var reopened = VectorDatabase.Open(temp.Path, options))
        {
            Assert.Equal(new float[] { 5, 6, 7 }, reopened.Get("c", "a")!.Vector.ToArray());
            Assert.Null(reopened.Get("c", "b"));
        }
    }

    [Fact]
    public async Task Database_ConcurrentSingleWriters_EachSeeTheirWritesAndNoIdTwice()
    {
        using var temp = new TempDirectory();
        var options = new VectorDatabaseOptions { Wal = WalConfig.HighThroughput with { SegmentSizeBytes = 1 << 20, MaxWalSize = 256 << 20 } };
        using var db = VectorDatabase.Open(temp.Path, options);
        db.CreateCollection("c", new CollectionOptions(4) { Index = IndexKind.Flat, Metric = DistanceMetric.Euclidean });
        const int Writers = 4;
        const int PerWriter = 2_000;
        int duplicates = 0;
        Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Factory.StartNew(
            () =>
            {
                var vector = new float[4];
                for (int i = 0; i < PerWriter; i++)
                {
                    vector[0] = w;
                    vector[1] = i;
                    db.Insert("c", $"w{w}-{i}", vector);
                    Assert.Equal(vector, db.Get("c", $"w{w}-{i}")!.Vector.ToArray()); // visible once acknowledged
                    vector[2] = i; // the caller reuses its buffer at once
                    try
                    {
                        db.Insert("c", $"shared-{i}", vector); // every writer tries; exactly one wins
                    }
                    catch (InvalidOperationException)
                    {
                        Interlocked.Increment(ref duplicates);
                    }
                }
            },
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal((Writers * PerWriter) + PerWriter, db.Count("c"));
        Assert.Equal((Writers - 1) * PerWriter, duplicates);
        for (int w = 0; w < Writers; w++)
        {
            Assert.Equal(new float[] { w, PerWriter - 1, PerWriter - 2, 0 }, db.Get("c", $"w{w}-{PerWriter - 1}")!.Vector.ToArray());
        }
    }

    private static PendingApply Item(long lsn) => new(lsn, null, new float[(int)(lsn % 7) + 1]);

    private static void AssertItem(long expected, PendingApply item)
    {
        Assert.Equal(expected, item.Lsn);
        Assert.Equal((int)(expected % 7) + 1, item.LentVector!.Length);
    }
}

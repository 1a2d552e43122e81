using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.Tests.Replication;

public sealed class WriteFenceTests
{
    /// <summary>A fence whose answer to each call comes from <paramref name="answer"/> (given the call's number, from 1).</summary>
    private sealed class ScriptedFence(Func<int, string?> answer) : IWriteFence
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public string? Check() => answer(Interlocked.Increment(ref _calls));
    }

    private static VectorDatabase Open(TempDirectory temp)
    {
        VectorDatabase db = VectorDatabase.Open(temp.Path, ReplicationHarness.Options());
        db.CreateCollection("docs", new CollectionOptions(3) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Flat });
        db.Insert("docs", "existing", new float[] { 1, 1, 1 });
        return db;
    }

    [Fact]
    public async Task FenceRefusingBeforeTheAppend_EveryWritePathThrowsCommittedLocallyFalse_AndNothingIsWritten()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = Open(temp);
        Assert.Null(db.WriteFence);
        long before = db.Wal.LastLsn;
        var fence = new ScriptedFence(_ => "leadership lease expired at 12:00:00.000");
        db.WriteFence = fence;

        List<FencedWriteException> refused =
        [
            Assert.Throws<FencedWriteException>(() => db.Insert("docs", "a", new float[] { 1, 2, 3 })),
            Assert.Throws<FencedWriteException>(() => db.Upsert("docs", "existing", new float[] { 1, 2, 3 })),
            Assert.Throws<FencedWriteException>(() => db.Update("docs", "existing", new float[] { 1, 2, 3 })),
            Assert.Throws<FencedWriteException>(() => db.Delete("docs", "existing")),
            Assert.Throws<FencedWriteException>(() => db.InsertBatch("docs", [new VectorRecord("b", new float[] { 1, 2, 3 }, new Dictionary<string, MetadataValue>())])),
            Assert.Throws<FencedWriteException>(() => db.CreateCollection("other", new CollectionOptions(3))),
            Assert.Throws<FencedWriteException>(() => db.DropCollection("docs")),
            await Assert.ThrowsAsync<FencedWriteException>(() => db.InsertAsync("docs", "c", new float[] { 1, 2, 3 }).AsTask()),
            await Assert.ThrowsAsync<FencedWriteException>(() => db.UpsertAsync("docs", "d", new float[] { 1, 2, 3 }).AsTask()),
        ];
        using (VectorTransaction tx = db.BeginTransaction())
        {
            tx.Insert("docs", "e", new float[] { 1, 2, 3 });
            refused.Add(Assert.Throws<FencedWriteException>(() => tx.Commit()));
        }

        using (VectorTransaction tx = db.BeginTransaction())
        {
            tx.Insert("docs", "f", new float[] { 1, 2, 3 });
            refused.Add(await Assert.ThrowsAsync<FencedWriteException>(() => tx.CommitAsync().AsTask()));
        }

        Assert.All(refused, ex =>
        {
            Assert.False(ex.CommittedLocally);
            Assert.Contains("leadership lease expired at 12:00:00.000", ex.Message);
            Assert.Contains("nothing was written", ex.Message);
        });
        Assert.Equal(refused.Count, fence.Calls);
        Assert.Equal(before, db.Wal.LastLsn);
        Assert.Equal(1, db.Count("docs"));
        Assert.Equal(new float[] { 1, 1, 1 }, db.Get("docs", "existing")!.Vector.ToArray());
        Assert.False(db.CollectionExists("other"));

        db.WriteFence = null; // without a fence the next write takes the next LSN: the refused ones consumed none
        Assert.Equal(before + 1, db.Insert("docs", "a", new float[] { 1, 2, 3 }));
    }

    [Fact]
    public async Task FenceFailingBeforeTheAcknowledgement_TheWriteStaysLoggedAndApplied_CommittedLocallyTrue_AlsoAcrossAReopen()
    {
        using var temp = new TempDirectory();
        var lsns = new List<long>();
        using (VectorDatabase db = Open(temp))
        {
            var fence = new ScriptedFence(call => call % 2 == 0 ? "leadership lease expired" : null); // passes before the append, fails after
            db.WriteFence = fence;

            List<FencedWriteException> refused =
            [
                Assert.Throws<FencedWriteException>(() => db.Insert("docs", "sync", new float[] { 1, 2, 3 })),
                await Assert.ThrowsAsync<FencedWriteException>(() => db.InsertAsync("docs", "async", new float[] { 4, 5, 6 }).AsTask()),
            ];
            using (VectorTransaction tx = db.BeginTransaction())
            {
                tx.Insert("docs", "tx1", new float[] { 7, 8, 9 });
                tx.Delete("docs", "existing");
                refused.Add(await Assert.ThrowsAsync<FencedWriteException>(() => tx.CommitAsync().AsTask()));
            }

            Assert.All(refused, ex =>
            {
                Assert.True(ex.CommittedLocally);
                Assert.Contains("NOT acknowledged", ex.Message);
            });
            lsns.AddRange(refused.Select(ex => ex.Lsn));
            Assert.Equal(db.Wal.LastLsn, lsns[^1]);
            Assert.Equal(6, fence.Calls);
            Assert.NotNull(db.Get("docs", "sync"));
            Assert.NotNull(db.Get("docs", "async"));
            Assert.NotNull(db.Get("docs", "tx1"));
            Assert.Null(db.Get("docs", "existing"));
            Assert.True(db.AppliedLsn >= lsns[^1]);
        }

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, ReplicationHarness.Options());
        Assert.Equal(["async", "sync", "tx1"], reopened.Export("docs").Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void FenceThatAllows_IsAskedTwicePerWrite_AndChangesNothingElse()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = Open(temp);
        var fence = new ScriptedFence(_ => null);
        db.WriteFence = fence;
        long lsn = db.Insert("docs", "a", new float[] { 1, 2, 3 });
        Assert.Equal(db.Wal.LastLsn, lsn);
        Assert.Equal(2, fence.Calls);
        Assert.NotNull(db.Get("docs", "a"));
    }
}

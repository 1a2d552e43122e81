using OxiVec.Indexing;
using OxiVec.Replication;
using OxiVec.Storage;

namespace OxiVec.Tests.Replication;

public sealed class StreamingTests
{
    internal static void Seed(VectorDatabase db, int from, int count, string collection = "docs")
    {
        if (!db.CollectionExists(collection))
        {
            db.CreateCollection(collection, new CollectionOptions(3) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Flat });
        }

        for (int i = from; i < from + count; i++)
        {
            db.Upsert(collection, $"id{i}", new float[] { i, i % 7, 1 }, new Dictionary<string, MetadataValue> { ["i"] = i });
        }
    }

    [Fact]
    public async Task CatchUp_FromAnEmptyDirectory_BaseBackupThenStream_RecordStreamAndExportEqualThePrimarys()
    {
        await using var h = new ReplicationHarness();
        Seed(h.Primary, 0, 50);
        using (VectorTransaction tx = h.Primary.BeginTransaction())
        {
            tx.Insert("docs", "tx1", new float[] { 1, 2, 3 });
            tx.Delete("docs", "id3");
            tx.Commit();
        }

        StandbyReceiver standby = await h.StartStandbyAsync("a");
        Assert.Equal(1, standby.BaseBackups);
        Seed(h.Primary, 50, 50);
        h.Primary.Delete("docs", "id7");
        await h.CaughtUpAsync(standby);

        VectorDatabase replica = standby.Database;
        Assert.True(replica.IsStandby);
        long first = replica.Wal.FirstLsn, last = h.Primary.Wal.LastLsn;
        Assert.Equal(last, replica.Wal.LastLsn);
        Assert.Equal(ReplicationHarness.Stream(h.Primary, first, last), ReplicationHarness.Stream(replica, first, last));
        Assert.Equal(ReplicationHarness.Export(h.Primary), ReplicationHarness.Export(replica));
        Assert.Null(replica.Get("docs", "id7"));
        Assert.NotNull(replica.Get("docs", "tx1"));
    }

    [Fact]
    public async Task Reconnect_AfterTheLinkIsCutMidStream_ResumesWithNothingMissingOrDuplicated()
    {
        await using var h = new ReplicationHarness();
        Seed(h.Primary, 0, 10);
        var links = new List<InMemoryLink>();
        var faults = new LinkFaults();
        int batches = 0;
        faults.Rewrite = m => m is WalBatch && Interlocked.Increment(ref batches) % 3 == 0 ? null : m; // every third batch cuts the link
        StandbyReceiver standby = await h.StartStandbyAsync("a", faults, opened: l => { lock (links) { links.Add(l); } });

        // Under load the sender gathers many commits into one batch: keep writing (bounded) until a cut has happened.
        for (int round = 0; round < 10 || (LinkCount() < 2 && round < 1_000); round++)
        {
            Seed(h.Primary, 100 + (round * 20), 20);
        }

        await h.CaughtUpAsync(standby);
        Assert.True(LinkCount() > 1, "the link was cut and the standby reconnected");
        long first = standby.Database.Wal.FirstLsn, last = h.Primary.Wal.LastLsn;
        List<(long, DateTimeOffset, OxiVec.Wal.WalRecordType, OxiVec.Wal.WalRecordFlags, string)> replica = ReplicationHarness.Stream(standby.Database, first, last);
        Assert.Equal(ReplicationHarness.Stream(h.Primary, first, last), replica);
        Assert.Equal(Enumerable.Range(0, (int)(last - first + 1)).Select(i => first + i), replica.Select(r => r.Item1));
        Assert.Equal(ReplicationHarness.Export(h.Primary), ReplicationHarness.Export(standby.Database));

        int LinkCount()
        {
            lock (links)
            {
                return links.Count;
            }
        }
    }

    [Fact]
    public async Task Reconnect_OfAStandbyWithAnIntervalPolicy_NeverHasThePrimaryCountUnflushedRecordsAsFlushed()
    {
        await using var h = new ReplicationHarness();
        var links = new List<InMemoryLink>();
        StandbyReceiver standby = await h.StartStandbyAsync("a", options: ReplicationHarness.Options(syncIntervalMs: 600_000), opened: links.Add);
        Seed(h.Primary, 0, 10);
        await h.CaughtUpAsync(standby);
        OxiVec.Wal.WalManager wal = standby.Database.Wal;
        Assert.True(wal.DurableLsn < wal.LastLsn, "precondition: the standby holds written records its interval policy has not fsynced yet");

        links[^1].Cut();
        Seed(h.Primary, 10, 5); // arrives once the standby has reconnected
        await h.CaughtUpAsync(standby);

        Assert.True(links.Count > 1, "the standby reconnected");
        StandbyStatus a = h.Replicator.GetStatus().Standbys.Single(s => s.Name == "a");
        Assert.True(
            a.FlushedLsn <= wal.DurableLsn,
            $"the primary counts LSN {a.FlushedLsn} as flushed on the standby, whose WAL is durable only through LSN {wal.DurableLsn}");
    }

    [Fact]
    public async Task StandbyRestart_AfterItsReceiverStops_ResumesFromItsLogWithoutABaseBackup()
    {
        await using var h = new ReplicationHarness();
        Seed(h.Primary, 0, 20);
        StandbyReceiver standby = await h.StartStandbyAsync("a");
        await h.CaughtUpAsync(standby);
        await h.StopStandbyAsync(standby);

        Seed(h.Primary, 20, 30);
        StandbyReceiver again = await h.StartStandbyAsync("a");
        Assert.Equal(0, again.BaseBackups);
        await h.CaughtUpAsync(again);
        Assert.Equal(ReplicationHarness.Export(h.Primary), ReplicationHarness.Export(again.Database));
        long first = again.Database.Wal.FirstLsn, last = h.Primary.Wal.LastLsn;
        Assert.Equal(ReplicationHarness.Stream(h.Primary, first, last), ReplicationHarness.Stream(again.Database, first, last));
    }

    [Fact]
    public async Task WritesOnAStandby_ThrowStandbyWriteException_AndChangeNothing()
    {
        await using var h = new ReplicationHarness();
        Seed(h.Primary, 0, 5);
        StandbyReceiver standby = await h.StartStandbyAsync("a");
        await h.CaughtUpAsync(standby);
        VectorDatabase replica = standby.Database;
        long lastLsn = replica.Wal.LastLsn;
        List<string> before = ReplicationHarness.Export(replica);
        float[] v = [1, 1, 1];

        List<Action> writes =
        [
            () => replica.Insert("docs", "new", v),
            () => replica.Upsert("docs", "id1", v),
            () => replica.Update("docs", "id1", v),
            () => replica.Delete("docs", "id1"),
            () => replica.Delete("docs", "absent"),
            () => replica.InsertBatch("docs", [new VectorRecord("b1", v, new Dictionary<string, MetadataValue>())]),
            () => replica.CreateCollection("other", new CollectionOptions(3)),
            () => replica.DropCollection("docs"),
            () => replica.DropCollection("absent"),
            () => replica.ApplyEntry(new OxiVec.Wal.WalEntry.Delete("docs", "id1")),
            () =>
            {
                using VectorTransaction tx = replica.BeginTransaction();
                tx.Insert("docs", "t", v);
                tx.Commit();
            },
        ];
        foreach (Action write in writes)
        {
            Assert.Throws<StandbyWriteException>(write);
        }

        await Assert.ThrowsAsync<StandbyWriteException>(async () => await replica.InsertAsync("docs", "new", v));
        Assert.Equal(lastLsn, replica.Wal.LastLsn);
        Assert.Equal(before, ReplicationHarness.Export(replica));
    }
}

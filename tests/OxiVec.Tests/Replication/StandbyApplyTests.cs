using System.Buffers;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Replication;

public sealed class StandbyApplyTests
{
    private static List<WalReplicatedRecord> Frames(VectorDatabase primary, long from)
    {
        using WalTailReader reader = primary.Wal.OpenTailReader(from);
        var buffer = new ArrayBufferWriter<byte>();
        int count = reader.Read(buffer, int.MaxValue);
        return WalReplicationFrames.Verify(buffer.WrittenMemory, from, from, from + count - 1);
    }

    [Fact]
    public async Task SingleWrites_WithAndWithoutMetadata_UpdatesThatClearOrSetIt_AndDeletes_ApplyOnTheStandbyAsOnThePrimary()
    {
        using var temp = new TempDirectory();
        VectorDatabaseOptions options = ReplicationHarness.Options();
        using VectorDatabase primary = VectorDatabase.Open(temp.Sub("p"), options);
        StreamingTests.Seed(primary, 0, 3); // with metadata
        primary.Upsert("docs", "bare", new float[] { 7, 7, 7 }); // without
        primary.Upsert("docs", "id1", new float[] { 8, 8, 8 }); // an update that drops the metadata
        primary.Upsert("docs", "bare", new float[] { 9, 9, 9 }, new Dictionary<string, MetadataValue> { ["k"] = "v" }); // one that sets it
        primary.Delete("docs", "id2");

        VectorDatabase standby = VectorDatabase.OpenStandby(temp.Sub("s"), options, "primary:1");
        try
        {
            await standby.ReceiveReplicatedAsync(Frames(primary, 1), CancellationToken.None);
            Assert.Equal(primary.AppliedLsn, standby.AppliedLsn);
            Assert.Equal(ReplicationHarness.Export(primary), ReplicationHarness.Export(standby));
            Assert.Empty(standby.Get("docs", "id1")!.Metadata);
            Assert.Equal(["k"], standby.Get("docs", "bare")!.Metadata.Keys);
        }
        finally
        {
            standby.Dispose();
        }
    }

    [Fact]
    public async Task Transaction_IsInvisibleOnTheStandbyUntilItsCommitArrives_EvenAcrossAReopen()
    {
        using var temp = new TempDirectory();
        VectorDatabaseOptions options = ReplicationHarness.Options();
        using VectorDatabase primary = VectorDatabase.Open(temp.Sub("p"), options);
        StreamingTests.Seed(primary, 0, 3);
        long commitLsn;
        using (VectorTransaction tx = primary.BeginTransaction())
        {
            tx.Insert("docs", "t1", new float[] { 5, 5, 5 });
            tx.Insert("docs", "t2", new float[] { 6, 6, 6 });
            tx.Delete("docs", "id0");
            commitLsn = tx.Commit();
        }

        List<WalReplicatedRecord> records = Frames(primary, 1);
        Assert.Equal(WalRecordType.TransactionCommit, records[^1].Type);
        long beginLsn = records.Single(r => r.Type == WalRecordType.TransactionBegin).Lsn;

        VectorDatabase standby = VectorDatabase.OpenStandby(temp.Sub("s"), options, "primary:1");
        try
        {
            await standby.ReceiveReplicatedAsync(records[..^1], CancellationToken.None); // all but the commit
            Assert.Null(standby.Get("docs", "t1"));
            Assert.NotNull(standby.Get("docs", "id0"));
            Assert.Equal(3, standby.Count("docs"));
            Assert.DoesNotContain(standby.Search("docs", new float[] { 5, 5, 5 }, 10), r => r.Id.StartsWith('t'));
            Assert.Equal(beginLsn - 1, standby.AppliedLsn);

            standby.Dispose();
            standby = VectorDatabase.OpenStandby(temp.Sub("s"), options, "primary:1");
            Assert.Null(standby.WalOpenReport.AbortedTransactionLsn); // a standby never aborts what its primary may still commit
            Assert.Equal(commitLsn - 1, standby.Wal.LastLsn);
            Assert.Null(standby.Get("docs", "t1"));
            Assert.Equal(beginLsn - 1, standby.AppliedLsn);

            await standby.ReceiveReplicatedAsync(records[^1..], CancellationToken.None);
            Assert.NotNull(standby.Get("docs", "t1"));
            Assert.NotNull(standby.Get("docs", "t2"));
            Assert.Null(standby.Get("docs", "id0"));
            Assert.Equal(commitLsn, standby.AppliedLsn);
            Assert.Equal(ReplicationHarness.Export(primary), ReplicationHarness.Export(standby));
        }
        finally
        {
            standby.Dispose();
        }
    }

    [Fact]
    public async Task StandbyCheckpoint_CoversTheAppliedLsn_LogsNoRecord_AndReopensToTheSameState()
    {
        using var temp = new TempDirectory();
        VectorDatabaseOptions options = ReplicationHarness.Options();
        using VectorDatabase primary = VectorDatabase.Open(temp.Sub("p"), options);
        StreamingTests.Seed(primary, 0, 20);
        List<WalReplicatedRecord> records = Frames(primary, 1);
        using (VectorDatabase standby = VectorDatabase.OpenStandby(temp.Sub("s"), options, null))
        {
            await standby.ReceiveReplicatedAsync(records, CancellationToken.None);
            long last = standby.Wal.LastLsn;
            CheckpointInfo info = standby.Checkpoint();
            Assert.Equal(standby.AppliedLsn, info.CoveredLsn);
            Assert.Equal(last, standby.Wal.LastLsn); // no checkpoint record of its own
        }

        using VectorDatabase reopened = VectorDatabase.OpenStandby(temp.Sub("s"), options, null);
        Assert.Equal(ReplicationHarness.Export(primary), ReplicationHarness.Export(reopened));
    }

    [Fact]
    public async Task ReplicatedBatch_ThatDoesNotContinueTheLog_IsRefusedWithNothingWritten()
    {
        using var temp = new TempDirectory();
        VectorDatabaseOptions options = ReplicationHarness.Options();
        using VectorDatabase primary = VectorDatabase.Open(temp.Sub("p"), options);
        StreamingTests.Seed(primary, 0, 5);
        List<WalReplicatedRecord> records = Frames(primary, 1);
        using VectorDatabase standby = VectorDatabase.OpenStandby(temp.Sub("s"), options, null);
        WalFrameException ex = await Assert.ThrowsAsync<WalFrameException>(() => standby.ReceiveReplicatedAsync(records[1..], CancellationToken.None).AsTask());
        Assert.Equal(2, ex.Lsn);
        Assert.Equal(0, standby.Wal.LastLsn);
        Assert.Throws<InvalidOperationException>(() => primary.Wal.AppendReplicatedAsync(records, CancellationToken.None).AsTask().GetAwaiter().GetResult());
    }
}

using System.Buffers;
using OxiVec.Replication;
using OxiVec.Storage;
using OxiVec.Tests.Replication;
using OxiVec.Transactions;
using OxiVec.Wal;

namespace OxiVec.Tests.Transactions;

/// <summary>Prepare, commit and rollback records flow to standbys like any record; a standby tracks the prepared state.</summary>
public sealed class PreparedTransactionReplicationTests
{
    private static List<WalReplicatedRecord> Frames(VectorDatabase primary, long from)
    {
        using WalTailReader reader = primary.Wal.OpenTailReader(from);
        var buffer = new ArrayBufferWriter<byte>();
        int count = reader.Read(buffer, int.MaxValue);
        return WalReplicationFrames.Verify(buffer.WrittenMemory, from, from, from + count - 1);
    }

    [Fact]
    public async Task Standby_AppliesPrepareAsPrepared_KeepsItAcrossAReopenAndACheckpoint_ThenAppliesTheCommit()
    {
        using var temp = new TempDirectory();
        VectorDatabaseOptions options = ReplicationHarness.Options();
        using VectorDatabase primary = PreparedTransactionTests.OpenSeeded(temp.Sub("p"), options);
        primary.PrepareTransaction("g1", PreparedTransactionTests.Writes(), new PrepareOptions { CoordinatorId = "coord" });
        primary.RollbackPrepared("g0");
        List<WalReplicatedRecord> upToPrepare = Frames(primary, 1);
        primary.CommitPrepared("g1");
        List<WalReplicatedRecord> commit = Frames(primary, upToPrepare[^1].Lsn + 1);

        VectorDatabase standby = VectorDatabase.OpenStandby(temp.Sub("s"), options, "primary:1");
        try
        {
            await standby.ReceiveReplicatedAsync(upToPrepare, CancellationToken.None);
            Assert.Equal(PreparedTransactionState.Prepared, standby.GetTransactionState("g1"));
            Assert.Equal(PreparedTransactionState.RolledBack, standby.GetTransactionState("g0"));
            Assert.Equal("coord", Assert.Single(standby.ListPrepared()).CoordinatorId);
            Assert.Null(standby.Get("docs", "n"));

            standby.Checkpoint();
            standby.Dispose();
            standby = VectorDatabase.OpenStandby(temp.Sub("s"), options, "primary:1");
            Assert.Equal(PreparedTransactionState.Prepared, standby.GetTransactionState("g1"));

            await standby.ReceiveReplicatedAsync(commit, CancellationToken.None);
            Assert.Equal(PreparedTransactionState.Committed, standby.GetTransactionState("g1"));
            Assert.Equal(ReplicationHarness.Export(primary), ReplicationHarness.Export(standby));
        }
        finally
        {
            standby.Dispose();
        }
    }

    [Fact]
    public async Task SyncStandby_PrepareReturnsOnlyOnceTheStandbyConfirmedIt_SoAFailoverKeepsIt()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)", AckLevel = ReplicationAckLevel.RemoteFlush });
        var faults = new LinkFaults();
        StandbyReceiver a = await h.StartStandbyAsync("a", faults);
        await Task.Run(() => StreamingTests.Seed(h.Primary, 0, 1)).WaitAsync(ReplicationHarness.Timeout);

        faults.ProgressValve.Close();
        Task<PreparedTransaction> prepare = h.Primary.PrepareTransactionAsync("g", [TransactionOperation.Upsert("docs", "x", new float[] { 1, 2, 3 })]).AsTask();
        long lsn = h.Primary.Wal.LastLsn;
        Assert.True(await a.WaitForAppliedAsync(lsn, ReplicationHarness.Timeout, CancellationToken.None));
        Assert.Equal(PreparedTransactionState.Prepared, a.Database.GetTransactionState("g")); // the standby tracks it
        Assert.True(SpinWait.SpinUntil(() => h.Replicator.Gate!.Waiting >= 1 || prepare.IsCompleted, ReplicationHarness.Timeout), "the prepare reached the gate");
        Assert.False(prepare.IsCompleted);
        Assert.Equal(PreparedTransactionState.Unknown, h.Primary.GetTransactionState("g"));

        faults.ProgressValve.Open();
        Assert.Equal(lsn, (await prepare.WaitAsync(ReplicationHarness.Timeout)).PrepareLsn);
        Assert.Equal(PreparedTransactionState.Prepared, h.Primary.GetTransactionState("g"));

        await h.Primary.CommitPreparedAsync("g").AsTask().WaitAsync(ReplicationHarness.Timeout);
        await h.CaughtUpAsync(a);
        Assert.Equal(PreparedTransactionState.Committed, a.Database.GetTransactionState("g"));
        Assert.NotNull(a.Database.Get("docs", "x"));
    }
}

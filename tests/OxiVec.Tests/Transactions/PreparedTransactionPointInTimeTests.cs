using OxiVec.Recovery;
using OxiVec.Storage;
using OxiVec.Transactions;

namespace OxiVec.Tests.Transactions;

/// <summary>Point-in-time recovery applies a prepared transaction only when its commit record is at or before the target.</summary>
public sealed class PreparedTransactionPointInTimeTests
{
    [Fact]
    public void RecoverToLsn_AppliesTransactionsCommittedByTheTarget_NotThoseStillPreparedOrRolledBack()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        long target;
        using (VectorDatabase db = PreparedTransactionTests.OpenSeeded(data))
        {
            db.PrepareTransaction("committed", [TransactionOperation.Upsert("docs", "c", new float[] { 1, 1, 1 }), TransactionOperation.Delete("docs", "b")]);
            db.PrepareTransaction("in-doubt", [TransactionOperation.Upsert("docs", "d", new float[] { 1, 1, 1 })]);
            db.PrepareTransaction("rolled-back", [TransactionOperation.Upsert("docs", "r", new float[] { 1, 1, 1 })]);
            db.Checkpoint(); // the checkpoint carries the three prepared transactions
            db.CommitPrepared("committed");
            db.RollbackPrepared("rolled-back");
            target = db.Wal.LastLsn;
            db.CommitPrepared("in-doubt"); // after the target
        }

        using VectorDatabase asOf = new CrashRecoveryManager(new RecoveryConfig { DataDir = data }).RecoverToPointInTime(RecoveryTarget.ToLsn(target), temp.Sub("pitr"));

        Assert.NotNull(asOf.Get("docs", "c"));
        Assert.Null(asOf.Get("docs", "b"));
        Assert.Null(asOf.Get("docs", "d"));
        Assert.Null(asOf.Get("docs", "r"));
        Assert.NotNull(asOf.Get("docs", "a"));
    }
}

using OxiVec.Storage;
using OxiVec.Tests.Fakes;
using OxiVec.Transactions;
using OxiVec.Wal;

namespace OxiVec.Tests.Transactions;

/// <summary>
/// Prepare, commit and rollback are fsynced before they return even under an interval sync policy: a power loss
/// right after the call (the disk keeps only what was synced) keeps what the call reported.
/// </summary>
public sealed class PreparedTransactionPowerLossTests
{
    // An interval policy whose flusher never runs during a test: only a forced fsync makes a record durable.
    private static readonly VectorDatabaseOptions IntervalOptions = new()
    {
        Wal = WalConfig.HighThroughput with { SyncIntervalMs = 600_000, SegmentSizeBytes = WalConfig.MinSegmentSizeBytes, CheckpointInterval = 1_000_000 },
    };

    private static VectorDatabase OpenSeeded(string dir, SimulatedDisk disk)
    {
        VectorDatabase db = VectorDatabase.Open(dir, IntervalOptions, disk);
        db.CreateCollection("docs", new CollectionOptions(3) { Index = IndexKind.Flat });
        db.Insert("docs", "a", new float[] { 1, 0, 0 });
        return db;
    }

    private static SimulatedDisk PowerLoss(SimulatedDisk disk) => disk.Crash(new Random(7), CrashMode.DropUnsynced);

    [Fact]
    public void PowerLoss_RightAfterPrepareReturns_UnderAnIntervalPolicy_KeepsItPrepared()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk();
        SimulatedDisk after;
        using (VectorDatabase db = OpenSeeded(temp.Path, disk))
        {
            db.PrepareTransaction("g", [TransactionOperation.Upsert("docs", "n", new float[] { 0, 0, 1 }), TransactionOperation.Delete("docs", "a")]);
            after = PowerLoss(disk);
        }

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, IntervalOptions, after);
        Assert.Equal(PreparedTransactionState.Prepared, reopened.GetTransactionState("g"));
        Assert.Equal(2, Assert.Single(reopened.ListPrepared()).OperationCount);
        Assert.Throws<TransactionConflictException>(() => reopened.Delete("docs", "a"));
        reopened.CommitPrepared("g");
        Assert.NotNull(reopened.Get("docs", "n"));
        Assert.Null(reopened.Get("docs", "a"));
    }

    [Fact]
    public void PowerLoss_RightAfterCommitPreparedReturns_UnderAnIntervalPolicy_KeepsItCommitted()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk();
        SimulatedDisk after;
        using (VectorDatabase db = OpenSeeded(temp.Path, disk))
        {
            db.PrepareTransaction("g", [TransactionOperation.Upsert("docs", "n", new float[] { 0, 0, 1 })]);
            db.CommitPrepared("g");
            after = PowerLoss(disk);
        }

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, IntervalOptions, after);
        Assert.Equal(PreparedTransactionState.Committed, reopened.GetTransactionState("g"));
        Assert.NotNull(reopened.Get("docs", "n"));
    }

    [Fact]
    public async Task PowerLoss_RightAfterRollbackOfAnUnknownGidReturns_KeepsThePresumedAbort()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk();
        SimulatedDisk after;
        using (VectorDatabase db = OpenSeeded(temp.Path, disk))
        {
            await db.RollbackPreparedAsync("late");
            after = PowerLoss(disk);
        }

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, IntervalOptions, after);
        Assert.Equal(PreparedTransactionState.RolledBack, reopened.GetTransactionState("late"));
        Assert.Throws<PreparedTransactionException>(() => reopened.PrepareTransaction("late", [TransactionOperation.Delete("docs", "a")]));
    }

    [Fact]
    public void PowerLoss_AfterAPlainWriteUnderTheSamePolicy_LosesIt_SoTheTestsAboveProveTheForcedFsync()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk();
        SimulatedDisk after;
        using (VectorDatabase db = OpenSeeded(temp.Path, disk))
        {
            db.PrepareTransaction("g", [TransactionOperation.Upsert("docs", "n", new float[] { 0, 0, 1 })]); // makes the seed durable
            db.Upsert("docs", "plain", new float[] { 1, 1, 1 });
            after = PowerLoss(disk);
        }

        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, IntervalOptions, after);
        Assert.Null(reopened.Get("docs", "plain"));
    }
}

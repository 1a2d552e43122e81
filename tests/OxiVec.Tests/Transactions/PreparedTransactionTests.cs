using System.Diagnostics;
using OxiVec.Storage;
using OxiVec.Transactions;
using OxiVec.Wal;

namespace OxiVec.Tests.Transactions;

/// <summary>The participant's semantics in one process: validation, reservations, visibility, idempotency, gid reuse.</summary>
public sealed class PreparedTransactionTests
{
    internal static VectorDatabaseOptions Options(WalConfig? wal = null) => new()
    {
        Wal = wal ?? WalConfig.MaximumDurability with { SegmentSizeBytes = WalConfig.MinSegmentSizeBytes, CheckpointInterval = 1_000_000 },
    };

    internal static VectorDatabase OpenSeeded(string dir, VectorDatabaseOptions? options = null)
    {
        VectorDatabase db = VectorDatabase.Open(dir, options ?? Options());
        if (!db.CollectionExists("docs"))
        {
            db.CreateCollection("docs", new CollectionOptions(3) { Index = IndexKind.Flat });
            db.CreateCollection("other", new CollectionOptions(3) { Index = IndexKind.Flat });
            db.Insert("docs", "a", new float[] { 1, 0, 0 });
            db.Insert("docs", "b", new float[] { 0, 1, 0 });
        }

        return db;
    }

    internal static TransactionOperation[] Writes(string suffix = "") =>
    [
        TransactionOperation.Insert("docs", "n" + suffix, new float[] { 0, 0, 1 }, new Dictionary<string, MetadataValue> { ["k"] = "v" }),
        TransactionOperation.Update("docs", "a", new float[] { 2, 0, 0 }),
        TransactionOperation.Delete("docs", "b"),
        TransactionOperation.Upsert("other", "o" + suffix, new float[] { 1, 1, 1 }),
    ];

    [Fact]
    public void Prepare_WritesNothingVisible_UntilCommit_ThenAllAtOnce()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenSeeded(temp.Path);
        long before = db.AppliedLsn;

        PreparedTransaction prepared = db.PrepareTransaction("g1", Writes(), new PrepareOptions { CoordinatorId = "coord-1" });

        Assert.Equal(PreparedTransactionState.Prepared, prepared.State);
        Assert.Equal(4, prepared.OperationCount);
        Assert.Equal("coord-1", prepared.CoordinatorId);
        Assert.True(prepared.PrepareLsn > before);
        Assert.Null(db.Get("docs", "n"));
        Assert.Equal(1f, db.Get("docs", "a")!.Vector.Span[0]);
        Assert.NotNull(db.Get("docs", "b"));
        Assert.Equal(0, db.Count("other"));
        Assert.DoesNotContain(db.Search("docs", new float[] { 0, 0, 1 }, 10), r => r.Id == "n");
        Assert.Equal(PreparedTransactionState.Prepared, db.GetTransactionState("g1"));
        Assert.Equal("g1", Assert.Single(db.ListPrepared()).Gid);

        Assert.Equal(PreparedTransactionState.Committed, db.CommitPrepared("g1"));

        Assert.Equal("v", db.Get("docs", "n")!.Metadata["k"].ToString());
        Assert.Equal(2f, db.Get("docs", "a")!.Vector.Span[0]);
        Assert.Null(db.Get("docs", "b"));
        Assert.Equal(1, db.Count("other"));
        Assert.Equal(PreparedTransactionState.Committed, db.GetTransactionState("g1"));
        Assert.Empty(db.ListPrepared());
    }

    [Fact]
    public void Commit_PublishesAllWritesAtOneVersion_AcrossCollections()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenSeeded(temp.Path);
        db.PrepareTransaction("g1", Writes());
        long before = db.AppliedLsn;

        db.CommitPrepared("g1");

        Assert.Equal(before + 1, db.AppliedLsn); // one commit record: one version holds every write
        Assert.Equal(2, db.Count("docs")); // a, n (b deleted)
        Assert.Equal(1, db.Count("other"));
    }

    [Fact]
    public void InvalidPrepare_LogsNothing_AndNamesTheProblem()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenSeeded(temp.Path);
        long last = db.Wal.LastLsn;

        var wrongDimension = Assert.Throws<ArgumentException>(() => db.PrepareTransaction("g", [TransactionOperation.Upsert("docs", "x", new float[] { 1, 2 })]));
        Assert.Contains("vector", wrongDimension.ParamName ?? wrongDimension.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => db.PrepareTransaction("g", [TransactionOperation.Upsert("docs", "x", new float[] { 1, float.NaN, 2 })]));
        Assert.Contains("'nope'", Assert.Throws<KeyNotFoundException>(() => db.PrepareTransaction("g", [TransactionOperation.Delete("nope", "x")])).Message, StringComparison.Ordinal);
        Assert.Throws<RecordNotFoundException>(() => db.PrepareTransaction("g", [TransactionOperation.Update("docs", "missing", new float[] { 1, 2, 3 })]));
        Assert.Throws<InvalidOperationException>(() => db.PrepareTransaction("g", [TransactionOperation.Insert("docs", "a", new float[] { 1, 2, 3 })]));
        Assert.Throws<ArgumentException>(() => db.PrepareTransaction("g", []));
        Assert.Throws<ArgumentException>(() => db.PrepareTransaction("", Writes()));
        Assert.Throws<ArgumentException>(() => db.PrepareTransaction(new string('x', 201), Writes()));
        Assert.Throws<ArgumentException>(() => db.PrepareTransaction("tab\there", Writes()));

        Assert.Equal(last, db.Wal.LastLsn);
        Assert.Equal(PreparedTransactionState.Unknown, db.GetTransactionState("g"));
        db.PrepareTransaction("g", Writes()); // the gid was never taken by the failed attempts
    }

    [Fact]
    public void ReservedRecord_PlainWriteAndConflictingPrepareFailFast_NamingTheGid_OtherRecordsAreFree()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenSeeded(temp.Path);
        db.PrepareTransaction("g1", Writes());
        long last = db.Wal.LastLsn;

        TransactionConflictException upsert = Assert.Throws<TransactionConflictException>(() => db.Upsert("docs", "a", new float[] { 9, 9, 9 }));
        Assert.Equal(("docs", "a", "g1"), (upsert.Collection, upsert.Id, upsert.Gid));
        Assert.Contains("g1", upsert.Message, StringComparison.Ordinal);
        Assert.Throws<TransactionConflictException>(() => db.Insert("docs", "n", new float[] { 9, 9, 9 })); // an insert the prepare holds
        Assert.Throws<TransactionConflictException>(() => db.Delete("docs", "b"));
        using (VectorTransaction tx = db.BeginTransaction())
        {
            tx.Upsert("docs", "free", new float[] { 1, 1, 1 });
            tx.Upsert("other", "o", new float[] { 1, 1, 1 });
            Assert.Throws<TransactionConflictException>(() => tx.Commit());
        }

        Assert.Equal("g1", Assert.Throws<TransactionConflictException>(() => db.PrepareTransaction("g2", [TransactionOperation.Delete("docs", "a")])).Gid);
        Assert.Throws<TransactionConflictException>(() => db.DropCollection("other"));
        Assert.Equal(last, db.Wal.LastLsn);
        Assert.Null(db.Get("docs", "free"));

        db.Upsert("docs", "free", new float[] { 1, 1, 1 });
        db.PrepareTransaction("g2", [TransactionOperation.Upsert("docs", "free2", new float[] { 1, 1, 1 })]);
    }

    [Fact]
    public async Task ConflictingPrepare_WithConflictWait_SucceedsOnceTheHolderRollsBack()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenSeeded(temp.Path);
        db.PrepareTransaction("g1", Writes());

        Task<PreparedTransaction> waiting = Task.Run(() => db.PrepareTransaction(
            "g2", [TransactionOperation.Update("docs", "a", new float[] { 3, 0, 0 })], new PrepareOptions { ConflictWait = TimeSpan.FromMinutes(5) }));
        db.RollbackPrepared("g1");

        Assert.Equal(PreparedTransactionState.Prepared, (await waiting.WaitAsync(TimeSpan.FromSeconds(60))).State);
        db.CommitPrepared("g2");
        Assert.Equal(3f, db.Get("docs", "a")!.Vector.Span[0]);
        Assert.Null(db.Get("docs", "n")); // g1's writes were discarded
    }

    [Fact]
    public async Task ConflictingPrepareAsync_WithConflictWait_SucceedsOnceTheHolderCommits_AndSeesItsWrites()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenSeeded(temp.Path);
        db.PrepareTransaction("g1", Writes());

        ValueTask<PreparedTransaction> waiting = db.PrepareTransactionAsync(
            "g2", [TransactionOperation.Delete("docs", "n")], new PrepareOptions { ConflictWait = TimeSpan.FromMinutes(5) });
        await db.CommitPreparedAsync("g1");

        await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        await db.CommitPreparedAsync("g2");
        Assert.Null(db.Get("docs", "n"));
    }

    [Fact]
    public void ConflictingPrepare_WithAShortConflictWait_FailsWithTheConflictWhenTheHolderStays()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenSeeded(temp.Path);
        db.PrepareTransaction("g1", Writes());

        TransactionConflictException ex = Assert.Throws<TransactionConflictException>(() => db.PrepareTransaction(
            "g2", [TransactionOperation.Delete("docs", "a")], new PrepareOptions { ConflictWait = TimeSpan.FromMilliseconds(20) }));

        Assert.Equal("g1", ex.Gid);
        Assert.Equal(PreparedTransactionState.Unknown, db.GetTransactionState("g2"));
    }

    [Fact]
    public void CommitAndRollback_AreIdempotent_AndLogNothingTheSecondTime()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenSeeded(temp.Path);
        db.PrepareTransaction("c", Writes("1"));
        db.PrepareTransaction("r", [TransactionOperation.Upsert("docs", "z", new float[] { 1, 1, 1 })]);
        db.CommitPrepared("c");
        db.RollbackPrepared("r");
        long last = db.Wal.LastLsn;

        Assert.Equal(PreparedTransactionState.Committed, db.CommitPrepared("c"));
        Assert.Equal(PreparedTransactionState.RolledBack, db.RollbackPrepared("r"));
        Assert.Equal(last, db.Wal.LastLsn);
        Assert.Null(db.Get("docs", "z"));
    }

    [Fact]
    public void ForbiddenTransitions_ThrowNamingTheGidAndItsState()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenSeeded(temp.Path);
        db.PrepareTransaction("c", Writes());
        db.CommitPrepared("c");
        db.RollbackPrepared("r");
        long last = db.Wal.LastLsn;

        PreparedTransactionException unknown = Assert.Throws<PreparedTransactionException>(() => db.CommitPrepared("never"));
        Assert.Equal(("never", PreparedTransactionState.Unknown), (unknown.Gid, unknown.State));
        Assert.Equal(PreparedTransactionState.RolledBack, Assert.Throws<PreparedTransactionException>(() => db.CommitPrepared("r")).State);
        Assert.Equal(PreparedTransactionState.Committed, Assert.Throws<PreparedTransactionException>(() => db.RollbackPrepared("c")).State);
        Assert.Contains("'c'", Assert.Throws<PreparedTransactionException>(() => db.PrepareTransaction("c", [TransactionOperation.Upsert("docs", "q", new float[] { 1, 1, 1 })])).Message, StringComparison.Ordinal);
        Assert.Throws<PreparedTransactionException>(() => db.PrepareTransaction("r", [TransactionOperation.Upsert("docs", "q", new float[] { 1, 1, 1 })])); // presumed abort: a late prepare fails
        Assert.Equal(last, db.Wal.LastLsn);
    }

    [Fact]
    public void PreparedGid_CannotBePreparedAgain()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenSeeded(temp.Path);
        db.PrepareTransaction("g", [TransactionOperation.Upsert("docs", "x", new float[] { 1, 1, 1 })]);

        Assert.Equal(PreparedTransactionState.Prepared, Assert.Throws<PreparedTransactionException>(
            () => db.PrepareTransaction("g", [TransactionOperation.Upsert("docs", "y", new float[] { 1, 1, 1 })])).State);
    }

    [Fact]
    public void Prepared_SurvivesRestart_StillReserved_ThenCommitsAfterIt_AndGidsStayKnown()
    {
        using var temp = new TempDirectory();
        using (VectorDatabase db = OpenSeeded(temp.Path))
        {
            db.PrepareTransaction("p", Writes(), new PrepareOptions { CoordinatorId = "coord" });
            db.PrepareTransaction("c", [TransactionOperation.Upsert("docs", "c1", new float[] { 1, 1, 1 })]);
            db.CommitPrepared("c");
            db.RollbackPrepared("r");
        }

        using (VectorDatabase db = OpenSeeded(temp.Path))
        {
            PreparedTransaction p = Assert.Single(db.ListPrepared());
            Assert.Equal(("p", "coord", 4), (p.Gid, p.CoordinatorId, p.OperationCount));
            Assert.Equal(TransactionOperationKind.Insert, p.Operations[0].Kind);
            Assert.Null(db.Get("docs", "n"));
            Assert.Throws<TransactionConflictException>(() => db.Upsert("docs", "a", new float[] { 1, 1, 1 }));
            Assert.Equal(PreparedTransactionState.Committed, db.GetTransactionState("c"));
            Assert.Equal(PreparedTransactionState.RolledBack, db.GetTransactionState("r"));
            Assert.Throws<PreparedTransactionException>(() => db.PrepareTransaction("c", [TransactionOperation.Upsert("docs", "q", new float[] { 1, 1, 1 })]));
            db.CommitPrepared("p");
        }

        using (VectorDatabase db = OpenSeeded(temp.Path))
        {
            Assert.Empty(db.ListPrepared());
            Assert.Equal(PreparedTransactionState.Committed, db.GetTransactionState("p"));
            Assert.Equal("v", db.Get("docs", "n")!.Metadata["k"].ToString());
            Assert.Null(db.Get("docs", "b"));
        }
    }

    [Fact]
    public void CheckpointAndRetention_CarryPreparedAndResolvedGids_AfterTheirRecordsAreGone()
    {
        using var temp = new TempDirectory();
        VectorDatabaseOptions options = Options(WalConfig.MaximumDurability with
        {
            SegmentSizeBytes = WalConfig.MinSegmentSizeBytes, CheckpointInterval = 1_000_000, RetentionPolicy = RetentionPolicy.KeepLast(1),
        });
        using (VectorDatabase db = OpenSeeded(temp.Path, options))
        {
            db.PrepareTransaction("p", Writes(), new PrepareOptions { CoordinatorId = "coord" });
            db.PrepareTransaction("c", [TransactionOperation.Upsert("docs", "c1", new float[] { 1, 1, 1 })]);
            db.CommitPrepared("c");
            db.RollbackPrepared("r");
            var filler = new float[] { 0.5f, 0.5f, 0.5f };
            for (int i = 0; db.Wal.FirstLsn == 1; i++)
            {
                db.Upsert("other", $"f{i % 50}", filler); // fill segments until a checkpoint lets retention drop the first
                if (i % 200 == 199)
                {
                    db.Checkpoint();
                }

                Assert.True(i < 100_000, "retention never removed the first segment");
            }

            db.Checkpoint();
            Assert.True(db.Wal.FirstLsn > 10, "the prepare, commit and rollback records are gone from the WAL");
        }

        using (VectorDatabase db = OpenSeeded(temp.Path, options))
        {
            PreparedTransaction p = Assert.Single(db.ListPrepared());
            Assert.Equal(("p", "coord"), (p.Gid, p.CoordinatorId));
            Assert.Equal(PreparedTransactionState.Committed, db.GetTransactionState("c"));
            Assert.Equal(PreparedTransactionState.RolledBack, db.GetTransactionState("r"));
            Assert.Throws<PreparedTransactionException>(() => db.PrepareTransaction("r", [TransactionOperation.Upsert("docs", "q", new float[] { 1, 1, 1 })]));
            Assert.Throws<TransactionConflictException>(() => db.Delete("docs", "b"));
            Assert.Null(db.Get("docs", "n"));
            db.CommitPrepared("p");
            Assert.NotNull(db.Get("docs", "n"));
            Assert.Null(db.Get("docs", "b"));
        }
    }

    [Fact]
    public void Checkpoint_TakenWhilePrepared_ThenCommittedInTheWal_RecoversTheCommit()
    {
        using var temp = new TempDirectory();
        using (VectorDatabase db = OpenSeeded(temp.Path))
        {
            db.PrepareTransaction("p", Writes());
            db.Checkpoint();
            db.CommitPrepared("p");
        }

        using VectorDatabase reopened = OpenSeeded(temp.Path);
        Assert.Equal(PreparedTransactionState.Committed, reopened.GetTransactionState("p"));
        Assert.NotNull(reopened.Get("docs", "n"));
        Assert.Null(reopened.Get("docs", "b"));
    }

    [Fact]
    public void Health_WarnsOfAPreparedTransactionOlderThanTheThreshold()
    {
        using var temp = new TempDirectory();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        VectorDatabaseOptions options = Options() with { TimeProvider = clock, PreparedTransactionWarningAge = TimeSpan.FromMinutes(5) };
        using VectorDatabase db = OpenSeeded(temp.Path, options);
        db.PrepareTransaction("old-one", Writes(), new PrepareOptions { CoordinatorId = "coord-7" });
        Assert.DoesNotContain(db.CheckHealth().Findings, f => f.Contains("old-one", StringComparison.Ordinal));

        clock.Advance(TimeSpan.FromMinutes(6));

        WalHealthReport report = db.CheckHealth();
        string finding = Assert.Single(report.Findings, f => f.Contains("old-one", StringComparison.Ordinal));
        Assert.StartsWith("Warning", finding, StringComparison.Ordinal);
        Assert.Contains("coord-7", finding, StringComparison.Ordinal);
        Assert.NotEqual(WalHealthStatus.Healthy, report.Status);
        Assert.True(Assert.Single(db.ListPrepared()).Age(clock) >= TimeSpan.FromMinutes(6));

        db.CommitPrepared("old-one");
        Assert.DoesNotContain(db.CheckHealth().Findings, f => f.Contains("old-one", StringComparison.Ordinal));
    }

    [Fact]
    public void Standby_RefusesPrepareCommitAndRollback()
    {
        using var temp = new TempDirectory();
        using VectorDatabase standby = VectorDatabase.OpenStandby(temp.Path, Options(), "primary:1");
        Assert.Throws<StandbyWriteException>(() => standby.PrepareTransaction("g", [TransactionOperation.Delete("docs", "a")]));
        Assert.Throws<StandbyWriteException>(() => standby.CommitPrepared("g"));
        Assert.Throws<StandbyWriteException>(() => standby.RollbackPrepared("g"));
    }

    /// <summary>A clock that moves only when told (timer callbacks are not needed here).</summary>
    internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private long _ticks;

        public override DateTimeOffset GetUtcNow() => start.AddTicks(Interlocked.Read(ref _ticks));

        public override long GetTimestamp() => Stopwatch.GetTimestamp() + (Interlocked.Read(ref _ticks) * Stopwatch.Frequency / TimeSpan.TicksPerSecond);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}

using OxiVec.Storage;
using OxiVec.Transactions;

namespace OxiVec.Tests.Transactions.Coordinator;

public sealed class CoordinatorTests
{
    [Fact]
    public async Task CommitAsync_EveryParticipantPrepares_CommitsOnEveryDatabase()
    {
        using var h = new CoordinatorHarness(2);
        TwoPhaseCommit coordinator = h.OpenCoordinator();
        DistributedTransaction tx = coordinator.Begin("g1")
            .Add(h.Local(0), CoordinatorHarness.Upsert("a", 1, 1))
            .Add(h.Local(1), [CoordinatorHarness.Upsert("b", 2, 1), CoordinatorHarness.Upsert("c", 3, 1)]);

        TwoPhaseCommitResult result = await tx.CommitAsync();

        Assert.True(result.Committed);
        Assert.All(result.Participants, p => Assert.Equal(PreparedTransactionState.Committed, p.State));
        Assert.NotNull(h.Database(0).Get(CoordinatorHarness.Collection, "a"));
        Assert.Equal(2, h.Database(1).Count(CoordinatorHarness.Collection));
        Assert.Equal(PreparedTransactionState.Committed, h.Database(0).GetTransactionState("g1"));
        Assert.Empty(coordinator.PendingTransactions);
    }

    [Fact]
    public async Task CommitAsync_OneParticipantVotesNo_RollsBackEverywhereAndWritesNothing()
    {
        using var h = new CoordinatorHarness(2);
        TwoPhaseCommit coordinator = h.OpenCoordinator();
        DistributedTransaction tx = coordinator.Begin("g1")
            .Add(h.Local(0), CoordinatorHarness.Upsert("a", 1, 1))
            .Add(h.Local(1), TransactionOperation.Delete(CoordinatorHarness.Collection, "missing")); // invalid: a "no" vote

        TwoPhaseCommitResult result = await tx.CommitAsync();

        Assert.Equal(TwoPhaseCommitOutcome.RolledBack, result.Outcome);
        Assert.True(result.Participants[0].Prepared);
        Assert.False(result.Participants[1].Prepared);
        Assert.NotNull(result.Participants[1].PrepareError);
        Assert.All(result.Participants, p => Assert.Equal(PreparedTransactionState.RolledBack, p.State));
        Assert.Equal(0, h.Database(0).Count(CoordinatorHarness.Collection));
        Assert.Empty(h.Database(0).ListPrepared());
        Assert.Equal(PreparedTransactionState.RolledBack, h.Database(1).GetTransactionState("g1")); // presumed abort recorded
    }

    [Fact]
    public async Task CommitAsync_CommitAnswersLost_ResendsUntilEveryParticipantAnswers()
    {
        using var h = new CoordinatorHarness(2);
        TwoPhaseCommit coordinator = h.OpenCoordinator();
        var flaky = new CoordinatorTestParticipant(CoordinatorHarness.Name(1), h.Database(1));
        flaky.LoseAnswers(before: 2, after: 2); // two requests lost, then two answers lost (the commit applied)

        TwoPhaseCommitResult result = await coordinator.Begin("g1")
            .Add(h.Local(0), CoordinatorHarness.Upsert("a", 1, 1))
            .Add(flaky, CoordinatorHarness.Upsert("b", 1, 1))
            .CommitAsync();

        Assert.True(result.Committed);
        Assert.All(result.Participants, p => Assert.Equal(PreparedTransactionState.Committed, p.State));
        Assert.NotNull(h.Database(1).Get(CoordinatorHarness.Collection, "b"));
        Assert.Equal(1 + 5, flaky.Calls); // the prepare, then five commits: two lost, two unanswered, one answered
    }

    [Fact]
    public async Task CommitAsync_CancelledWhileAParticipantIsUnreachable_LeavesItPendingAndRecoveryCommits()
    {
        using var h = new CoordinatorHarness(2);
        var down = new CoordinatorTestParticipant(CoordinatorHarness.Name(1), h.Database(1));
        using var cancel = new CancellationTokenSource();
        var observer = new CoordinatorCrashObserver((step, _) =>
        {
            if (step.Kind == TwoPhaseCommitStepKind.DecisionLogged)
            {
                down.Down = true; // the decision is logged; participant 1 becomes unreachable
            }
            else if (step.Kind == TwoPhaseCommitStepKind.AfterResolve)
            {
                cancel.Cancel(); // participant 0 committed: give up waiting for participant 1
            }

            return false;
        });
        TwoPhaseCommit coordinator = h.OpenCoordinator(CoordinatorHarness.Fast with { Observer = observer });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => coordinator.Begin("g1")
            .Add(h.Local(0), CoordinatorHarness.Upsert("a", 1, 1))
            .Add(down, CoordinatorHarness.Upsert("b", 1, 1))
            .CommitAsync(cancel.Token));

        Assert.Equal(["g1"], coordinator.PendingTransactions);
        Assert.Equal(PreparedTransactionState.Prepared, h.Database(1).GetTransactionState("g1"));
        down.Down = false;
        TwoPhaseCommitRecovery recovery = await coordinator.RecoverAsync([h.Local(0), down]);

        Assert.Equal(["g1"], recovery.Committed);
        Assert.Equal(PreparedTransactionState.Committed, h.Database(1).GetTransactionState("g1"));
        Assert.NotNull(h.Database(1).Get(CoordinatorHarness.Collection, "b"));
        Assert.Empty(coordinator.PendingTransactions);
    }

    [Fact]
    public async Task CommitAsync_CancelledWhileAnAttemptFails_ThrowsTheCancellation_NotTheAttemptsFailure()
    {
        // The order that made the test above flaky, made certain: the caller's token is cancelled after a commit
        // attempt has started failing and before its failure reaches the coordinator's retry loop.
        using var h = new CoordinatorHarness(2);
        using var cancel = new CancellationTokenSource();
        var down = new CoordinatorTestParticipant(CoordinatorHarness.Name(1), h.Database(1)) { WhenUnreachable = cancel.Cancel };
        var observer = new CoordinatorCrashObserver((step, _) =>
        {
            if (step.Kind == TwoPhaseCommitStepKind.DecisionLogged)
            {
                down.Down = true;
            }

            return false;
        });
        TwoPhaseCommit coordinator = h.OpenCoordinator(CoordinatorHarness.Fast with { Observer = observer });

        var thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => coordinator.Begin("g1")
            .Add(h.Local(0), CoordinatorHarness.Upsert("a", 1, 1))
            .Add(down, CoordinatorHarness.Upsert("b", 1, 1))
            .CommitAsync(cancel.Token));

        Assert.IsType<IOException>(thrown.InnerException); // the failed attempt travels inside, for the log
        Assert.Equal(cancel.Token, thrown.CancellationToken);
        Assert.Equal(["g1"], coordinator.PendingTransactions);
        down.Down = false;
        down.WhenUnreachable = null;
        TwoPhaseCommitRecovery recovery = await coordinator.RecoverAsync([h.Local(0), down]);
        Assert.Equal(["g1"], recovery.Committed);
        Assert.NotNull(h.Database(1).Get(CoordinatorHarness.Collection, "b"));
    }

    [Theory]
    [InlineData(TwoPhaseCommitStepKind.BeginLogged, false)]
    [InlineData(TwoPhaseCommitStepKind.AfterPrepare, false)]
    [InlineData(TwoPhaseCommitStepKind.DecisionLogged, true)]
    [InlineData(TwoPhaseCommitStepKind.AfterResolve, true)]
    public async Task RecoverAsync_CoordinatorCrashedAtAStep_EveryParticipantReachesTheLoggedOutcome(TwoPhaseCommitStepKind crashAt, bool commits)
    {
        using var h = new CoordinatorHarness(2);
        var observer = new CoordinatorCrashObserver((step, _) => step.Kind == crashAt);
        TwoPhaseCommit coordinator = h.OpenCoordinator(CoordinatorHarness.Fast with { Observer = observer });
        await Assert.ThrowsAsync<SimulatedCrashException>(() => coordinator.Begin("g1")
            .Add(h.Local(0), CoordinatorHarness.Upsert("a", 1, 1))
            .Add(h.Local(1), CoordinatorHarness.Upsert("b", 1, 1))
            .CommitAsync());

        // The crash: every process closes; the participants keep their prepared transactions across the restart.
        h.CloseCoordinator();
        h.OpenDatabase(0);
        h.OpenDatabase(1);
        TwoPhaseCommit restarted = h.OpenCoordinator();
        TwoPhaseCommitRecovery recovery = await restarted.RecoverAsync(h.Locals());

        PreparedTransactionState expected = commits ? PreparedTransactionState.Committed : PreparedTransactionState.RolledBack;
        Assert.Equal(expected, h.Database(0).GetTransactionState("g1"));
        Assert.Equal(expected, h.Database(1).GetTransactionState("g1"));
        Assert.Equal(commits ? 1 : 0, h.Database(0).Count(CoordinatorHarness.Collection));
        Assert.Equal(commits ? 1 : 0, h.Database(1).Count(CoordinatorHarness.Collection));
        Assert.Equal(commits ? ["g1"] : [], recovery.Committed);
        Assert.Empty(recovery.Unresolved);
        Assert.Empty(restarted.PendingTransactions);
    }

    [Fact]
    public async Task RecoverAsync_PreparedUnderThisIdAndUnknownToTheLog_RollsItBackAndLeavesOtherCoordinatorsAlone()
    {
        using var h = new CoordinatorHarness(1);
        h.Database(0).PrepareTransaction("stray", [CoordinatorHarness.Upsert("a", 1, 1)], new PrepareOptions { CoordinatorId = CoordinatorHarness.CoordinatorId });
        h.Database(0).PrepareTransaction("others", [CoordinatorHarness.Upsert("b", 1, 1)], new PrepareOptions { CoordinatorId = "coordinator-2" });
        TwoPhaseCommit coordinator = h.OpenCoordinator();

        TwoPhaseCommitRecovery recovery = await coordinator.RecoverAsync(h.Locals());

        Assert.Equal(["stray"], recovery.RolledBack);
        Assert.Equal(PreparedTransactionState.RolledBack, h.Database(0).GetTransactionState("stray"));
        Assert.Equal(PreparedTransactionState.Prepared, h.Database(0).GetTransactionState("others"));
    }

    [Fact]
    public async Task RecoverAsync_CrashAfterTheBeginRecord_APrepareArrivingAfterRecoveryFails()
    {
        using var h = new CoordinatorHarness(1);
        var observer = new CoordinatorCrashObserver((step, _) => step.Kind == TwoPhaseCommitStepKind.BeginLogged);
        TwoPhaseCommit coordinator = h.OpenCoordinator(CoordinatorHarness.Fast with { Observer = observer });
        await Assert.ThrowsAsync<SimulatedCrashException>(() => coordinator.Begin("g1").Add(h.Local(0), CoordinatorHarness.Upsert("a", 1, 1)).CommitAsync());
        h.CloseCoordinator();

        TwoPhaseCommitRecovery recovery = await h.OpenCoordinator().RecoverAsync(h.Locals());

        // The prepare the crashed coordinator had in flight lands now: presumed abort refuses it.
        Assert.Equal(["g1"], recovery.RolledBack);
        Assert.Throws<PreparedTransactionException>(() => h.Database(0).PrepareTransaction(
            "g1", [CoordinatorHarness.Upsert("a", 1, 1)], new PrepareOptions { CoordinatorId = CoordinatorHarness.CoordinatorId }));
        Assert.Equal(0, h.Database(0).Count(CoordinatorHarness.Collection));
    }

    [Fact]
    public async Task RecoverAsync_AParticipantOfTheLogIsMissing_ReportsItAndKeepsTheTransactionPending()
    {
        using var h = new CoordinatorHarness(2);
        var observer = new CoordinatorCrashObserver((step, _) => step.Kind == TwoPhaseCommitStepKind.DecisionLogged);
        TwoPhaseCommit coordinator = h.OpenCoordinator(CoordinatorHarness.Fast with { Observer = observer });
        await Assert.ThrowsAsync<SimulatedCrashException>(() => coordinator.Begin("g1")
            .Add(h.Local(0), CoordinatorHarness.Upsert("a", 1, 1))
            .Add(h.Local(1), CoordinatorHarness.Upsert("b", 1, 1))
            .CommitAsync());
        h.CloseCoordinator();
        TwoPhaseCommit restarted = h.OpenCoordinator();

        TwoPhaseCommitRecovery partial = await restarted.RecoverAsync([h.Local(0)]);

        Assert.Equal([new TwoPhaseCommitUnresolved("g1", "p1", "participant 'p1' was not given to recovery; the decision is Committed")], partial.Unresolved);
        Assert.Equal(PreparedTransactionState.Committed, h.Database(0).GetTransactionState("g1"));
        Assert.Equal(PreparedTransactionState.Prepared, h.Database(1).GetTransactionState("g1"));
        Assert.Equal(["g1"], restarted.PendingTransactions);

        TwoPhaseCommitRecovery full = await restarted.RecoverAsync(h.Locals());
        Assert.Equal(["g1"], full.Committed);
        Assert.Equal(PreparedTransactionState.Committed, h.Database(1).GetTransactionState("g1"));
    }

    [Fact]
    public async Task DecisionLog_ThousandsOfTransactions_IsTrimmedToTheSegmentsOfPendingOnes()
    {
        using var h = new CoordinatorHarness(1);
        TwoPhaseCommit coordinator = h.OpenCoordinator();
        var yes = new AlwaysYesParticipant();
        for (int i = 0; i < 2_000; i++)
        {
            TwoPhaseCommitResult result = await coordinator.Begin($"g{i}").Add(yes, CoordinatorHarness.Upsert("a", i, i)).CommitAsync();
            Assert.True(result.Committed);
        }

        // Three records of about 60 bytes per transaction: over 300 KB untrimmed, in 64 KiB segments; only the active one
        // and the segments written since the last trim (every 64 ends) may remain.
        Assert.True(coordinator.LogSizeBytes < 2 * 64 * 1024, $"the decision log holds {coordinator.LogSizeBytes} bytes");
        h.CloseCoordinator();
        Assert.Empty(h.OpenCoordinator().PendingTransactions);
    }

    [Fact]
    public async Task Begin_AGidPendingInTheLog_IsRefused()
    {
        using var h = new CoordinatorHarness(1);
        var observer = new CoordinatorCrashObserver((step, _) => step.Kind == TwoPhaseCommitStepKind.BeginLogged);
        TwoPhaseCommit coordinator = h.OpenCoordinator(CoordinatorHarness.Fast with { Observer = observer });
        await Assert.ThrowsAsync<SimulatedCrashException>(() => coordinator.Begin("g1").Add(h.Local(0), CoordinatorHarness.Upsert("a", 1, 1)).CommitAsync());
        h.CloseCoordinator();

        TwoPhaseCommit restarted = h.OpenCoordinator();
        await Assert.ThrowsAsync<InvalidOperationException>(() => restarted.Begin("g1").Add(h.Local(0), CoordinatorHarness.Upsert("a", 1, 1)).CommitAsync());
    }

    /// <summary>A participant that says yes to everything at once, without a database (for the log's own cost).</summary>
    private sealed class AlwaysYesParticipant : ITransactionParticipant
    {
        public string Name => "yes";

        public ValueTask<PreparedTransaction> PrepareAsync(string gid, IReadOnlyList<TransactionOperation> operations, PrepareOptions options, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new PreparedTransaction(gid, PreparedTransactionState.Prepared, 1, DateTimeOffset.UnixEpoch, operations.Count, options.CoordinatorId, operations));

        public ValueTask<PreparedTransactionState> CommitPreparedAsync(string gid, CancellationToken cancellationToken) => ValueTask.FromResult(PreparedTransactionState.Committed);

        public ValueTask<PreparedTransactionState> RollbackPreparedAsync(string gid, CancellationToken cancellationToken) => ValueTask.FromResult(PreparedTransactionState.RolledBack);

        public ValueTask<IReadOnlyList<PreparedTransaction>> ListPreparedAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<PreparedTransaction>>([]);

        public ValueTask<PreparedTransactionState> GetStateAsync(string gid, CancellationToken cancellationToken) => ValueTask.FromResult(PreparedTransactionState.Unknown);
    }
}

using OxiVec.Replication;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Replication;

public sealed class SyncCommitTests
{
    private static readonly TimeSpan Timeout = ReplicationHarness.Timeout;
    private static readonly float[] V = [1, 2, 3];

    /// <summary>Waits (bounded) until <paramref name="count"/> commits wait at the gate, or the commit completed (a missing gate).</summary>
    private static void WaitForGate(WalReplicator replicator, int count, Task commit) =>
        Assert.True(SpinWait.SpinUntil(() => replicator.Gate!.Waiting >= count || commit.IsCompleted, Timeout), "the commit reached the gate");

    private static async Task CreateDocsAsync(ReplicationHarness h) =>
        await Task.Run(() => StreamingTests.Seed(h.Primary, 0, 1)).WaitAsync(Timeout);

    [Fact]
    public async Task FirstOne_RemoteFlush_ACommitIsNotAcknowledgedNorVisibleUntilTheStandbyConfirms()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)" });
        var faults = new LinkFaults();
        StandbyReceiver a = await h.StartStandbyAsync("a", faults);
        await CreateDocsAsync(h);

        faults.ProgressValve.Close();
        Task<long> commit = h.Primary.InsertAsync("docs", "x", V).AsTask();
        long lsn = h.Primary.Wal.LastLsn;
        Assert.True(await a.WaitForAppliedAsync(lsn, Timeout, CancellationToken.None)); // the standby has it, durably
        WaitForGate(h.Replicator, 1, commit);
        Assert.False(commit.IsCompleted);
        Assert.Null(h.Primary.Get("docs", "x"));

        faults.ProgressValve.Open();
        Assert.Equal(lsn, await commit.WaitAsync(Timeout));
        Assert.NotNull(h.Primary.Get("docs", "x"));
    }

    [Fact]
    public async Task RemoteWrite_IsAcknowledgedBeforeTheStandbyFlushes_RemoteFlush_WaitsForItsFsync()
    {
        VectorDatabaseOptions lazyStandby = ReplicationHarness.Options(syncIntervalMs: 3_600_000); // its WAL never fsyncs on its own
        await using (var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)", AckLevel = ReplicationAckLevel.RemoteWrite }))
        {
            StandbyReceiver a = await h.StartStandbyAsync("a", options: lazyStandby);
            await CreateDocsAsync(h);
            long lsn = await h.Primary.InsertAsync("docs", "w", V).AsTask().WaitAsync(Timeout);
            Assert.True(a.Database.Wal.DurableLsn < lsn, "acknowledged while the standby had it only written");
        }

        await using (var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)", AckLevel = ReplicationAckLevel.RemoteFlush }))
        {
            StandbyReceiver a = await h.StartStandbyAsync("a", options: lazyStandby);
            Task create = Task.Run(() => StreamingTests.Seed(h.Primary, 0, 1));
            await ConfirmEachCommitBySyncingAsync(h, a, create);
            await create.WaitAsync(Timeout);

            Task<long> commit = h.Primary.InsertAsync("docs", "f", V).AsTask();
            long lsn = h.Primary.Wal.LastLsn;
            Assert.True(await a.WaitForAppliedAsync(lsn, Timeout, CancellationToken.None)); // written and applied, not fsynced
            WaitForGate(h.Replicator, 1, commit);
            Assert.False(commit.IsCompleted);
            a.Database.Sync(); // the standby's fsync is reported, and confirms the commit
            Assert.Equal(lsn, await commit.WaitAsync(Timeout));
        }
    }

    /// <summary>
    /// Until <paramref name="writes"/> completes: each time one of its commits waits at the gate (for the lazy standby's
    /// fsync), waits until the standby has applied it, fsyncs the standby, and waits until the gate confirmed it.
    /// Driven by the gate, not by a count of polls: the writer may take any time between its commits.
    /// </summary>
    private static async Task ConfirmEachCommitBySyncingAsync(ReplicationHarness h, StandbyReceiver standby, Task writes)
    {
        while (true)
        {
            WaitForGate(h.Replicator, 1, writes);
            if (writes.IsCompleted)
            {
                return;
            }

            long lsn = h.Primary.Wal.LastLsn;
            Assert.True(await standby.WaitForAppliedAsync(lsn, Timeout, CancellationToken.None));
            standby.Database.Sync();

            // The confirmed LSN only grows; "nobody waits" would be a passing state the writer's next commit may end
            // before it is seen.
            Assert.True(SpinWait.SpinUntil(() => h.Replicator.Gate!.ConfirmedLsn >= lsn || writes.IsCompleted, Timeout), "the standby's fsync confirmed the waiting commit");
        }
    }

    [Fact]
    public async Task LocalFsyncFails_WhileTheCommitWaitsForTheStandby_TheCommitFailsWithTheWal()
    {
        // An asynchronous commit waits for the standby's confirmation first, its local fsync under way: the WAL's
        // failure must end that wait too, not leave the commit hanging on a confirmation that will never come.
        var disk = new OxiVec.Tests.Fakes.SimulatedDisk();
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)" }, primaryWal: disk);
        var faults = new LinkFaults();
        StandbyReceiver a = await h.StartStandbyAsync("a", faults);
        await CreateDocsAsync(h);

        faults.ProgressValve.Close(); // the standby never confirms
        disk.FailSyncFrom = disk.SyncCount + 1;
        Task<long> commit = h.Primary.InsertAsync("docs", "lost", V).AsTask();
        WalFailedException failed = await Assert.ThrowsAsync<WalFailedException>(() => commit.WaitAsync(Timeout));
        Assert.Contains("fsync failed", failed.Message, StringComparison.Ordinal);
        Assert.Null(h.Primary.Get("docs", "lost")); // never acknowledged, never applied
        faults.ProgressValve.Open();
    }

    [Fact]
    public async Task RemoteApply_WhenTheCommitReturns_TheStandbyShowsTheWrite()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)", AckLevel = ReplicationAckLevel.RemoteApply });
        StandbyReceiver a = await h.StartStandbyAsync("a");
        await CreateDocsAsync(h);
        for (int i = 0; i < 20; i++)
        {
            await h.Primary.UpsertAsync("docs", $"r{i}", V).AsTask().WaitAsync(Timeout);
            Assert.NotNull(a.Database.Get("docs", $"r{i}"));
        }
    }

    [Fact]
    public async Task FirstOne_ByPriority_TheSecondStandbyCountsOnlyOnceTheFirstIsGone()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a, b)" });
        var faultsA = new LinkFaults();
        StandbyReceiver a = await h.StartStandbyAsync("a", faultsA);
        StandbyReceiver b = await h.StartStandbyAsync("b");
        await CreateDocsAsync(h);

        faultsA.ProgressValve.Close();
        Task<long> commit = h.Primary.InsertAsync("docs", "p", V).AsTask();
        long lsn = h.Primary.Wal.LastLsn;
        Assert.True(await b.WaitForAppliedAsync(lsn, Timeout, CancellationToken.None));
        WaitForGate(h.Replicator, 1, commit);
        Assert.False(commit.IsCompleted); // b confirmed, but a has priority

        await h.StopStandbyAsync(a); // a disconnects: b is the first connected standby now
        Assert.Equal(lsn, await commit.WaitAsync(Timeout));
        Assert.Contains(h.Replicator.GetStatus().Standbys, s => s.Name == "b" && s.Synchronous);
    }

    [Fact]
    public async Task AnyTwoOfThree_ACommitWaitsForTwoConfirmations_AnyTwo()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "ANY 2 (a, b, c)" });
        var fa = new LinkFaults();
        var fb = new LinkFaults();
        StandbyReceiver a = await h.StartStandbyAsync("a", fa);
        await h.StartStandbyAsync("b", fb);
        StandbyReceiver c = await h.StartStandbyAsync("c");
        await CreateDocsAsync(h);

        fa.ProgressValve.Close();
        fb.ProgressValve.Close();
        Task<long> commit = h.Primary.InsertAsync("docs", "q", V).AsTask();
        long lsn = h.Primary.Wal.LastLsn;
        Assert.True(await c.WaitForAppliedAsync(lsn, Timeout, CancellationToken.None));
        Assert.True(await a.WaitForAppliedAsync(lsn, Timeout, CancellationToken.None));
        WaitForGate(h.Replicator, 1, commit);
        Assert.False(commit.IsCompleted); // only c has confirmed

        fb.ProgressValve.Open();
        Assert.Equal(lsn, await commit.WaitAsync(Timeout));
        fa.ProgressValve.Open();
    }

    [Fact]
    public async Task TooFewStandbys_Block_WaitsUntilOneConnects()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)" });
        Task create = Task.Run(() => StreamingTests.Seed(h.Primary, 0, 1));
        WaitForGate(h.Replicator, 1, create);
        Assert.False(create.IsCompleted);
        Assert.False(h.Replicator.GetStatus().Degraded);

        await h.StartStandbyAsync("a");
        await create.WaitAsync(Timeout);
        Assert.Equal(0, h.Replicator.DegradedTransitions);
    }

    [Fact]
    public async Task TooFewStandbys_DegradeToAsync_AcknowledgesAlone_CountsTheTransition_ThenWaitsAgainOnceEnoughAreBack()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)", WhenTooFewStandbys = TooFewStandbysBehavior.DegradeToAsync });
        await CreateDocsAsync(h); // no standby: acknowledged alone
        Assert.True(h.Replicator.GetStatus().Degraded);
        Assert.Equal(1, h.Replicator.DegradedTransitions);

        var faults = new LinkFaults();
        await h.StartStandbyAsync("a", faults);
        // StartStandbyAsync returns once the standby's loop runs, not once the primary has its stream: a commit before
        // that is still acknowledged alone. The primary leaves the degraded mode when a connects.
        Assert.True(
            SpinWait.SpinUntil(() => h.Replicator.GetStatus() is { Degraded: false } s && s.Standbys.Any(x => x.Name == "a" && x.Connected), Timeout),
            "the primary counted a as connected and left the degraded mode");
        await h.Primary.InsertAsync("docs", "after", V).AsTask().WaitAsync(Timeout); // confirmed by a
        Assert.False(h.Replicator.GetStatus().Degraded);

        faults.ProgressValve.Close();
        Task<long> commit = h.Primary.InsertAsync("docs", "held", V).AsTask();
        WaitForGate(h.Replicator, 1, commit);
        Assert.False(commit.IsCompleted); // connected and synchronous again: the commit waits for a
        faults.ProgressValve.Open();
        await commit.WaitAsync(Timeout);
        Assert.Equal(1, h.Replicator.DegradedTransitions);
    }

    [Fact]
    public async Task CancellingTheWait_NeverUncommits_TheWriteIsAppliedOnceConfirmed()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)" });
        var faults = new LinkFaults();
        StandbyReceiver a = await h.StartStandbyAsync("a", faults);
        await CreateDocsAsync(h);

        long lsn = await InsertUnconfirmedAndCancelTheWaitAsync(h, faults, "c");
        Assert.Null(h.Primary.Get("docs", "c"));
        Assert.Throws<InvalidOperationException>(() => h.Primary.Insert("docs", "c", V)); // it is committed: the id exists

        faults.ProgressValve.Open();
        Assert.True(await h.Primary.WaitForAppliedAsync(lsn, Timeout));
        Assert.NotNull(h.Primary.Get("docs", "c"));
        Assert.True(await a.WaitForAppliedAsync(lsn, Timeout, CancellationToken.None));
    }

    [Fact]
    public async Task Sync_OnAPrimaryWithSynchronousStandbys_DoesNotMakeAnUnconfirmedWriteVisible()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)" });
        var faults = new LinkFaults();
        StandbyReceiver a = await h.StartStandbyAsync("a", faults);
        await CreateDocsAsync(h);

        long lsn = await InsertUnconfirmedAndCancelTheWaitAsync(h, faults, "s");

        h.Primary.Sync(); // fsyncs locally; the standby has not confirmed, so the write must stay invisible
        Assert.Null(h.Primary.Get("docs", "s"));
        Assert.True(h.Primary.AppliedLsn < lsn);

        faults.ProgressValve.Open();
        Assert.True(await h.Primary.WaitForAppliedAsync(lsn, Timeout));
        Assert.NotNull(h.Primary.Get("docs", "s"));
        Assert.True(await a.WaitForAppliedAsync(lsn, Timeout, CancellationToken.None));
    }

    /// <summary>
    /// Holds the standby's progress back, inserts <paramref name="id"/>, waits until its commit waits at the gate, cancels
    /// that wait (the insert throws OperationCanceledException) and returns its LSN: logged, not yet confirmed.
    /// </summary>
    private static async Task<long> InsertUnconfirmedAndCancelTheWaitAsync(ReplicationHarness h, LinkFaults faults, string id)
    {
        faults.ProgressValve.Close();
        using var cts = new CancellationTokenSource();
        Task<long> commit = h.Primary.InsertAsync("docs", id, V, cancellationToken: cts.Token).AsTask();
        long lsn = h.Primary.Wal.LastLsn;
        WaitForGate(h.Replicator, 1, commit);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => commit.WaitAsync(Timeout));
        return lsn;
    }
}

using OxiVec.Replication;
using OxiVec.Storage;
using Xunit.Abstractions;

namespace OxiVec.Tests.Replication;

/// <summary>
/// Synchronous remote flush under concurrent writers with an fsync per commit (SyncIntervalMs = 0): the primary's group
/// commit writes the waiting records together, its sender ships them as one batch and the standby fsyncs that batch
/// once. A regression that ships records one at a time (3283c55: single appends written on arrival published the
/// written LSN per record) makes the standby fsync each, and sync throughput fell to 5 % of local only.
/// </summary>
public sealed class SyncCommitBatchingTests(ITestOutputHelper output)
{
    private const int Writers = 32;
    private const int CommitsPerWriter = 60;

    /// <summary>
    /// At most this many standby fsyncs (and shipped batches) per acknowledged commit. One-record batches give ~1; the
    /// group commit gives ~1/20 on a quiet machine. Even on a loaded 2-core machine, where fewer writers are runnable
    /// when an fsync starts, a batch holds several commits.
    /// </summary>
    private const double MaxPerCommit = 0.5;

    [Fact]
    public async Task RemoteFlush_ManyWriters_SyncIntervalZero_TheStandbyFsyncsBatchesNotCommits_AndHoldsEveryAcknowledgedCommit()
    {
        VectorDatabaseOptions options = ReplicationHarness.Options(syncIntervalMs: 0, segmentBytes: 16 << 20);
        await using var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)", AckLevel = ReplicationAckLevel.RemoteFlush }, options);
        // A window as wide as a real transport's: the sender never waits for the standby, so what it ships is what the
        // primary's writes make (a narrow link would batch one-record writes by its own backpressure and hide them).
        StandbyReceiver a = await h.StartStandbyAsync("a", options: options, linkCapacity: 4096);
        await Task.Run(() => StreamingTests.Seed(h.Primary, 0, 1)).WaitAsync(ReplicationHarness.Timeout); // the collection, confirmed by a

        long standbyFsyncs = a.Database.GetWalMetrics().SyncCount;
        long batches = h.Replicator.BatchesSent;
        var acknowledged = new long[Writers][];
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            long[] mine = acknowledged[w] = new long[CommitsPerWriter];
            await start.Task;
            for (int i = 0; i < CommitsPerWriter; i++)
            {
                mine[i] = await h.Primary.UpsertAsync("docs", $"w{w}-{i}", new float[] { w, i, 1 });
            }
        }))];
        start.SetResult();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(2));

        // Remote flush: every acknowledged commit was durable on the standby when it was acknowledged.
        long lastAcknowledged = acknowledged.SelectMany(l => l).Max();
        Assert.True(a.Database.Wal.DurableLsn >= lastAcknowledged, $"the standby's WAL is durable through LSN {a.Database.Wal.DurableLsn}, before acknowledged LSN {lastAcknowledged}");

        const int commits = Writers * CommitsPerWriter;
        double fsyncsPerCommit = (a.Database.GetWalMetrics().SyncCount - standbyFsyncs) / (double)commits;
        double batchesPerCommit = (h.Replicator.BatchesSent - batches) / (double)commits;
        output.WriteLine($"{commits} commits: standby fsyncs {fsyncsPerCommit:0.000} per commit, batches shipped {batchesPerCommit:0.000} per commit");
        Assert.True(
            fsyncsPerCommit <= MaxPerCommit && batchesPerCommit <= MaxPerCommit,
            $"{commits} commits of {Writers} writers: the standby fsynced {fsyncsPerCommit:0.000} times and the primary shipped {batchesPerCommit:0.000} batches per commit (at most {MaxPerCommit} expected: records must be shipped and fsynced in batches, not one by one)");

        Assert.True(await a.WaitForAppliedAsync(lastAcknowledged, ReplicationHarness.Timeout, CancellationToken.None));
        for (int w = 0; w < Writers; w++)
        {
            for (int i = 0; i < CommitsPerWriter; i++)
            {
                Assert.Equal(new float[] { w, i, 1 }, a.Database.Get("docs", $"w{w}-{i}")?.Vector.ToArray());
            }
        }
    }
}

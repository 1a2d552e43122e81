using System.Collections.Concurrent;
using OxiVec.Replication;

namespace OxiVec.Tests.Replication;

/// <summary>
/// When a standby with an fsync per batch reports a batch: before applying it when no commit of the primary waits for
/// the apply (remote flush: the apply is off the commits' path), after applying it at remote apply. Either way one
/// report per batch, and a commit is acknowledged only once the standby's WAL holds it durably.
/// </summary>
public sealed class StandbyReportOrderTests
{
    private static readonly TimeSpan Timeout = ReplicationHarness.Timeout;
    private static readonly float[] V = [1, 2, 3];

    [Fact]
    public async Task RemoteFlush_TheStandbyReportsEachBatchFlushedBeforeApplyingIt_AndTheApplyComesWithTheNextReport()
    {
        (List<StandbyProgress> reports, List<long> lsns) = await CommitOneByOneAsync(ReplicationAckLevel.RemoteFlush);

        foreach (long lsn in lsns)
        {
            StandbyProgress first = reports.First(p => p.FlushedLsn >= lsn);
            Assert.Equal(lsn, first.FlushedLsn);
            Assert.True(first.AppliedLsn < lsn, $"the report that first says LSN {lsn} is flushed was sent after its apply ({first})");
        }

        // The apply followed: each batch's report carries the previous batch applied.
        for (int i = 1; i < lsns.Count; i++)
        {
            Assert.True(reports.First(p => p.FlushedLsn >= lsns[i]).AppliedLsn >= lsns[i - 1], $"the report of LSN {lsns[i]} does not carry LSN {lsns[i - 1]} applied");
        }
    }

    [Fact]
    public async Task RemoteApply_TheStandbyReportsEachBatchAfterApplyingIt()
    {
        (List<StandbyProgress> reports, List<long> lsns) = await CommitOneByOneAsync(ReplicationAckLevel.RemoteApply);

        foreach (long lsn in lsns)
        {
            StandbyProgress first = reports.First(p => p.FlushedLsn >= lsn);
            Assert.True(first.AppliedLsn >= lsn, $"the report that first says LSN {lsn} is flushed was sent before its apply ({first})");
        }
    }

    [Fact]
    public async Task ThePrimaryTellsTheStandbysWhetherItAwaitsTheApply_OnlyAtRemoteApply()
    {
        foreach ((ReplicationOptions options, bool awaited) in new[]
        {
            (new ReplicationOptions(), false),
            (new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)", AckLevel = ReplicationAckLevel.RemoteWrite }, false),
            (new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)", AckLevel = ReplicationAckLevel.RemoteFlush }, false),
            (new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)", AckLevel = ReplicationAckLevel.RemoteApply }, true),
        })
        {
            await using var h = new ReplicationHarness(options);
            var faults = new LinkFaults();
            var batches = new ConcurrentQueue<WalBatch>();
            faults.Rewrite = m =>
            {
                if (m is WalBatch b)
                {
                    batches.Enqueue(b);
                }

                return m;
            };
            StandbyReceiver a = await h.StartStandbyAsync("a", faults);
            await Task.Run(() => StreamingTests.Seed(h.Primary, 0, 1)).WaitAsync(Timeout);
            await h.CaughtUpAsync(a);
            Assert.NotEmpty(batches);
            Assert.All(batches, b => Assert.Equal(awaited, b.ApplyAwaited));
        }
    }

    /// <summary>
    /// A synchronous standby "a" at <paramref name="level"/>, fsync per batch on both sides; 10 commits one after
    /// another (one batch each), then until the standby applied them all; the reports the primary got, and the commits.
    /// </summary>
    private static async Task<(List<StandbyProgress> Reports, List<long> Lsns)> CommitOneByOneAsync(ReplicationAckLevel level)
    {
        var h = new ReplicationHarness(new ReplicationOptions { SynchronousStandbys = "FIRST 1 (a)", AckLevel = level });
        await using (h)
        {
            var faults = new LinkFaults();
            var reports = new ConcurrentQueue<StandbyProgress>();
            faults.ProgressSeen = reports.Enqueue;
            StandbyReceiver a = await h.StartStandbyAsync("a", faults);
            await Task.Run(() => StreamingTests.Seed(h.Primary, 0, 1)).WaitAsync(Timeout);
            var lsns = new List<long>();
            for (int i = 0; i < 10; i++)
            {
                long lsn = await h.Primary.UpsertAsync("docs", $"r{i}", V).AsTask().WaitAsync(Timeout);
                Assert.True(a.Database.Wal.DurableLsn >= lsn, $"commit {lsn} was acknowledged before the standby's WAL held it durably");
                lsns.Add(lsn);
            }

            await h.CaughtUpAsync(a);
            return ([.. reports], lsns);
        }
    }
}

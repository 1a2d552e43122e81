using OxiVec.Replication;
using OxiVec.Storage;

namespace OxiVec.Tests.Replication;

/// <summary>
/// Group receive: batches that arrived while the standby wrote and fsynced an earlier one are written, fsynced and
/// reported together (one fsync for the group, as the primary's group commit does), nothing missing or duplicated.
/// </summary>
public sealed class StandbyGroupReceiveTests
{
    [Fact]
    public async Task BatchesThatArrivedMeanwhile_AreWrittenUnderOneFsync_NothingMissingOrDuplicated()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { MaxBatchBytes = 4096 });
        StreamingTests.Seed(h.Primary, 0, 10);
        StandbyReceiver standby = await h.StartStandbyAsync("a");
        await h.CaughtUpAsync(standby);
        await h.StopStandbyAsync(standby);

        StreamingTests.Seed(h.Primary, 10, 1_000); // about 25 batches of 4 KiB
        const int Queued = 6;
        var faults = new LinkFaults();
        int sent = 0;
        var queued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        faults.Rewrite = m =>
        {
            // The primary sends one message at a time: when it hands over batch Queued + 1, the Queued before it are in the link.
            if (m is WalBatch && Interlocked.Increment(ref sent) == Queued + 1)
            {
                queued.TrySetResult();
            }

            return m;
        };
        StandbyReceiver again = await h.StartStandbyAsync("a", faults, linkCapacity: Queued + 2, wrap: inner => new FirstBatchHeldBack(inner, queued.Task));
        long syncsBefore = again.Database.GetWalMetrics().SyncCount;
        await h.CaughtUpAsync(again);

        Assert.True(again.CoalescedBatches >= Queued - 1, $"{again.CoalescedBatches} batches joined an earlier one; the {Queued} queued behind the held one should have");
        long syncs = again.Database.GetWalMetrics().SyncCount - syncsBefore;
        // One fsync per batch without the grouping (and at most one more: the flush before the hello).
        Assert.True(syncs <= Volatile.Read(ref sent) - (Queued - 1) + 1, $"{syncs} standby fsyncs for {Volatile.Read(ref sent)} batches");
        VectorDatabase replica = again.Database;
        long first = replica.Wal.FirstLsn, last = h.Primary.Wal.LastLsn;
        Assert.Equal(last, replica.Wal.LastLsn);
        Assert.Equal(ReplicationHarness.Stream(h.Primary, first, last), ReplicationHarness.Stream(replica, first, last));
        Assert.Equal(ReplicationHarness.Export(h.Primary), ReplicationHarness.Export(replica));
    }

    /// <summary>A standby's end whose first WAL batch is handed over only once <paramref name="release"/> completes (the rest pass through).</summary>
    private sealed class FirstBatchHeldBack(IReplicationChannel<StandbyMessage, PrimaryMessage> inner, Task release) : IReplicationChannel<StandbyMessage, PrimaryMessage>
    {
        private int _held;

        public ValueTask SendAsync(StandbyMessage message, CancellationToken cancellationToken) => inner.SendAsync(message, cancellationToken);

        public async ValueTask<PrimaryMessage?> ReceiveAsync(CancellationToken cancellationToken)
        {
            PrimaryMessage? message = await inner.ReceiveAsync(cancellationToken);
            if (message is WalBatch && Interlocked.Exchange(ref _held, 1) == 0)
            {
                await release.WaitAsync(ReplicationHarness.Timeout, cancellationToken);
            }

            return message;
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}

using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>
/// <see cref="WalManager.StartAcknowledging"/>: a commit of a primary with synchronous standbys joins the group commit
/// without waiting on it (it waits for the standbys first), so the group commit alone must see it fsynced: nobody
/// re-checks for it when its batch wakes.
/// </summary>
public sealed class WalStartAcknowledgingTests
{
    [Fact]
    public async Task DetachedCommit_InANextBatchWokenBeforeAnFsyncCoveredIt_IsFsyncedWithoutAnotherCommit()
    {
        var disk = new SimulatedDisk($"/sim/{Guid.NewGuid():N}");
        await using var wal = WalManager.Open(disk, Config(disk.Directory) with { CommitDelayMicros = 0 });
        long first = wal.AppendUnacknowledged([InsertFor(1)], transactional: false);
        using var writeHeld = new ManualResetEventSlim();
        using var releaseWrite = new ManualResetEventSlim();
        int writes = 0;
        disk.OnWrite = name =>
        {
            if (name.EndsWith(WalSegmentName.Suffix, StringComparison.Ordinal) && Interlocked.Increment(ref writes) == 1)
            {
                writeHeld.Set();
                releaseWrite.Wait();
            }
        };

        // The syncer took what was pending (the first record) and is held in its write: what its fsync covers is not
        // known yet, so commits that join now go to the next batch.
        Task syncer = Task.Run(wal.Sync);
        Assert.True(writeHeld.Wait(TimeSpan.FromSeconds(60)), "the syncer never wrote");
        wal.StartAcknowledging(first, forceDurable: false);
        long second = wal.AppendUnacknowledged([InsertFor(2)], transactional: false); // after the syncer's snapshot
        wal.StartAcknowledging(second, forceDurable: false);
        Assert.Equal(3, wal.WaitingCommits); // the syncer's own, and both in the next batch

        // The fsync covers the first record, so the next batch wakes; the second record's commit waits on nothing of it.
        releaseWrite.Set();
        await syncer;

        Assert.True(await DurableWithin(wal, second, TimeSpan.FromSeconds(30)), $"LSN {second} was never fsynced: its commit was dropped with the woken batch (durable LSN {wal.DurableLsn})");
        Assert.Equal(0, wal.UncoveredWakeups);
    }

    [Fact]
    public async Task ManyDetachedCommits_WithAsyncWaitersAndBlockedWriters_AreAllFsyncedWithoutAFinalWait()
    {
        // Bounded stress: commits start their acknowledgement detached (as a primary's do when they wait for a standby),
        // mixed with waiting writers; at the end nobody waits, and every LSN must still become durable.
        var disk = new SimulatedDisk($"/sim/{Guid.NewGuid():N}");
        await using var wal = WalManager.Open(disk, Config(disk.Directory, segmentSize: 1 << 20) with { CommitDelayMicros = 0 });
        long last = 0;
        Task[] writers = [.. Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < 300; i++)
            {
                long lsn = wal.AppendUnacknowledged([InsertFor((w * 1_000) + i)], transactional: false);
                InterlockedMax(ref last, lsn);
                wal.StartAcknowledging(lsn, forceDurable: false);
                if (i % 3 == 0)
                {
                    await wal.WaitAcknowledgedAsync(lsn, endsWithCheckpoint: false, 0, CancellationToken.None);
                }
                else if (i % 3 == 1 && w % 2 == 0)
                {
                    wal.WaitAcknowledged(lsn, endsWithCheckpoint: false, 0);
                }
            }
        }))];
        await Task.WhenAll(writers);

        Assert.True(await DurableWithin(wal, Volatile.Read(ref last), TimeSpan.FromSeconds(30)), $"LSN {last} was never fsynced (durable LSN {wal.DurableLsn})");
    }

    /// <summary>Waits, woken by the WAL's position changes, until <paramref name="lsn"/> is durable; false after <paramref name="timeout"/>.</summary>
    private static async Task<bool> DurableWithin(WalManager wal, long lsn, TimeSpan timeout)
    {
        using var patience = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed = wal.PositionsChanged(); // before reading: a change after the read completes it
            if (wal.DurableLsn >= lsn)
            {
                return true;
            }

            try
            {
                await changed.WaitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                return wal.DurableLsn >= lsn;
            }
        }
    }

    private static void InterlockedMax(ref long location, long value)
    {
        long seen = Volatile.Read(ref location);
        while (value > seen)
        {
            long previous = Interlocked.CompareExchange(ref location, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}

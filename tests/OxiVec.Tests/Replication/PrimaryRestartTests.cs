using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Replication;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Replication;

/// <summary>
/// A primary ships records as soon as they are written to its WAL, before its own fsync covers them (so a standby's
/// fsync runs alongside the primary's). A standby can therefore hold records a crashed primary lost: these tests
/// restart a primary without the tail it had shipped and check that the standby never keeps that tail silently.
/// </summary>
public sealed class PrimaryRestartTests
{
    [Theory]
    [InlineData(0)] // the restarted primary's log ends before the standby's
    [InlineData(12)] // it wrote new records past the standby's last LSN: same LSNs, other records
    public async Task StandbyAheadOfARestartedPrimary_WhichLostTheTailItHadShipped_TakesABaseBackup_AndConvergesWithoutThatTail(int writtenAfterRestart)
    {
        await using var h = new ReplicationHarness();
        StreamingTests.Seed(h.Primary, 0, 10);
        StandbyReceiver standby = await h.StartStandbyAsync("a");
        StreamingTests.Seed(h.Primary, 10, 20);
        await h.CaughtUpAsync(standby);
        long shipped = h.Primary.Wal.LastLsn;
        long keep = shipped - 5; // the primary "loses" its last 5 records: written and shipped, never fsynced
        Assert.Equal(shipped, standby.Database.Wal.LastLsn);
        await h.StopStandbyAsync(standby);

        await h.RestartPrimaryAsync(dir => WalTruncation.TruncateAfter(
            new FileSystemWalStorage(Path.Combine(dir, "wal")), ReplicationHarness.Options().Wal, keep, "lost-tail", null, NullLogger.Instance));
        Assert.Equal(keep, h.Primary.Wal.LastLsn);
        for (int i = 0; i < writtenAfterRestart; i++)
        {
            h.Primary.Upsert("docs", $"after{i}", new float[] { -i, 3, 2 });
        }

        var replaced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StandbyReceiver again = await h.StartStandbyAsync("a", created: r => r.DatabaseReplaced += (_, _) => replaced.TrySetResult());
        await replaced.Task.WaitAsync(ReplicationHarness.Timeout); // its old database, ahead of the primary, was replaced
        await h.CaughtUpAsync(again);
        Assert.Equal(1, again.BaseBackups); // told to take one: its log ran past, or differed from, the primary's

        VectorDatabase replica = again.Database;
        long first = replica.Wal.FirstLsn, last = h.Primary.Wal.LastLsn;
        Assert.Equal(last, replica.Wal.LastLsn);
        Assert.Equal(ReplicationHarness.Stream(h.Primary, first, last), ReplicationHarness.Stream(replica, first, last));
        Assert.Equal(ReplicationHarness.Export(h.Primary), ReplicationHarness.Export(replica));
        for (int i = 25; i < 30; i++)
        {
            Assert.Null(replica.Get("docs", $"id{i}")); // the lost tail's upserts: gone from the standby too
        }
    }
}

using OxiVec.Replication;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Replication;

public sealed class StandbyMetricsTests
{
    [Fact]
    public async Task WalMetrics_OfAStandbyThatStartedFromABaseBackup_AreReadable_AndItsRecordsCountAsUncoveredUntilACheckpoint()
    {
        await using var h = new ReplicationHarness();
        StreamingTests.Seed(h.Primary, 0, 20);
        h.Primary.Checkpoint();
        StreamingTests.Seed(h.Primary, 20, 1);

        StandbyReceiver standby = await h.StartStandbyAsync("a");
        Assert.Equal(1, standby.BaseBackups);
        StreamingTests.Seed(h.Primary, 21, 5);
        await h.CaughtUpAsync(standby);

        WalMetrics metrics = standby.Database.GetWalMetrics();
        Assert.Equal(h.Primary.Wal.LastLsn, metrics.LastLsn);
        Assert.NotNull(metrics.OldestUncoveredRecordAge); // the streamed records came after the backup's checkpoint
    }
}

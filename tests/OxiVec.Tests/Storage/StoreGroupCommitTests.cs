using OxiVec.Storage;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>Concurrent writers share fsyncs, shown by holding one fsync open rather than by racing the disk.</summary>
public sealed class StoreGroupCommitTests
{
    private static readonly VectorDatabaseOptions Options = new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = WalConfig.MinSegmentSizeBytes, MaxWalSize = 1L << 30, CheckpointInterval = 1_000_000 },
    };

    [Fact]
    public async Task Inserts_ArrivingDuringAnFsync_AreAcknowledgedByTheNextOne()
    {
        using var temp = new TempDirectory();
        var disk = new SimulatedDisk();
        using var db = VectorDatabase.Open(temp.Path, Options, disk);
        db.CreateCollection("docs", new CollectionOptions(2));
        long before = db.GetWalMetrics().LastLsn;
        using var leaderInFsync = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int syncs = 0;
        disk.OnSync = name =>
        {
            // Only the segment's fsyncs: the control file's (on a timer, armed by the collection's creation) must
            // neither be held nor counted.
            if (name.EndsWith(WalSegmentName.Suffix, StringComparison.Ordinal) && Interlocked.Increment(ref syncs) == 1)
            {
                leaderInFsync.Set();
                release.Wait();
            }
        };

        Task leader = Task.Run(() => db.Insert("docs", "a0", new float[] { 1, 0 }));
        Assert.True(leaderInFsync.Wait(TimeSpan.FromSeconds(60)), "the first insert never reached its fsync");
        Task[] followers = [.. Enumerable.Range(1, 8).Select(i => Task.Run(() => db.InsertAsync("docs", $"a{i}", new float[] { 1, i }).AsTask()))];
        Assert.True(
            SpinWait.SpinUntil(() => db.GetWalMetrics().LastLsn == before + 9, TimeSpan.FromSeconds(60)),
            "the followers were not logged while the first fsync ran");
        Assert.All(followers, f => Assert.False(f.IsCompleted, "acknowledged before an fsync covered it"));
        release.Set();
        await Task.WhenAll([leader, .. followers]);

        Assert.Equal(2, syncs); // the leader's, then one for all eight followers
        WalMetrics metrics = db.GetWalMetrics();
        Assert.Equal(1, metrics.CommitsPerSyncHistogram.Single(b => b.MinCommits <= 8 && 8 <= b.MaxCommits).Syncs);
        Assert.Equal(9, db.Count("docs"));
    }
}

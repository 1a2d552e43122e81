using OxiVec.Replication;
using OxiVec.Storage;

namespace OxiVec.Tests.Replication;

/// <summary>Two failovers in a row: the epoch history travels with replication, so the third primary still knows the first branch point.</summary>
public sealed class FailoverChainTests
{
    private static VectorDatabaseOptions Options => ReplicationHarness.Options();

    [Fact]
    public async Task TwoSuccessiveFailovers_TheFirstPrimaryDivergedAtTheFirstBranchPoint_IsRewound_NotGivenABaseBackup()
    {
        using var temp = new TempDirectory();
        using var stop = new CancellationTokenSource();
        var links = new FailoverLinks(stop.Token);
        string aDir = temp.Sub("a"), bDir = temp.Sub("b"), cDir = temp.Sub("c");
        VectorDatabase a = VectorDatabase.Open(aDir, Options);
        WalReplicator current = new(a, new ReplicationOptions(), epoch: 1);
        StandbyReceiver b = await links.StartStandbyAsync(bDir, "b", () => current);
        StandbyReceiver c = await links.StartStandbyAsync(cDir, "c", () => current);
        StandbyReceiver? rejoined = null;
        VectorDatabase? second = null, third = null;
        try
        {
            StreamingTests.Seed(a, 0, 20);
            long firstBranch = a.Wal.LastLsn;
            await FailoverLinks.CaughtUpAsync(b, firstBranch);
            await FailoverLinks.CaughtUpAsync(c, firstBranch);
            await b.DisposeAsync();
            await c.DisposeAsync();
            StreamingTests.Seed(a, 20, 8); // a's divergent tail, acknowledged by a alone (asynchronous)
            long aLast = a.Wal.LastLsn;
            await current.DisposeAsync(); // the first primary dies
            a.Dispose();

            // First failover: b leads at epoch 2; c follows it and takes its history.
            StandbyPromotion.Promote(bDir, 2);
            second = VectorDatabase.Open(bDir, Options);
            current = new WalReplicator(second, new ReplicationOptions(), epoch: 2);
            c = await links.StartStandbyAsync(cDir, "c", () => current);
            StreamingTests.Seed(second, 100, 10);
            long secondBranch = second.Wal.LastLsn;
            await FailoverLinks.CaughtUpAsync(c, secondBranch);
            Assert.Equal([new EpochHistoryEntry(2, firstBranch + 1)], ReplicationFiles.ReadHistory(cDir));
            Assert.Equal(2, EpochTimeline.Of(cDir, secondBranch)); // its last record is of epoch 2
            Assert.Equal(0, EpochTimeline.Of(cDir, firstBranch)); // the records before the branch are of the root timeline
            await c.DisposeAsync();
            await current.DisposeAsync(); // the second primary dies
            second.Dispose();
            second = null;

            // Second failover: c leads at epoch 3, its history holding both branch points.
            StandbyPromotion.Promote(cDir, 3);
            Assert.Equal([new EpochHistoryEntry(2, firstBranch + 1), new EpochHistoryEntry(3, secondBranch + 1)], ReplicationFiles.ReadHistory(cDir));
            third = VectorDatabase.Open(cDir, Options);
            current = new WalReplicator(third, new ReplicationOptions(), epoch: 3);
            StreamingTests.Seed(third, 200, 5);

            // The first primary comes back: diverged at the first branch point, it is rewound there and catches up.
            StandbyPromotion.Demote(aDir);
            rejoined = await links.StartStandbyAsync(aDir, "a", () => current);
            await FailoverLinks.CaughtUpAsync(rejoined, third.Wal.LastLsn);
            Assert.Equal(0, rejoined.BaseBackups);
            Assert.Equal(1, rejoined.Status.Rewinds);
            Assert.Equal(aLast - firstBranch, rejoined.Status.RecordsQuarantined);
            Assert.True(File.Exists(Path.Combine(aDir, "quarantine", $"rewind-2-{firstBranch}", "manifest.json")));
            Assert.Equal(ReplicationHarness.Export(third), ReplicationHarness.Export(rejoined.Database));
        }
        finally
        {
            await stop.CancelAsync();
            if (rejoined is not null)
            {
                await rejoined.DisposeAsync();
            }

            await current.DisposeAsync();
            second?.Dispose();
            third?.Dispose();
        }
    }
}

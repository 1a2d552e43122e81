using OxiVec.Replication;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Replication;

public sealed class SlotTests
{
    private static VectorDatabaseOptions SmallSegments() => ReplicationHarness.Options(segmentBytes: 64 << 10) is var o
        ? o with { Wal = o.Wal with { RetentionPolicy = RetentionPolicy.KeepLast(1) } }
        : throw new InvalidOperationException();

    /// <summary>Waits (bounded) until the primary has processed the standby's progress through <paramref name="lsn"/>.</summary>
    internal static void WaitForPrimaryToSee(ReplicationHarness h, string name, long lsn) =>
        Assert.True(SpinWait.SpinUntil(
            () => h.Replicator.GetStatus().Standbys.Any(s => s.Name == name && s.FlushedLsn >= lsn && !s.Connected), ReplicationHarness.Timeout),
            $"the primary saw standby '{name}' flush LSN {lsn} and disconnect");

    [Fact]
    public async Task Slot_KeepsTheWalAStoppedStandbyNeeds_AcrossCheckpoints_SoItResumesWithoutABaseBackup()
    {
        await using var h = new ReplicationHarness(primaryOptions: SmallSegments());
        StreamingTests.Seed(h.Primary, 0, 10);
        StandbyReceiver standby = await h.StartStandbyAsync("a");
        await h.CaughtUpAsync(standby);
        long stoppedAt = standby.Database.Wal.LastLsn;
        await h.StopStandbyAsync(standby);
        WaitForPrimaryToSee(h, "a", stoppedAt);

        StreamingTests.Seed(h.Primary, 10, 2_000); // about 30 segments
        h.Primary.Checkpoint();
        h.Primary.Checkpoint();
        Assert.True(h.Primary.Wal.FirstLsn <= stoppedAt + 1, $"the slot kept LSN {stoppedAt + 1} (the WAL starts at {h.Primary.Wal.FirstLsn})");
        Assert.Equal(stoppedAt + 1, h.Replicator.GetStatus().Standbys.Single().SlotRetainFromLsn);
        Assert.True(h.Replicator.GetStatus().Standbys.Single().LagBytes > 64 << 10);

        StandbyReceiver again = await h.StartStandbyAsync("a");
        await h.CaughtUpAsync(again);
        Assert.Equal(0, again.BaseBackups);
        Assert.Equal(ReplicationHarness.Export(h.Primary), ReplicationHarness.Export(again.Database));

        // The standby caught up on its side; the primary learns it from the standby's next report.
        Assert.True(
            SpinWait.SpinUntil(() => h.Replicator.GetStatus().Standbys.Single().LagBytes == 0, ReplicationHarness.Timeout),
            $"the primary still reports lag {h.Replicator.GetStatus().Standbys.Single().LagBytes} bytes for the caught-up standby");
    }

    [Fact]
    public async Task Slot_IsPersisted_AReplicatorOpenedAfterARestartKeepsItsWal()
    {
        await using var h = new ReplicationHarness(primaryOptions: SmallSegments());
        StreamingTests.Seed(h.Primary, 0, 10);
        StandbyReceiver standby = await h.StartStandbyAsync("a");
        await h.CaughtUpAsync(standby);
        long stoppedAt = standby.Database.Wal.LastLsn;
        await h.StopStandbyAsync(standby);
        WaitForPrimaryToSee(h, "a", stoppedAt);

        h.Primary.Checkpoint(); // retention asks the slots for their floor, and they are saved
        IReadOnlyList<Slot> slots = ReplicationFiles.ReadSlots(h.Primary.DataDirectory);
        Assert.Equal([new Slot("a", stoppedAt + 1)], slots);
        Assert.Equal(stoppedAt, ReplicationFiles.SlotsRetainFrom(h.Primary.DataDirectory));
    }

    [Fact]
    public async Task Slot_OverTheCap_IsInvalidated_TheStandbyTakesABaseBackupAndCatchesUp()
    {
        await using var h = new ReplicationHarness(new ReplicationOptions { MaxSlotWalKeepBytes = 128 << 10 }, SmallSegments());
        StreamingTests.Seed(h.Primary, 0, 10);
        StandbyReceiver standby = await h.StartStandbyAsync("a");
        await h.CaughtUpAsync(standby);
        long stoppedAt = standby.Database.Wal.LastLsn;
        await h.StopStandbyAsync(standby);
        WaitForPrimaryToSee(h, "a", stoppedAt);

        StreamingTests.Seed(h.Primary, 10, 2_000);
        h.Primary.Checkpoint();
        Assert.Equal(1, h.Replicator.SlotsInvalidated);
        Assert.True(h.Primary.Wal.FirstLsn > stoppedAt + 1, "the invalidated slot no longer keeps the WAL");
        Assert.Equal(0, h.Replicator.GetStatus().Standbys.Single().SlotRetainFromLsn);

        StandbyReceiver again = await h.StartStandbyAsync("a");
        await h.CaughtUpAsync(again);
        Assert.Equal(1, again.BaseBackups);
        Assert.Equal(ReplicationHarness.Export(h.Primary), ReplicationHarness.Export(again.Database));
        Assert.DoesNotContain(Directory.EnumerateDirectories(Path.GetDirectoryName(h.StandbyDirectory("a"))!), d => Path.GetFileName(d).StartsWith("standby-a.", StringComparison.Ordinal)); // no temporary or moved-aside directory is left
    }

    [Fact]
    public async Task BaseBackup_StreamsTheNewestCheckpointPinned_RetentionKeepsItWhileStreamed()
    {
        await using var h = new ReplicationHarness(primaryOptions: SmallSegments());
        StreamingTests.Seed(h.Primary, 0, 100);
        CheckpointInfo first = h.Primary.Checkpoint();
        var manifests = new List<BaseBackupManifest>();
        bool checkedDuringStream = false;
        await h.Replicator.ServeBaseBackupAsync(
            (m, _) => { manifests.Add(m); return ValueTask.CompletedTask; },
            (chunk, _) =>
            {
                if (!checkedDuringStream)
                {
                    checkedDuringStream = true;
                    StreamingTests.Seed(h.Primary, 100, 10);
                    h.Primary.Checkpoint(); // KeepLast(1) would delete the streamed checkpoint, but it is pinned
                    Assert.True(Directory.Exists(first.Path));
                }

                Assert.True(chunk.Data.Length <= WalReplicator.MaxBaseBackupChunkBytes);
                return ValueTask.CompletedTask;
            },
            CancellationToken.None).WaitAsync(ReplicationHarness.Timeout);
        Assert.True(checkedDuringStream);
        Assert.Equal(first.CoveredLsn, manifests.Single().CoveredLsn);
        h.Primary.Checkpoint();
        Assert.False(Directory.Exists(first.Path), "unpinned, retention deletes it");
    }
}

public sealed class OfflineCleanupSlotTests
{
    [Fact]
    public void OfflineWalCleanup_KeepsWhatAPersistedSlotKeeps()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("p");
        OxiVec.Storage.VectorDatabaseOptions options = ReplicationHarness.Options(segmentBytes: 64 << 10);
        using (var db = OxiVec.Storage.VectorDatabase.Open(data, options with { Wal = options.Wal with { RetentionPolicy = RetentionPolicy.KeepAll } }))
        {
            StreamingTests.Seed(db, 0, 2_000);
            db.Checkpoint();
        }

        ReplicationFiles.WriteSlots(data, [new Slot("a", 1501)]);
        OxiVec.Storage.DatabaseMaintenance.CleanupOldWalFiles(data, olderThanDays: 0);
        using OxiVec.Storage.VectorDatabase reopened = OxiVec.Storage.VectorDatabase.Open(data, options);
        Assert.True(reopened.Wal.FirstLsn <= 1500, $"the WAL starts at {reopened.Wal.FirstLsn}; the slot keeps LSN 1500 (its standby's last) onwards");
        Assert.True(reopened.Wal.FirstLsn > 1, "segments before the slot's floor went");
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Storage;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>
/// Retention deletes segments oldest first with a directory fsync after each, so a power loss leaves a suffix of the
/// log; and opening accepts a hole that lies wholly below the newest checkpoint (left by an older, unordered deletion).
/// </summary>
public sealed class WalRetentionOrderTests
{
    [Fact]
    public void Retention_DeletesOldestFirst_FsyncingTheDirectoryAfterEachDeletion()
    {
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory));
        for (int n = 1; wal.GetMetrics().SegmentCount < 4; n++)
        {
            wal.Append(InsertFor(n, 64));
        }

        List<string> segments = WalSegmentRaceTests.SegmentNames(disk);
        disk.DirectoryLog.Clear();

        Assert.Equal(3, wal.RemoveSegmentsThrough(wal.LastLsn));

        Assert.Equal(
            [$"delete {segments[0]}", "syncdir", $"delete {segments[1]}", "syncdir", $"delete {segments[2]}", "syncdir"],
            disk.DirectoryLog);
    }

    [Fact]
    public void Open_AHoleWhollyBelowTheCheckpoint_DeletesTheSegmentsBeforeItAndOpens()
    {
        (SimulatedDisk disk, List<string> segments, long last) = WalWithAHole();
        long holeEnd = WalSegmentRaceTests.FirstLsnOf(segments[2]) - 1;

        using var wal = WalManager.Open(disk, Config(disk.Directory), NullLogger.Instance, coveredLsn: holeEnd);

        Assert.DoesNotContain(segments[0], WalSegmentRaceTests.SegmentNames(disk));
        Assert.Equal(holeEnd + 1, wal.FirstLsn);
        Assert.Equal(Enumerable.Range((int)holeEnd + 1, (int)(last - holeEnd)).Select(n => (long)n), wal.ReadRecords().Select(r => r.Lsn));
    }

    [Fact]
    public void Open_AHoleAboveTheCheckpointOrWithoutOne_IsCorruption()
    {
        (SimulatedDisk disk, List<string> segments, _) = WalWithAHole();
        long holeEnd = WalSegmentRaceTests.FirstLsnOf(segments[2]) - 1;

        Assert.Throws<WalCorruptionException>(() => WalManager.Open(disk, Config(disk.Directory)));
        Assert.Throws<WalCorruptionException>(() => WalManager.Open(disk, Config(disk.Directory), NullLogger.Instance, coveredLsn: holeEnd - 1));
        Assert.Contains(segments[0], WalSegmentRaceTests.SegmentNames(disk));
    }

    [Fact]
    public void Database_ReopenAfterAnUnorderedRetentionLeftAHoleBelowItsCheckpoint_OpensWithEverything()
    {
        using var temp = new TempDirectory();
        var options = new VectorDatabaseOptions
        {
            Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 64 << 10, MaxWalSize = 64 << 20, RetentionPolicy = RetentionPolicy.KeepAll, CheckpointInterval = 1_000_000 },
        };
        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            db.CreateCollection("docs", new CollectionOptions(8));
            for (int i = 0; i < 2000; i++)
            {
                db.Insert("docs", $"v{i}", new float[] { i, 1, 1, 1, 1, 1, 1, 1 });
            }

            db.Checkpoint();
            db.Insert("docs", "after", new float[] { 1, 1, 1, 1, 1, 1, 1, 1 });
        }

        string walDir = Path.Combine(temp.Path, "wal");
        string[] segments = [.. Directory.GetFiles(walDir, "*.wal").Order(StringComparer.Ordinal)];
        Assert.True(segments.Length >= 3, $"{segments.Length} segments");
        File.Delete(segments[1]); // a power loss kept the second deletion of a retention but not the first

        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            Assert.Equal(2001, db.Count("docs"));
        }

        Assert.False(File.Exists(segments[0]));
    }

    /// <summary>A WAL of 4+ segments whose second segment is missing; returns the disk, the segment names before the deletion, and the last LSN.</summary>
    private static (SimulatedDisk Disk, List<string> Segments, long Last) WalWithAHole()
    {
        var disk = new SimulatedDisk();
        long last = 0;
        using (var wal = WalManager.Open(disk, Config(disk.Directory)))
        {
            for (int n = 1; wal.GetMetrics().SegmentCount < 4; n++)
            {
                last = wal.Append(InsertFor(n, 64));
            }
        }

        List<string> segments = WalSegmentRaceTests.SegmentNames(disk);
        disk.Delete(segments[1]);
        disk.SyncDirectory();
        return (disk, segments, last);
    }
}

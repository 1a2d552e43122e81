using OxiVec.Recovery;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Recovery;

/// <summary>Point-in-time recovery never leaves a half-built target, and never writes into the source.</summary>
public sealed class PointInTimeTargetTests
{
    private static VectorDatabaseOptions Options(long segmentSize = 64 << 10) => new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = segmentSize, RetentionPolicy = RetentionPolicy.KeepAll, CheckpointInterval = 1_000_000 },
    };

    [Fact]
    public void FailureHalfwayThroughTheRebuild_LeavesNoTargetAndNoTemporaryDirectory()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        using (var db = VectorDatabase.Open(data, Options(segmentSize: 1 << 20)))
        {
            db.CreateCollection("small", new CollectionOptions(4));
            db.Insert("small", "a", new float[] { 1, 2, 3, 4 });
            db.CreateCollection("big", new CollectionOptions(40_000) { Index = IndexKind.Flat });
            db.Insert("big", "b", Enumerable.Range(1, 40_000).Select(i => (float)i).ToArray()); // 160 KB: fits in 1 MiB segments
        }

        // The target's 64 KiB segments cannot hold the big record: the rebuild fails after the collections were created.
        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = data });
        string target = temp.Sub("pitr");
        Assert.ThrowsAny<Exception>(() => manager.RecoverToPointInTime(RecoveryTarget.ToLsn(4), target, Options()).Dispose());
        Assert.False(Directory.Exists(target), "a half-built target would open as if it were complete");
        Assert.Equal(["data"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void SuccessfulRebuild_AppearsWholeUnderTheTargetName()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        using (var db = VectorDatabase.Open(data, Options()))
        {
            db.CreateCollection("docs", new CollectionOptions(4));
            for (int i = 0; i < 20; i++)
            {
                db.Insert("docs", $"v{i}", new float[] { i + 1, 1, 1, 1 });
            }
        }

        string target = temp.Sub("pitr");
        Directory.CreateDirectory(target); // an empty target is accepted
        using (VectorDatabase asOf = new CrashRecoveryManager(new RecoveryConfig { DataDir = data }).RecoverToPointInTime(RecoveryTarget.ToLsn(11), target))
        {
            Assert.Equal(10, asOf.Count("docs"));
            Assert.Equal(target, asOf.DataDirectory);
        }

        Assert.Equal(["data", "pitr"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var reopened = VectorDatabase.Open(target, Options());
        Assert.Equal(10, reopened.Count("docs"));
    }

    [Theory]
    [InlineData("", "is the source's data directory")]
    [InlineData("restored", "is inside the source's data directory")]
    [InlineData("wal/restored", "is inside the source's data directory")]
    [InlineData("checkpoints/restored", "is inside the source's data directory")]
    public void TargetThatIsOrIsInsideTheSource_IsRefusedAndNothingIsWritten(string under, string says)
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        using (var db = VectorDatabase.Open(data, Options()))
        {
            db.CreateCollection("docs", new CollectionOptions(4));
            db.Insert("docs", "a", new float[] { 1, 2, 3, 4 });
            db.Checkpoint();
        }

        string[] before = [.. Directory.GetFileSystemEntries(data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
        string target = under.Length == 0 ? data : Path.Combine(data, under);
        var ex = Assert.Throws<ArgumentException>(() => new CrashRecoveryManager(new RecoveryConfig { DataDir = data }).RecoverToPointInTime(RecoveryTarget.ToLsn(2), target));
        Assert.Contains(says, ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFileSystemEntries(data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TargetContainingTheSourcesWalDirectory_IsRefused()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        string wal = Path.Combine(temp.Sub("outer"), "wal");
        using (var db = VectorDatabase.Open(data, Options() with { WalDirectory = wal }))
        {
            db.CreateCollection("docs", new CollectionOptions(4));
        }

        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = data, WalDir = wal });
        var ex = Assert.Throws<ArgumentException>(() => manager.RecoverToPointInTime(RecoveryTarget.ToLsn(1), temp.Sub("outer")));
        Assert.Contains("contains the source's WAL directory", ex.Message, StringComparison.Ordinal);
    }
}

using OxiVec.Recovery;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Recovery;

/// <summary>MaxRecoveryTimeMs holds in every phase: checkpoint load, index rebuild, short tails, point-in-time recovery.</summary>
public sealed class RecoveryDeadlineTests
{
    private static VectorDatabaseOptions Options(TimeProvider? clock = null, int maxMs = 0) => new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 64 << 10, RetentionPolicy = RetentionPolicy.KeepAll, CheckpointInterval = 1_000_000 },
        TimeProvider = clock,
        MaxRecoveryTimeMs = maxMs,
    };

    private static void Build(string dir, bool checkpoint, int tail)
    {
        using var db = VectorDatabase.Open(dir, Options());
        db.CreateCollection("docs", new CollectionOptions(4) { Index = IndexKind.Flat });
        for (int i = 0; i < 300; i++)
        {
            db.Insert("docs", $"v{i}", new float[] { i + 1, 1, 1, 1 });
        }

        if (checkpoint)
        {
            db.Checkpoint();
        }

        for (int i = 0; i < tail; i++)
        {
            db.Insert("docs", $"t{i}", new float[] { i + 1, 2, 2, 2 });
        }
    }

    [Theory]
    [InlineData(true, 0, "while loading checkpoint '")]
    [InlineData(false, 10, "while replaying the WAL")]
    public void DeadlinePassedBeforeTheFirstThousandRecords_ThrowsRecoveryTimeoutNamingThePhase(bool checkpoint, int tail, string phase)
    {
        using var temp = new TempDirectory();
        Build(temp.Path, checkpoint, tail);

        var ex = Assert.Throws<RecoveryTimeoutException>(() => VectorDatabase.Open(temp.Path, Options(new SteppingClock(TimeSpan.FromSeconds(1)), maxMs: 1_000)));
        Assert.Contains("MaxRecoveryTimeMs = 1000", ex.Message, StringComparison.Ordinal);
        Assert.Contains(phase, ex.Message, StringComparison.Ordinal);
        Assert.Contains(temp.Path, ex.Message, StringComparison.Ordinal);

        using var db = VectorDatabase.Open(temp.Path, Options());
        Assert.Equal(300 + tail, db.Count("docs"));
    }

    [Fact]
    public void PointInTimeRecovery_DeadlinePassed_ThrowsAndCreatesNoTarget()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        Build(data, checkpoint: true, tail: 10);
        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = data, MaxRecoveryTimeMs = 1_000 }, Options(new SteppingClock(TimeSpan.FromSeconds(1))));

        var ex = Assert.Throws<RecoveryTimeoutException>(() => manager.RecoverToPointInTime(RecoveryTarget.ToLsn(305), temp.Sub("pitr")));
        Assert.Contains("MaxRecoveryTimeMs = 1000", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Point-in-time recovery", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Sub("pitr")));
        Assert.Equal(["data"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName));
    }
}

/// <summary>A clock whose timestamp moves on by <paramref name="step"/> every time it is read: any deadline passes at its first check.</summary>
internal sealed class SteppingClock(TimeSpan step) : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Add(ref _ticks, step.Ticks);
}

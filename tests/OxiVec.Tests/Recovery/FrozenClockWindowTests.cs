using System.Globalization;
using OxiVec.Recovery;
using OxiVec.Storage;
using OxiVec.Tests.Fakes;
using WallClock = OxiVec.Tests.Wal.SteppingClock;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Recovery;

/// <summary>A clock step back freezes record timestamps; recovery by time says when its target falls in that window.</summary>
public sealed class FrozenClockWindowTests
{
    private static readonly DateTimeOffset Ten = At("2026-06-01T10:00:00Z");

    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    private static VectorDatabaseOptions Options(TimeProvider? clock = null) => new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 64 << 10, RetentionPolicy = RetentionPolicy.KeepAll, CheckpointInterval = 1_000_000 },
        TimeProvider = clock,
    };

    private static float[] V(int i) => [i, 1, 2, 3];

    /// <summary>
    /// 10:00 "before"; the wall clock blips an hour ahead ("blip" stamped 11:01), is corrected back, and "frozen1"
    /// (wall 10:02) and "frozen2" (wall 10:32) are both stamped 11:01; at wall 11:12 "after" is stamped normally.
    /// </summary>
    private static string WriteThroughABlip(TempDirectory temp)
    {
        string data = temp.Sub("data");
        var clock = new WallClock(Ten);
        using var db = VectorDatabase.Open(data, Options(clock));
        db.CreateCollection("docs", new CollectionOptions(4));
        db.Insert("docs", "before", V(1));
        clock.StepWall(TimeSpan.FromHours(1));
        clock.Advance(TimeSpan.FromMinutes(1));
        db.Insert("docs", "blip", V(2));
        clock.StepWall(TimeSpan.FromHours(-1));
        clock.Advance(TimeSpan.FromMinutes(1));
        db.Insert("docs", "frozen1", V(3));
        clock.Advance(TimeSpan.FromMinutes(30));
        db.Insert("docs", "frozen2", V(4));
        clock.Advance(TimeSpan.FromMinutes(40));
        db.Insert("docs", "after", V(5));
        return data;
    }

    [Fact]
    public void PointInTimeByTime_TargetInsideTheFrozenWindow_ReportsTheWindow_AndRestoresAsBefore()
    {
        using var temp = new TempDirectory();
        string data = WriteThroughABlip(temp);
        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = data });
        List<WalEntry> entries = [.. manager.ReadAllEntries()];
        long stepLsn = entries.OfType<WalEntry.Custom>().Single(c => c.Operation == WalClockStep.Operation).Lsn;
        long frozen2Lsn = entries.OfType<WalEntry.Insert>().Single(i => i.Id == "frozen2").Lsn;

        using VectorDatabase asOf = manager.RecoverToPointInTime(RecoveryTarget.ToTime(At("2026-06-01T10:30:00Z")), temp.Sub("pitr"));

        FrozenClockWindow window = Assert.Single(manager.GetRecoveryStats().FrozenClockWindows);
        Assert.Equal(new FrozenClockWindow(stepLsn, frozen2Lsn, At("2026-06-01T11:01:00Z"), At("2026-06-01T10:02:00Z")), window);
        Assert.Equal(["before"], asOf.Export("docs").Select(r => r.Id)); // which records are restored is unchanged
    }

    [Theory]
    [InlineData("2026-06-01T10:01:00Z", new[] { "before" })]                                   // before the wall clock read at the step
    [InlineData("2026-06-01T11:01:00Z", new[] { "before", "blip", "frozen1", "frozen2" })]    // at the frozen timestamp: the whole window is before it
    [InlineData("2026-06-01T11:05:00Z", new[] { "before", "blip", "frozen1", "frozen2" })]    // after it, before "after" (11:12)
    public void PointInTimeByTime_TargetOutsideTheFrozenWindow_ReportsNoWindow(string target, string[] restored)
    {
        using var temp = new TempDirectory();
        string data = WriteThroughABlip(temp);
        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = data });

        using VectorDatabase asOf = manager.RecoverToPointInTime(RecoveryTarget.ToTime(At(target)), temp.Sub("pitr"));

        Assert.Empty(manager.GetRecoveryStats().FrozenClockWindows);
        Assert.Equal(restored.Order(StringComparer.Ordinal), asOf.Export("docs").Select(r => r.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CrashRecovery_OfALogWithAClockStepRecord_SkipsTheMarkerAndRestoresEverything()
    {
        using var temp = new TempDirectory();
        string data = WriteThroughABlip(temp);

        using var db = new CrashRecoveryManager(new RecoveryConfig { DataDir = data }).Recover();

        Assert.Equal(5, db.Count("docs"));
    }

    [Fact]
    public void WalReopenedWithTheClockBehindItsNewestRecord_LogsOneClockStepRecordBeforeTheFirstAppend()
    {
        var disk = new SimulatedDisk();
        var clock = new WallClock(Ten);
        using (var wal = WalManager.Open(disk, Config(disk.Directory), timeProvider: clock))
        {
            wal.Append(InsertFor(1));
        }

        clock.StepWall(TimeSpan.FromHours(-1)); // stepped back while the process was down
        using (var wal = WalManager.Open(disk, Config(disk.Directory), timeProvider: clock))
        {
            clock.Advance(TimeSpan.FromSeconds(5));
            wal.Append(InsertFor(2));
            clock.Advance(TimeSpan.FromSeconds(5));
            wal.Append(InsertFor(3));

            List<WalRecord> records = [.. wal.ReadRecords()];
            Assert.Equal([WalRecordType.Insert, WalRecordType.Custom, WalRecordType.Insert, WalRecordType.Insert], records.Select(r => r.Type));
            WalClockStep step = Assert.IsType<WalClockStep>(WalClockStep.From(records[1]));
            Assert.Equal(WalRecord.ToMicros(Ten), step.FrozenMicros);
            Assert.Equal(WalRecord.ToMicros(Ten - TimeSpan.FromHours(1)), step.WallMicros); // read when the WAL was opened
            Assert.Equal(-(long)TimeSpan.FromHours(1).TotalMicroseconds, step.StepMicros);
        }
    }

    [Fact]
    public void WallClockStepsForward_TimestampsDoNotFreeze_SoNoClockStepRecordIsLogged()
    {
        var disk = new SimulatedDisk();
        var clock = new WallClock(Ten);
        using var wal = WalManager.Open(disk, Config(disk.Directory), timeProvider: clock);
        wal.Append(InsertFor(1));
        clock.StepWall(TimeSpan.FromHours(1));
        wal.Append(InsertFor(2));

        Assert.Equal(1, wal.GetMetrics().ClockSteps);
        Assert.All(wal.ReadRecords(), r => Assert.Equal(WalRecordType.Insert, r.Type));
    }
}

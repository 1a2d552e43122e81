using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>Wall-clock steps: detected and counted, and intervals measured on the monotonic clock.</summary>
public sealed class WalClockTests
{
    [Fact]
    public void WallClockStepsBack_TheStepIsCounted_AndTimestampsStayInOrder()
    {
        var clock = new SteppingClock(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory), timeProvider: clock);
        wal.Append(InsertFor(1));
        clock.Advance(TimeSpan.FromSeconds(10));
        wal.Append(InsertFor(2));
        Assert.Equal(0, wal.GetMetrics().ClockSteps);

        clock.StepWall(TimeSpan.FromHours(-1));
        clock.Advance(TimeSpan.FromSeconds(10));
        wal.Append(InsertFor(3));
        clock.Advance(TimeSpan.FromSeconds(10));
        wal.Append(InsertFor(4));

        Assert.Equal(1, wal.GetMetrics().ClockSteps);
        List<DateTimeOffset> stamps = [.. wal.ReadRecords().Select(r => r.Timestamp)];
        Assert.Equal(stamps.Order(), stamps);
        Assert.Equal(stamps[1], stamps[3]); // frozen at the newest timestamp until the wall clock catches up
    }

    [Fact]
    public void TimeBasedRotation_AfterTheWallClockStepsBack_StillRotatesOnTheMonotonicClock()
    {
        var clock = new SteppingClock(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var disk = new SimulatedDisk();
        WalConfig config = Config(disk.Directory) with { RotationPolicy = RotationPolicy.TimeBased(TimeSpan.FromMinutes(1)) };
        using var wal = WalManager.Open(disk, config, timeProvider: clock);
        wal.Append(InsertFor(1));

        clock.StepWall(TimeSpan.FromHours(-1));
        clock.Advance(TimeSpan.FromMinutes(2));
        wal.Append(InsertFor(2));

        Assert.Equal(2, wal.GetMetrics().SegmentCount);
    }

    [Fact]
    public void CompressionAge_AfterTheWallClockStepsBack_IsMeasuredOnTheMonotonicClock()
    {
        var clock = new SteppingClock(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory), timeProvider: clock);
        for (int n = 1; wal.GetMetrics().SegmentCount < 2; n++)
        {
            wal.Append(InsertFor(n, 64));
        }

        clock.StepWall(TimeSpan.FromHours(-2));
        clock.Advance(TimeSpan.FromHours(2)); // two hours have passed; the wall clock shows none

        Assert.Equal(1, wal.CompressSealedSegments(TimeSpan.FromHours(1)).Segments);
    }

    [Fact]
    public void LastCheckpointAge_CheckpointDatedAheadOfAClockThatSteppedBack_IsZeroNotNegative()
    {
        var clock = new SteppingClock(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory), timeProvider: clock);

        wal.NoteCheckpointWritten(clock.GetUtcNow() + TimeSpan.FromHours(1)); // written before the clock stepped back an hour

        Assert.Equal(TimeSpan.Zero, wal.GetMetrics().LastCheckpointAge);
    }
}

/// <summary>A clock whose wall time can step independently of its monotonic timestamp.</summary>
internal sealed class SteppingClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _wall = start;
    private long _ticks = 1;

    public override DateTimeOffset GetUtcNow() => _wall;

    public override long GetTimestamp() => _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Time passes: both clocks move.</summary>
    public void Advance(TimeSpan by)
    {
        _wall += by;
        _ticks += by.Ticks;
    }

    /// <summary>The wall clock is set (NTP step, an operator): only it moves.</summary>
    public void StepWall(TimeSpan by) => _wall += by;
}

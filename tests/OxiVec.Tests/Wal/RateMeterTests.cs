using OxiVec.Diagnostics;

namespace OxiVec.Tests.Wal;

public sealed class RateMeterTests
{
    [Fact]
    public void PerSecond_YoungMeter_DividesByItsAge()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        clock.Advance(TimeSpan.FromSeconds(100));
        var meter = new RateMeter(clock);
        clock.Advance(TimeSpan.FromSeconds(0.5));
        meter.Add(50);
        Assert.Equal(100, meter.PerSecond(), 3);
    }

    [Fact]
    public void PerSecond_OldEventsLeaveTheWindow()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var meter = new RateMeter(clock);
        meter.Add(1000);
        clock.Advance(TimeSpan.FromSeconds(30));
        for (int i = 0; i < 10; i++)
        {
            meter.Add(20);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        // The last ten seconds held 9 × 20 events (the tenth second's 20 fell out as the clock moved past it).
        Assert.Equal(180 / 9.0, meter.PerSecond(), 3);
    }
}

using OxiVec.Hosting.Cluster;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>The primary's write fence on a manual monotonic clock.</summary>
public sealed class LeaseFenceTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Now { get; set; } = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Now;

        public void Advance(TimeSpan by) => Now += by.Ticks;
    }

    [Fact]
    public void Fence_IsClosedUntilTheFirstGrant_ThenOpenUntilSentPlusTtlMinusTheMargin()
    {
        var clock = new ManualClock();
        var fence = new LeaseFence(clock);
        Assert.NotNull(fence.Check());

        long sent = clock.Now;
        clock.Advance(TimeSpan.FromMilliseconds(400)); // the grant arrives 0.4 s after the request left
        fence.Renewed(sent, TimeSpan.FromSeconds(6)); // margin max(1 s, 2 s) = 2 s: open until sent + 4 s
        Assert.Null(fence.Check());
        clock.Now = sent + TimeSpan.FromSeconds(4).Ticks - 1;
        Assert.Null(fence.Check());
        clock.Now = sent + TimeSpan.FromSeconds(4).Ticks;
        Assert.Contains("may no longer be the primary", fence.Check(), StringComparison.Ordinal);
    }

    [Fact]
    public void Fence_WhenRenewalsStopSucceeding_RefusesFromTheLastSuccessfulSendPlusTtlMinusMargin_AndReopensOnTheNextGrant()
    {
        var clock = new ManualClock();
        var fence = new LeaseFence(clock);
        fence.Renewed(clock.Now, TimeSpan.FromSeconds(2)); // margin 1 s: open for 1 s
        clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Null(fence.Check());
        clock.Advance(TimeSpan.FromMilliseconds(1)); // no renewal got through meanwhile
        Assert.NotNull(fence.Check());
        fence.Renewed(clock.Now, TimeSpan.FromSeconds(2)); // the coordinator answers again, the lease still held
        Assert.Null(fence.Check());
    }

    [Fact]
    public void Fence_AnOlderGrantArrivingLate_NeverMovesTheDeadlineBack()
    {
        var clock = new ManualClock();
        var fence = new LeaseFence(clock);
        long early = clock.Now;
        clock.Advance(TimeSpan.FromSeconds(1));
        fence.Renewed(clock.Now, TimeSpan.FromSeconds(3)); // open until now + 2 s
        fence.Renewed(early, TimeSpan.FromSeconds(3)); // a slow answer to an earlier request
        clock.Advance(TimeSpan.FromMilliseconds(1500));
        Assert.Null(fence.Check());
    }

    [Fact]
    public void Fence_Revoked_StaysClosedWhateverGrantFollows_AndAHoldLastsUntilReleased()
    {
        var clock = new ManualClock();
        var revoked = new LeaseFence(clock);
        revoked.Renewed(clock.Now, TimeSpan.FromSeconds(30));
        revoked.Revoke("the lease is no longer held");
        revoked.Renewed(clock.Now, TimeSpan.FromSeconds(30));
        Assert.Equal("the lease is no longer held", revoked.Check());

        var held = new LeaseFence(clock);
        held.Renewed(clock.Now, TimeSpan.FromSeconds(30));
        held.Hold("a switchover is in progress");
        Assert.Equal("a switchover is in progress", held.Check());
        held.Release();
        Assert.Null(held.Check());
    }

    [Theory]
    [InlineData(2, 1000)]
    [InlineData(5, 1666)]
    [InlineData(30, 10_000)]
    public void Margin_IsTheLargerOfOneSecondAndAThirdOfTheTtl(int ttlSeconds, int marginMs) =>
        Assert.Equal(marginMs, (int)LeaseFence.Margin(TimeSpan.FromSeconds(ttlSeconds)).TotalMilliseconds);
}

using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>The health check judges the recent window, compares the entry rate with its baseline, and leaves idle databases alone.</summary>
public sealed class WalHealthTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-05-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(200, WalHealthStatus.Critical)]
    [InlineData(60, WalHealthStatus.Warning)]
    public void Health_DaysOfFastFsyncsThenSlowOnes_TurnsAtOnce(double slowMs, WalHealthStatus expected)
    {
        var clock = new ManualClock(Start);
        using var instrumentation = new WalInstrumentation(NullLogger.Instance, clock, null, "wal");
        for (int minute = 0; minute < 3 * 24 * 60; minute += 10)
        {
            for (int i = 0; i < 100; i++)
            {
                instrumentation.Synced(TimeSpan.FromMilliseconds(0.2));
            }

            clock.Advance(TimeSpan.FromMinutes(10));
        }

        for (int i = 0; i < 20; i++)
        {
            instrumentation.Synced(TimeSpan.FromMilliseconds(slowMs));
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        WalHealthReport report = Check(instrumentation);
        Assert.Equal(expected, report.Status);
        Assert.Contains(report.Findings, f => f.Contains("sync latency", StringComparison.Ordinal));
        Assert.Equal(20, report.Metrics.SyncSamples);
        Assert.Equal(slowMs, report.Metrics.AvgSyncLatencyMs, 6);
        Assert.True(report.Metrics.LifetimeAvgSyncLatencyMs < 1, "the lifetime average barely moves: it is kept as its own figure");
        Assert.Equal(43_220, report.Metrics.SyncCount);
    }

    [Fact]
    public void Health_SlowFsyncsOlderThanAMinute_NoLongerCount()
    {
        var clock = new ManualClock(Start);
        using var instrumentation = new WalInstrumentation(NullLogger.Instance, clock, null, "wal");
        instrumentation.Synced(TimeSpan.FromMilliseconds(500));
        instrumentation.Committed(TimeSpan.FromMilliseconds(500));
        clock.Advance(TimeSpan.FromSeconds(61));
        instrumentation.Synced(TimeSpan.FromMilliseconds(1));
        instrumentation.Committed(TimeSpan.FromMilliseconds(1));

        WalHealthReport report = Check(instrumentation);
        Assert.Empty(report.Findings);
        Assert.Equal(1, report.Metrics.SyncSamples);
        Assert.Equal(250.5, report.Metrics.LifetimeAvgSyncLatencyMs, 6);
    }

    [Fact]
    public void Health_FreshProcess_SaysItsLatenciesHaveNoSamples()
    {
        var clock = new ManualClock(Start);
        using var instrumentation = new WalInstrumentation(NullLogger.Instance, clock, null, "wal");
        WalHealthReport report = Check(instrumentation);

        Assert.Equal(WalHealthStatus.Healthy, report.Status);
        Assert.Equal((0, 0), (report.Metrics.SyncSamples, report.Metrics.WriteSamples));
        Assert.Contains(report.NotJudged, n => n.StartsWith("sync latency: no samples", StringComparison.Ordinal));
        Assert.Contains(report.NotJudged, n => n.StartsWith("write latency: no samples", StringComparison.Ordinal));
        Assert.Contains(report.NotJudged, n => n.StartsWith("entries per second: the baseline covers 0.0 minutes", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(100, null)]
    [InlineData(140, null)]
    [InlineData(40, WalHealthStatus.Warning)]
    [InlineData(170, WalHealthStatus.Warning)]
    [InlineData(0, WalHealthStatus.Warning)]
    public void Health_EntryRateAgainstAnHoursBaseline_WarnsOutsideFiftyPercent(int recentPerSecond, WalHealthStatus? expected)
    {
        var clock = new ManualClock(Start);
        using var instrumentation = new WalInstrumentation(NullLogger.Instance, clock, null, "wal");
        Append(instrumentation, clock, seconds: 40 * 60, perSecond: 100);
        Append(instrumentation, clock, seconds: 60, perSecond: recentPerSecond);

        WalHealthReport report = Check(instrumentation);
        Assert.Equal(recentPerSecond, report.Metrics.RecentEntriesPerSec, 0);
        Assert.InRange(report.Metrics.BaselineEntriesPerSec, 95, 105);
        Assert.DoesNotContain(report.NotJudged, n => n.StartsWith("entries per second", StringComparison.Ordinal));
        string[] rate = [.. report.Findings.Where(f => f.Contains("entries per second", StringComparison.Ordinal))];
        if (expected is null)
        {
            Assert.Empty(rate);
        }
        else
        {
            Assert.Equal($"{expected}: ", Assert.Single(rate)[..(expected.ToString()!.Length + 2)]);
        }
    }

    [Fact]
    public void Health_EntryRateWithAShortOrThinBaseline_IsNotJudgedAndSaysSo()
    {
        var clock = new ManualClock(Start);
        using var instrumentation = new WalInstrumentation(NullLogger.Instance, clock, null, "wal");
        Append(instrumentation, clock, seconds: 5 * 60, perSecond: 100);
        WalHealthReport young = Check(instrumentation);
        Assert.Contains(young.NotJudged, n => n.StartsWith("entries per second: the baseline covers 5.0 minutes of the 10", StringComparison.Ordinal));

        Append(instrumentation, clock, seconds: 60 * 60, perSecond: 0);
        Append(instrumentation, clock, seconds: 1, perSecond: 3);
        WalHealthReport thin = Check(instrumentation);
        Assert.Contains(thin.NotJudged, n => n.StartsWith("entries per second: the baseline holds 3 records of the 600", StringComparison.Ordinal));
        Assert.Empty(thin.Findings);
    }

    [Fact]
    public void CheckpointAge_IdleDatabaseWithNothingLoggedAfterItsCheckpoint_StaysHealthy()
    {
        using var temp = new TempDirectory();
        var clock = new ManualClock(Start);
        using (var wal = WalManager.Open(Config(temp.Path), timeProvider: clock))
        {
            clock.Advance(TimeSpan.FromHours(2));
            Assert.Null(wal.GetMetrics().OldestUncoveredRecordAge);
            Assert.Equal(WalHealthStatus.Healthy, wal.CheckHealth().Status); // an empty WAL has nothing to cover

            wal.Append(InsertFor(1));
            clock.Advance(TimeSpan.FromMinutes(61));
            WalHealthReport stale = wal.CheckHealth();
            Assert.Equal(WalHealthStatus.Critical, stale.Status);
            Assert.Contains("not covered by a checkpoint", Assert.Single(stale.Findings), StringComparison.Ordinal);

            wal.Append(new WalEntry.Checkpoint(1, 1));
            Assert.Equal(TimeSpan.Zero, wal.GetMetrics().LastCheckpointAge);
            clock.Advance(TimeSpan.FromHours(5));
            Assert.Equal(WalHealthStatus.Healthy, wal.CheckHealth().Status);
            Assert.Equal(TimeSpan.FromHours(5), wal.GetMetrics().LastCheckpointAge);

            wal.Append(InsertFor(2));
            clock.Advance(TimeSpan.FromMinutes(59));
            Assert.Equal(WalHealthStatus.Healthy, wal.CheckHealth().Status); // the count starts at the first record after it
            clock.Advance(TimeSpan.FromMinutes(2));
            Assert.Equal(WalHealthStatus.Critical, wal.CheckHealth().Status);
            wal.Append(new WalEntry.Checkpoint(2, 3));
        }

        clock.Advance(TimeSpan.FromHours(3));
        using (var reopened = WalManager.Open(Config(temp.Path), timeProvider: clock))
        {
            Assert.Null(reopened.GetMetrics().OldestUncoveredRecordAge); // the last record is the checkpoint
            Assert.Equal(WalHealthStatus.Healthy, reopened.CheckHealth().Status);
            reopened.Append(InsertFor(3));
        }

        clock.Advance(TimeSpan.FromMinutes(30));
        using var again = WalManager.Open(Config(temp.Path), timeProvider: clock);
        Assert.Equal(TimeSpan.FromHours(3.5), again.GetMetrics().OldestUncoveredRecordAge); // at most the checkpoint's age
        Assert.Equal(WalHealthStatus.Critical, again.CheckHealth().Status);
    }

    private static WalHealthReport Check(WalInstrumentation instrumentation) =>
        WalHealthReport.Evaluate(instrumentation.Describe(new WalMetrics { MaxSizeBytes = 1_000_000_000 }));

    private static void Append(WalInstrumentation instrumentation, ManualClock clock, int seconds, int perSecond)
    {
        for (int s = 0; s < seconds; s++)
        {
            if (perSecond > 0)
            {
                instrumentation.RecordsAppended(perSecond);
            }

            clock.Advance(TimeSpan.FromSeconds(1));
        }
    }
}

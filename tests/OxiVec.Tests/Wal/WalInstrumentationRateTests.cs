using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Diagnostics;
using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>
/// The WAL's entry-rate meters get a second's records at once (at the turn of the second or at a read) rather than
/// per append: every read must see exactly what meters fed at every append would show, in the same buckets.
/// </summary>
public sealed class WalInstrumentationRateTests
{
    [Fact]
    public void BatchedRateMeters_ReadExactlyWhatPerAppendMetersRead_AtEveryRead()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56));
        clock.Advance(TimeSpan.FromTicks(1_234_567)); // not on a second's boundary
        using var instrumentation = new WalInstrumentation(NullLogger.Instance, clock, null, "wal");
        var rate = new RateMeter(clock);
        var recent = new RateMeter(clock, (int)WalInstrumentation.RecentWindow.TotalSeconds);
        var baseline = new RateMeter(clock, (int)WalInstrumentation.BaselineWindow.TotalMinutes, TimeSpan.FromMinutes(1));
        var random = new Random(615);
        long total = 0;
        int reads = 0;
        for (int step = 0; step < 30_000; step++)
        {
            int what = random.Next(100);
            if (what < 60)
            {
                long count = random.Next(1, 4);
                long now = clock.GetTimestamp();
                instrumentation.RecordsAppended(count, now);
                rate.Add(count, now);
                recent.Add(count, now);
                baseline.Add(count, now);
                total += count;
            }
            else if (what < 85)
            {
                clock.Advance(TimeSpan.FromTicks(random.NextInt64(1, TimeSpan.TicksPerSecond / 3))); // often across a second's turn
            }
            else if (what < 88)
            {
                clock.Advance(TimeSpan.FromSeconds(1)); // exactly a second: the same offset in the next bucket
            }
            else if (what < 90)
            {
                clock.Advance(TimeSpan.FromSeconds(random.Next(2, 200))); // idle, past the short windows
            }
            else
            {
                WalMetrics m = instrumentation.Describe(new WalMetrics());
                (long recentEntries, TimeSpan recentSpan) = recent.Read();
                (long baselineEntries, TimeSpan baselineSpan) = baseline.Read();
                Assert.Equal(total, m.EntriesAppended);
                Assert.Equal(rate.PerSecond(), m.WriteOpsPerSec);
                Assert.Equal(recentSpan <= TimeSpan.Zero ? 0 : recentEntries / recentSpan.TotalSeconds, m.RecentEntriesPerSec);
                Assert.Equal(baselineEntries, m.BaselineEntries);
                Assert.Equal(baselineSpan, m.BaselineSpan);
                reads++;
            }
        }

        Assert.True(reads > 1_000);
        Assert.Equal(total, instrumentation.RecordCount);
    }
}

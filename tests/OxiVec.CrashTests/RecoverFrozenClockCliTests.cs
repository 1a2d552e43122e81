using System.Globalization;
using System.Text.Json;
using OxiVec.CrashTests.Infrastructure;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.CrashTests;

/// <summary><c>oxivec recover --to-time</c> says when its target falls inside a frozen clock window (the wall clock stepped back).</summary>
public sealed class RecoverFrozenClockCliTests
{
    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    [Fact]
    public async Task RecoverToTime_InsideAFrozenClockWindow_JsonNamesTheWindow_StderrSaysUseToLsn()
    {
        using var dir = new TempDirectory();
        string data = dir.Sub("data");
        var clock = new WallClock(At("2026-06-01T10:00:00Z"));
        using (var db = VectorDatabase.Open(data, new VectorDatabaseOptions { TimeProvider = clock }))
        {
            db.CreateCollection("c", new CollectionOptions(4));
            db.Insert("c", "before", new float[] { 1, 2, 3, 4 });
            clock.Step(TimeSpan.FromHours(-1));      // wall 09:00; timestamps stay at 10:00 until it catches up
            clock.Advance(TimeSpan.FromMinutes(10));
            db.Insert("c", "frozen", new float[] { 2, 2, 3, 4 });  // written at wall 09:10, stamped 10:00
        }

        CliResult inside = await CliProcess.RunAsync("recover", "--data", data, "--to-time", "2026-06-01T09:30:00Z", "--target", dir.Sub("inside"), "--json");
        CliResult outside = await CliProcess.RunAsync("recover", "--data", data, "--to-time", "2026-06-01T10:00:00Z", "--target", dir.Sub("outside"), "--json");

        Assert.True(inside.ExitCode == 0, inside.ToString());
        JsonElement window = Assert.Single(JsonDocument.Parse(inside.Stdout).RootElement.GetProperty("frozen_clock_windows").EnumerateArray());
        Assert.Equal(3, window.GetProperty("from_lsn").GetInt64());   // 1 create, 2 before, 3 the clock-step record, 4 frozen
        Assert.Equal(4, window.GetProperty("to_lsn").GetInt64());
        Assert.StartsWith("2026-06-01T10:00:00", window.GetProperty("frozen_timestamp").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("2026-06-01T09:10:00", window.GetProperty("wall_clock_at_step").GetString(), StringComparison.Ordinal);
        Assert.Contains("frozen clock window", inside.Stderr, StringComparison.Ordinal);
        Assert.Contains("--to-lsn", inside.Stderr, StringComparison.Ordinal);

        Assert.True(outside.ExitCode == 0, outside.ToString());
        Assert.Equal(0, JsonDocument.Parse(outside.Stdout).RootElement.GetProperty("frozen_clock_windows").GetArrayLength());
        Assert.Equal("", outside.Stderr);
    }

    /// <summary>A wall clock that can be stepped independently of the monotonic clock.</summary>
    private sealed class WallClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _wall = start;
        private long _ticks = 1;

        public override DateTimeOffset GetUtcNow() => _wall;

        public override long GetTimestamp() => _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public void Advance(TimeSpan by)
        {
            _wall += by;
            _ticks += by.Ticks;
        }

        public void Step(TimeSpan by) => _wall += by;
    }
}

using System.Diagnostics;

namespace OxiVec.Benchmarks.Macro;

/// <summary>A median with the smallest and largest value of the repeats it summarises.</summary>
internal readonly record struct Spread(double Median, double Min, double Max)
{
    public static Spread Of(IEnumerable<double> values)
    {
        double[] v = [.. values.Where(x => !double.IsNaN(x)).Order()];
        if (v.Length == 0)
        {
            return new Spread(double.NaN, double.NaN, double.NaN);
        }

        double median = v.Length % 2 == 1 ? v[v.Length / 2] : (v[(v.Length / 2) - 1] + v[v.Length / 2]) / 2;
        return new Spread(median, v[0], v[^1]);
    }
}

/// <summary>Per-thread latency samples in <see cref="Stopwatch"/> ticks; grows by doubling, never shared.</summary>
internal sealed class LatencyBuffer(int initialCapacity)
{
    private long[] _ticks = new long[Math.Max(16, initialCapacity)];

    public int Count { get; private set; }

    public void Add(long ticks)
    {
        if (Count == _ticks.Length)
        {
            Array.Resize(ref _ticks, _ticks.Length * 2);
        }

        _ticks[Count++] = ticks;
    }

    public ReadOnlySpan<long> Samples => _ticks.AsSpan(0, Count);
}

/// <summary>Percentiles of merged latency samples, in microseconds.</summary>
/// <param name="SlowSeconds">Total time spent in commits of <see cref="SlowThresholdMs"/> or longer (stalls).</param>
internal readonly record struct LatencySummary(double P50Us, double P99Us, double MaxUs, long Samples, double SlowSeconds)
{
    /// <summary>A commit this long or longer counts as a stall.</summary>
    public const double SlowThresholdMs = 10;

    public static LatencySummary Merge(IReadOnlyList<LatencyBuffer> buffers)
    {
        long[] all = new long[buffers.Sum(b => (long)b.Count)];
        int at = 0;
        foreach (LatencyBuffer b in buffers)
        {
            b.Samples.CopyTo(all.AsSpan(at));
            at += b.Count;
        }

        if (all.Length == 0)
        {
            return new LatencySummary(double.NaN, double.NaN, double.NaN, 0, 0);
        }

        Array.Sort(all);
        long slowFrom = (long)(SlowThresholdMs / 1000 * Stopwatch.Frequency);
        int first = Array.BinarySearch(all, slowFrom);
        first = first < 0 ? ~first : first;
        while (first > 0 && all[first - 1] >= slowFrom)
        {
            first--;
        }

        long slowTicks = 0;
        for (int i = first; i < all.Length; i++)
        {
            slowTicks += all[i];
        }

        return new LatencySummary(ToUs(Rank(all, 0.50)), ToUs(Rank(all, 0.99)), ToUs(all[^1]), all.Length, slowTicks / (double)Stopwatch.Frequency);
    }

    /// <summary>Nearest-rank percentile: the smallest sample with at least q of the samples at or below it.</summary>
    private static long Rank(long[] sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double ToUs(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
}

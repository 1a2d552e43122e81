namespace OxiVec.Diagnostics;

/// <summary>
/// The most recent <c>capacity</c> latency samples plus running totals, for averages and percentiles of
/// recent behaviour. Thread safe; recording takes a short lock.
/// </summary>
internal sealed class LatencyReservoir(int capacity = 4096)
{
    private readonly Lock _sync = new();
    private readonly double[] _samples = new double[capacity];
    private long _count;
    private double _sumMs;

    public long Count => Volatile.Read(ref _count);

    public void Record(double milliseconds)
    {
        lock (_sync)
        {
            _samples[_count % _samples.Length] = milliseconds;
            _count++;
            _sumMs += milliseconds;
        }
    }

    /// <summary>Average over every sample recorded, p50 and p99 over the recent window; zeros when empty.</summary>
    public (double Average, double P50, double P99) Summarize()
    {
        double[] window;
        double average;
        lock (_sync)
        {
            if (_count == 0)
            {
                return (0, 0, 0);
            }

            window = _samples.AsSpan(0, (int)Math.Min(_count, _samples.Length)).ToArray();
            average = _sumMs / _count;
        }

        Array.Sort(window);
        return (average, Percentile(window, 0.50), Percentile(window, 0.99));
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}

namespace OxiVec.Diagnostics;

/// <summary>
/// Latency samples for health checks: the newest <c>capacity</c> samples with the time each was recorded, of which
/// those of the last <c>window</c> make the recent figures, plus lifetime totals kept apart. A disk that slows from
/// 0.2 ms to 200 ms per fsync after days of service moves the recent figures at once, where a lifetime average
/// would barely move. Thread safe; recording takes a short lock.
/// </summary>
internal sealed class LatencyWindow
{
    private readonly TimeProvider _time;
    private readonly long _windowTicks;
    private readonly Lock _sync = new();
    private readonly double[] _values;
    private readonly long[] _stamps;
    private long _count;
    private int _next; // the slot the next sample goes to: _count % capacity
    private double _sumMs;

    /// <param name="time">The clock that stamps samples (a test's fake clock moves the window).</param>
    /// <param name="window">How far back the recent figures look.</param>
    /// <param name="capacity">The most samples the recent figures hold (the newest ones).</param>
    public LatencyWindow(TimeProvider time, TimeSpan window, int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        _windowTicks = (long)(window.TotalSeconds * time.TimestampFrequency);
        _values = new double[capacity];
        _stamps = new long[capacity];
    }

    /// <summary>Samples recorded since creation.</summary>
    public long Count => Volatile.Read(ref _count);

    public void Record(double milliseconds) => Record(milliseconds, _time.GetTimestamp());

    /// <summary><see cref="Record(double)"/> stamped <paramref name="timestamp"/>, a <see cref="TimeProvider.GetTimestamp"/> of this window's clock the caller has just read.</summary>
    public void Record(double milliseconds, long timestamp)
    {
        lock (_sync)
        {
            int i = _next;
            _values[i] = milliseconds;
            _stamps[i] = timestamp;
            _next = i + 1 == _values.Length ? 0 : i + 1; // _count % capacity, without a 64-bit division per sample
            _count++;
            _sumMs += milliseconds;
        }
    }

    /// <summary>The recent figures (average, p50, p99 of the samples in the window) and the lifetime ones.</summary>
    public LatencySummary Summarize()
    {
        long oldest = _time.GetTimestamp() - _windowTicks;
        var recent = new List<double>();
        long count;
        double sum;
        lock (_sync)
        {
            count = _count;
            sum = _sumMs;
            long held = Math.Min(_count, _values.Length);
            for (long n = 1; n <= held; n++)
            {
                int i = (int)((_count - n) % _values.Length);
                if (_stamps[i] < oldest)
                {
                    break; // newest first: everything older is out of the window too
                }

                recent.Add(_values[i]);
            }
        }

        double lifetime = count == 0 ? 0 : sum / count;
        if (recent.Count == 0)
        {
            return new LatencySummary(0, 0, 0, 0, count, lifetime);
        }

        recent.Sort();
        return new LatencySummary(recent.Count, recent.Average(), Percentile(recent, 0.50), Percentile(recent, 0.99), count, lifetime);
    }

    private static double Percentile(List<double> sorted, double q) =>
        sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}

/// <summary>What a <see cref="LatencyWindow"/> holds: recent figures (zeros when <paramref name="RecentSamples"/> is 0) and lifetime ones.</summary>
internal readonly record struct LatencySummary(
    int RecentSamples, double RecentAverage, double RecentP50, double RecentP99, long LifetimeSamples, double LifetimeAverage);

namespace OxiVec.Diagnostics;

/// <summary>
/// Events per second over a sliding window of whole buckets (by default the last 10 one-second buckets). Thread safe;
/// counting takes no lock except at the first event of a bucket.
/// </summary>
internal sealed class RateMeter
{
    private readonly TimeProvider _time;
    private readonly long _bucketTicks;
    private readonly long[] _buckets;
    private readonly long[] _bucketNumber;
    private readonly long _created;
    private readonly Lock _sync = new();

    /// <param name="time">The clock.</param>
    /// <param name="buckets">How many buckets the window spans.</param>
    /// <param name="bucketWidth">The width of one bucket; one second by default.</param>
    public RateMeter(TimeProvider time, int buckets = 10, TimeSpan? bucketWidth = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        _time = time;
        _bucketTicks = Math.Max(1, (long)((bucketWidth ?? TimeSpan.FromSeconds(1)).TotalSeconds * time.TimestampFrequency));
        _buckets = new long[buckets];
        _bucketNumber = new long[buckets];
        _created = time.GetTimestamp();
    }

    public void Add(long count) => Add(count, _time.GetTimestamp());

    /// <summary>
    /// Counts <paramref name="count"/> events at <paramref name="timestamp"/> (this meter's clock), so several meters can
    /// share one clock read. Lock-free unless the event starts a new bucket: the lock only resets a reused bucket, and
    /// publishes its new number after zeroing it, so an add that sees the number lands after the reset.
    /// </summary>
    public void Add(long count, long timestamp)
    {
        long bucket = timestamp / _bucketTicks;
        int i = (int)(bucket % _buckets.Length);
        if (Volatile.Read(ref _bucketNumber[i]) != bucket)
        {
            lock (_sync)
            {
                if (_bucketNumber[i] != bucket)
                {
                    _buckets[i] = 0;
                    Volatile.Write(ref _bucketNumber[i], bucket);
                }
            }
        }

        Interlocked.Add(ref _buckets[i], count);
    }

    /// <summary>The rate over the window (see <see cref="Read"/>); 0 before any time has passed.</summary>
    public double PerSecond()
    {
        (long events, TimeSpan span) = Read();
        return span <= TimeSpan.Zero ? 0 : events / span.TotalSeconds;
    }

    /// <summary>
    /// The events in the current and the previous <c>buckets - 1</c> buckets, and the time they span (the meter's age
    /// when it is younger than the window).
    /// </summary>
    public (long Events, TimeSpan Span) Read()
    {
        long nowTicks = _time.GetTimestamp();
        long now = nowTicks / _bucketTicks;
        long total = 0;
        lock (_sync)
        {
            for (int i = 0; i < _buckets.Length; i++)
            {
                if (now - _bucketNumber[i] < _buckets.Length)
                {
                    total += Interlocked.Read(ref _buckets[i]);
                }
            }
        }

        long spanTicks = Math.Min(((_buckets.Length - 1) * _bucketTicks) + (nowTicks % _bucketTicks), nowTicks - _created);
        return (total, TimeSpan.FromSeconds(Math.Max(0, spanTicks) / (double)_time.TimestampFrequency));
    }
}

namespace OxiVec.Diagnostics;

/// <summary>Events per second over a sliding window of whole seconds (the last 10 by default). Thread safe.</summary>
internal sealed class RateMeter(TimeProvider time, int windowSeconds = 10)
{
    private readonly long[] _buckets = new long[windowSeconds];
    private readonly long[] _bucketSecond = new long[windowSeconds];
    private readonly long _created = time.GetTimestamp();
    private readonly Lock _sync = new();

    public void Add(long count)
    {
        long second = time.GetTimestamp() / time.TimestampFrequency;
        lock (_sync)
        {
            int i = (int)(second % _buckets.Length);
            if (_bucketSecond[i] != second)
            {
                _bucketSecond[i] = second;
                _buckets[i] = 0;
            }

            _buckets[i] += count;
        }
    }

    /// <summary>
    /// The rate over the window: events in the current and the previous <c>window - 1</c> seconds, divided by the
    /// time they span (the meter's age when it is younger than the window).
    /// </summary>
    public double PerSecond()
    {
        long nowTicks = time.GetTimestamp();
        long now = nowTicks / time.TimestampFrequency;
        long total = 0;
        lock (_sync)
        {
            for (int i = 0; i < _buckets.Length; i++)
            {
                if (now - _bucketSecond[i] < _buckets.Length)
                {
                    total += _buckets[i];
                }
            }
        }

        double age = (nowTicks - _created) / (double)time.TimestampFrequency;
        double span = Math.Min(_buckets.Length - 1 + ((nowTicks % time.TimestampFrequency) / (double)time.TimestampFrequency), age);
        return span <= 0 ? 0 : total / span;
    }
}

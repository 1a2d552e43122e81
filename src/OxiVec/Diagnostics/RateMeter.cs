namespace OxiVec.Diagnostics;

/// <summary>Events per second over a sliding window of whole seconds (the last 10 by default). Thread safe.</summary>
internal sealed class RateMeter(TimeProvider time, int windowSeconds = 10)
{
    private readonly long _createdSecond = time.GetTimestamp() / time.TimestampFrequency;
    private readonly long[] _buckets = new long[windowSeconds + 1];
    private readonly long[] _bucketSecond = new long[windowSeconds + 1];
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

    /// <summary>The average rate over the completed seconds of the window (or of the meter's life, when shorter).</summary>
    public double PerSecond()
    {
        long now = time.GetTimestamp() / time.TimestampFrequency;
        long total = 0;
        lock (_sync)
        {
            for (int i = 0; i < _buckets.Length; i++)
            {
                long age = now - _bucketSecond[i];
                if (age >= 1 && age <= _buckets.Length - 1)
                {
                    total += _buckets[i];
                }
            }
        }

        // Average over the completed seconds the meter has existed, at most the window.
        long seconds = Math.Clamp(now - _createdSecond, 1, _buckets.Length - 1);
        return total / (double)seconds;
    }
}

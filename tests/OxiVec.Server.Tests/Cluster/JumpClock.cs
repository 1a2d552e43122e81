namespace OxiVec.Server.Tests.Cluster;

/// <summary>The system clock whose monotonic timestamp a test can move forward at once (timers and wall time are the system's).</summary>
internal sealed class JumpClock : TimeProvider
{
    private long _offset;

    /// <summary>Moves the monotonic clock forward by <paramref name="by"/>.</summary>
    public void Advance(TimeSpan by) => Interlocked.Add(ref _offset, (long)(by.TotalSeconds * TimestampFrequency));

    public override long GetTimestamp() => base.GetTimestamp() + Interlocked.Read(ref _offset);
}

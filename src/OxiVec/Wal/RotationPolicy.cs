namespace OxiVec.Wal;

/// <summary>When the WAL starts a new segment file.</summary>
public abstract record RotationPolicy
{
    private protected RotationPolicy()
    {
    }

    /// <summary>Rotate when the current segment reaches <see cref="WalConfig.SegmentSizeBytes"/>.</summary>
    public static RotationPolicy SizeBased { get; } = new SizeBasedRotation();

    /// <summary>
    /// Rotate when the current segment is older than <paramref name="interval"/>, or full, whichever comes first.
    /// </summary>
    /// <param name="interval">At least one second.</param>
    public static RotationPolicy TimeBased(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.FromSeconds(1), nameof(interval));
        return new TimeBasedRotation(interval);
    }

    /// <summary>Size-based rotation.</summary>
    public sealed record SizeBasedRotation : RotationPolicy;

    /// <summary>Time-based rotation (also rotates when the segment is full).</summary>
    /// <param name="Interval">
    /// The longest time a segment stays current, measured on the monotonic clock (a wall-clock step neither stops nor
    /// hurries rotation); a segment reopened after a restart counts the age its header's creation time gives it.
    /// </param>
    public sealed record TimeBasedRotation(TimeSpan Interval) : RotationPolicy;
}

/// <summary>Which checkpoints, and the WAL segments they need, are kept.</summary>
public abstract record RetentionPolicy
{
    private protected RetentionPolicy()
    {
    }

    /// <summary>Never delete anything.</summary>
    public static RetentionPolicy KeepAll { get; } = new KeepAllRetention();

    /// <summary>Keep the newest <paramref name="count"/> checkpoints and the WAL after the oldest of them.</summary>
    /// <param name="count">At least 1.</param>
    public static RetentionPolicy KeepLast(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1, nameof(count));
        return new KeepLastRetention(count);
    }

    /// <summary>Keep everything.</summary>
    public sealed record KeepAllRetention : RetentionPolicy;

    /// <summary>Keep the newest <paramref name="Count"/> checkpoints.</summary>
    /// <param name="Count">How many checkpoints to keep.</param>
    public sealed record KeepLastRetention(int Count) : RetentionPolicy;
}

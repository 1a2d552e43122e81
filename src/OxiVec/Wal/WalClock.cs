namespace OxiVec.Wal;

/// <summary>
/// Record timestamps and clock-step detection. A record's timestamp is the wall clock, never below the previous
/// record's (recovery by time needs them in order), so after the wall clock steps back timestamps stay frozen until
/// it catches up. Each step is detected by comparing the wall clock's progress with the monotonic clock's
/// (<see cref="TimeProvider.GetTimestamp"/>), logged with its size and counted (<see cref="WalMetrics.ClockSteps"/>).
/// Intervals (time-based rotation, checkpoint age) are measured on the monotonic clock, which never steps.
/// A step that leaves the wall clock behind the newest timestamp (timestamps freeze) is also handed to the writer,
/// which logs it as a <see cref="WalClockStep"/> record so that recovery by time can tell the frozen window.
/// </summary>
/// <remarks>Not thread safe: the writer calls it under its append lock.</remarks>
internal sealed class WalClock
{
    /// <summary>A disagreement between the two clocks this large is a step, not drift or a slew.</summary>
    public static readonly TimeSpan StepThreshold = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly WalInstrumentation _instrumentation;
    private long _lastTimestampMicros;
    private long _lastWallMicros;
    private long _lastMonotonic;
    private WalClockStep? _pendingFreeze;

    /// <summary>Starts after a record stamped <paramref name="lastTimestampMicros"/>; a wall clock already behind it is a step.</summary>
    public WalClock(TimeProvider time, WalInstrumentation instrumentation, long lastTimestampMicros)
    {
        _time = time;
        _instrumentation = instrumentation;
        _lastTimestampMicros = lastTimestampMicros;
        _lastWallMicros = WalRecord.ToMicros(time.GetUtcNow());
        _lastMonotonic = time.GetTimestamp();
        long behind = _lastWallMicros - lastTimestampMicros;
        if (behind <= -(long)StepThreshold.TotalMicroseconds)
        {
            // Stepped back since the newest record was written (before a restart, say).
            instrumentation.ClockStepped(TimeSpan.FromMicroseconds(behind), frozenFor: TimeSpan.FromMicroseconds(-behind));
            _pendingFreeze = new WalClockStep(lastTimestampMicros, _lastWallMicros, behind);
        }
    }

    /// <summary>The monotonic timestamp (<see cref="TimeProvider.GetTimestamp"/>) read by the last <see cref="Next"/>, for callers that would read it again at once.</summary>
    public long LastMonotonic => _lastMonotonic;

    /// <summary>A replicated record stamped <paramref name="timestampMicros"/> was appended: later timestamps never go below it.</summary>
    public void Observe(long timestampMicros) => _lastTimestampMicros = Math.Max(_lastTimestampMicros, timestampMicros);

    /// <summary>The timestamp (µs since the Unix epoch) for the next records; detects a step since the last call.</summary>
    /// <param name="freeze">
    /// Set when a step (since the last call, or found when the WAL was opened) leaves the wall clock behind the newest
    /// timestamp, so the next records' timestamps are frozen: the writer logs it before them. Null otherwise.
    /// </param>
    public long Next(out WalClockStep? freeze)
    {
        freeze = null;
        long wall = WalRecord.ToMicros(_time.GetUtcNow());
        long monotonic = _time.GetTimestamp();
        long monotonicMicros = (long)((monotonic - _lastMonotonic) * 1e6 / _time.TimestampFrequency);
        long step = wall - _lastWallMicros - monotonicMicros;
        if (Math.Abs(step) >= (long)StepThreshold.TotalMicroseconds)
        {
            long frozen = Math.Max(0, _lastTimestampMicros - wall);
            _instrumentation.ClockStepped(TimeSpan.FromMicroseconds(step), TimeSpan.FromMicroseconds(frozen));
            if (frozen > 0)
            {
                freeze = new WalClockStep(_lastTimestampMicros, wall, step);
            }
        }

        if (_pendingFreeze is { } pending)
        {
            // Found at open; still worth a record if the clock has not caught up before the first append.
            freeze ??= wall < _lastTimestampMicros ? pending : null;
            _pendingFreeze = null;
        }

        _lastWallMicros = wall;
        _lastMonotonic = monotonic;
        _lastTimestampMicros = Math.Max(_lastTimestampMicros, wall);
        return _lastTimestampMicros;
    }
}

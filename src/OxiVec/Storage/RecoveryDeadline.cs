namespace OxiVec.Storage;

/// <summary>
/// <c>MaxRecoveryTimeMs</c> for every phase of a recovery (checkpoint load, index rebuild, replay, point-in-time
/// rebuild): <see cref="Check"/> between and inside phases, and <see cref="Token"/> for loops that cannot call it.
/// Time is read from the database's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class RecoveryDeadline : IDisposable
{
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly int _maxMs;
    private readonly string _what;
    private readonly CancellationTokenSource? _timer;

    /// <param name="time">The clock.</param>
    /// <param name="start">When the recovery started (a <paramref name="time"/> timestamp).</param>
    /// <param name="maxMs">The limit in milliseconds; 0: none.</param>
    /// <param name="what">What is recovered, for the message ("Recovery of '/data'").</param>
    public RecoveryDeadline(TimeProvider time, long start, int maxMs, string what)
    {
        _time = time;
        _start = start;
        _maxMs = maxMs;
        _what = what;
        if (maxMs > 0)
        {
            TimeSpan left = TimeSpan.FromMilliseconds(maxMs) - time.GetElapsedTime(start);
            _timer = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, time);
        }
    }

    /// <summary>Cancelled once the limit has passed (never without a limit).</summary>
    public CancellationToken Token => _timer?.Token ?? CancellationToken.None;

    /// <summary>Milliseconds since the recovery started.</summary>
    public long ElapsedMs => (long)_time.GetElapsedTime(_start).TotalMilliseconds;

    /// <summary>Throws <see cref="RecoveryTimeoutException"/> when the limit has passed.</summary>
    /// <param name="doing">What the recovery was doing, for the message ("loading checkpoint '...'").</param>
    public void Check(string doing)
    {
        if (_maxMs > 0 && (Token.IsCancellationRequested || _time.GetElapsedTime(_start).TotalMilliseconds > _maxMs))
        {
            throw Expired(doing);
        }
    }

    /// <summary>Runs one phase: checks the deadline before and after it, and turns a cancellation by <see cref="Token"/> inside it into the timeout.</summary>
    public T Run<T>(string doing, Func<CancellationToken, T> phase)
    {
        Check(doing);
        T result;
        try
        {
            result = phase(Token);
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
            throw Expired(doing);
        }

        Check(doing);
        return result;
    }

    /// <summary>The exception for a limit passed while <paramref name="doing"/>.</summary>
    public RecoveryTimeoutException Expired(string doing) => new(
        $"{_what} exceeded MaxRecoveryTimeMs = {_maxMs} (after {ElapsedMs} ms) while {doing}; nothing on disk was changed by the attempt " +
        "(at most a torn WAL tail was cut). Raise the limit or checkpoint more often.");

    /// <inheritdoc/>
    public void Dispose() => _timer?.Dispose();
}

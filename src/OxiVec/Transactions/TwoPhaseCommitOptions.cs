namespace OxiVec.Transactions;

/// <summary>
/// Settings of a <see cref="TwoPhaseCommit"/> coordinator, read once when it opens. Every setter validates its value
/// and names the property in the exception.
/// </summary>
public sealed record TwoPhaseCommitOptions
{
    private readonly TimeSpan _attemptTimeout = TimeSpan.FromSeconds(10);
    private readonly TimeSpan _retryDelay = TimeSpan.FromMilliseconds(20);
    private readonly TimeSpan _maxRetryDelay = TimeSpan.FromSeconds(2);
    private readonly TimeSpan _conflictWait = TimeSpan.Zero;
    private readonly TimeProvider _timeProvider = TimeProvider.System;

    /// <summary>The defaults.</summary>
    public static TwoPhaseCommitOptions Default { get; } = new();

    /// <summary>
    /// The longest one call to a participant (a prepare, commit, rollback or list) may take before it counts as
    /// unanswered: a prepare then votes no, a commit or rollback is sent again. The default is 10 seconds.
    /// </summary>
    public TimeSpan AttemptTimeout
    {
        get => _attemptTimeout;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, nameof(AttemptTimeout));
            _attemptTimeout = value;
        }
    }

    /// <summary>
    /// The wait before the first resend of an unanswered commit or rollback; it doubles with each resend (with up to 50 %
    /// random jitter) up to <see cref="MaxRetryDelay"/>. The default is 20 ms.
    /// </summary>
    public TimeSpan RetryDelay
    {
        get => _retryDelay;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, nameof(RetryDelay));
            _retryDelay = value;
        }
    }

    /// <summary>The longest wait between resends. The default is 2 seconds; at least <see cref="RetryDelay"/> when used.</summary>
    public TimeSpan MaxRetryDelay
    {
        get => _maxRetryDelay;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, nameof(MaxRetryDelay));
            _maxRetryDelay = value;
        }
    }

    /// <summary>
    /// How long a participant's prepare waits for records another prepared transaction reserved (its
    /// <see cref="PrepareOptions.ConflictWait"/>). The default is zero: a conflict votes no at once.
    /// </summary>
    public TimeSpan ConflictWait
    {
        get => _conflictWait;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, nameof(ConflictWait));
            _conflictWait = value;
        }
    }

    /// <summary>Sees every protocol step (diagnostics, tests). The default is none.</summary>
    public ITwoPhaseCommitObserver? Observer { get; init; }

    /// <summary>The clock of timeouts and retry delays. The default is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        init => _timeProvider = value ?? throw new ArgumentNullException(nameof(TimeProvider));
    }
}

namespace OxiVec.Wal;

/// <summary>
/// One blocked writer thread waiting for its batch's fsync: it sleeps in the kernel at once, without spinning, and
/// is woken by exactly one signal.
/// </summary>
/// <remarks>
/// Blocking on a <see cref="Task"/> instead (<c>GetAwaiter().GetResult()</c>) spins first, with <c>sched_yield</c>,
/// then spins again in the <see cref="ManualResetEventSlim"/> it allocates: with 32 writer threads on 2 cores that
/// spinning took most of the CPU a commit cost (perf: <c>SpinWait.SpinOnceCore</c> → <c>sched_yield</c>), and the
/// yielding threads delayed the ones that had real work. An fsync takes hundreds of microseconds, far longer than
/// any spin could usefully wait.
/// </remarks>
internal sealed class WalCommitWaiter
{
    private bool _signalled;
    private bool _abandoned; // the thread left Wait without the signal (interrupted): a signal goes straight on
    private WalCommitWaiter? _successor;

    /// <summary>
    /// The waiter this one wakes once its own signal arrived and its thread runs (a wake chain, see
    /// <see cref="WalCommitBatch.Complete"/>). Set under the writer's sync gate before the batch can complete.
    /// </summary>
    public WalCommitWaiter? Successor
    {
        get => _successor;
        set => _successor = value;
    }

    /// <summary>Whether <see cref="Signal"/> has been called (tests).</summary>
    public bool IsSignalled
    {
        get
        {
            lock (this)
            {
                return _signalled;
            }
        }
    }

    /// <summary>
    /// Blocks until <see cref="Signal"/> has been called (at once when it already has), then signals its
    /// <see cref="Successor"/>: each waiter of a chain is woken by the one before it, once that one's thread runs.
    /// When the wait is interrupted the successor is not lost: the signal, when it comes, is passed straight on.
    /// </summary>
    public void Wait()
    {
        bool passOn = false;
        try
        {
            lock (this)
            {
                try
                {
                    while (!_signalled)
                    {
                        Monitor.Wait(this);
                    }
                }
                catch (ThreadInterruptedException)
                {
                    _abandoned = true;
                    passOn = _signalled; // otherwise Signal passes it on when it comes
                    throw;
                }
            }

            passOn = true;
        }
        finally
        {
            if (passOn)
            {
                _successor?.Signal();
            }
        }
    }

    /// <summary>Wakes the waiting thread (or lets its <see cref="Wait"/> return at once). Idempotent.</summary>
    public void Signal()
    {
        bool forward;
        lock (this)
        {
            forward = _abandoned && !_signalled;
            _signalled = true;
            Monitor.Pulse(this);
        }

        if (forward)
        {
            _successor?.Signal();
        }
    }
}

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

    /// <summary>Blocks until <see cref="Signal"/> has been called (at once when it already has).</summary>
    public void Wait()
    {
        lock (this)
        {
            while (!_signalled)
            {
                Monitor.Wait(this);
            }
        }
    }

    /// <summary>Wakes the waiting thread (or lets its <see cref="Wait"/> return at once). Idempotent.</summary>
    public void Signal()
    {
        lock (this)
        {
            _signalled = true;
            Monitor.Pulse(this);
        }
    }
}

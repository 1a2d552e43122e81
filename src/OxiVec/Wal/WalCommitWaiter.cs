using System.Runtime.InteropServices;

namespace OxiVec.Wal;

/// <summary>
/// Blocked writer threads waiting for their batch's fsync: they sleep in the kernel at once, without spinning, and
/// are woken together by one signal.
/// </summary>
/// <remarks>
/// <para>Blocking on a <see cref="Task"/> instead (<c>GetAwaiter().GetResult()</c>) spins first, with <c>sched_yield</c>,
/// then spins again in the <see cref="ManualResetEventSlim"/> it allocates: with 32 writer threads on 2 cores that
/// spinning took most of the CPU a commit cost (perf: <c>SpinWait.SpinOnceCore</c> → <c>sched_yield</c>), and the
/// yielding threads delayed the ones that had real work. An fsync takes hundreds of microseconds, far longer than
/// any spin could usefully wait.</para>
/// <para>On Linux (x64 and arm64) the waiter is a bare futex on one word: a wait is one <c>FUTEX_WAIT</c> and a signal
/// one <c>FUTEX_WAKE</c> for all the threads that sleep on it, and only when one really sleeps. The blocked writers
/// of a batch share one waiter: one system call wakes them all after the fsync (a call per thread cost the syncer
/// about 30 kernel entries before the last writer ran), and as a woken thread takes no lock there is no convoy.
/// <see cref="Monitor.Wait(object)"/> and <see cref="Monitor.PulseAll"/>, used elsewhere (one waiter per thread
/// there), go through the runtime's event layer: a monitor taken on each side, the thread's wait event registered and
/// unregistered, and the woken thread re-acquiring the monitor. Shared-machine timeline (perf sched events, 32
/// threads): with a Monitor waiter per thread the last writer was woken about 500 µs after the fsync ended (the
/// syncer's serial pulses, preempted by the threads they woke), with a futex per thread about 250 µs, with one shared
/// futex about 40 µs.</para>
/// </remarks>
internal sealed unsafe partial class WalCommitWaiter
{
    private const int Idle = 0;
    private const int Signalled = 1;
    private const int Sleeping = 2; // the waiting thread is (about to be) in FUTEX_WAIT: a signal must wake it

    /// <summary>The futex system call's number on this process's architecture (0: no futex waiter here).</summary>
    private static readonly nint FutexSyscall = !OperatingSystem.IsLinux() ? 0 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        _ => 0,
    };

    private const int FutexWaitPrivate = 0 | 128;
    private const int FutexWakePrivate = 1 | 128;
    private const int EAgain = 11;
    private const int EIntr = 4;

    private readonly bool _futex;
    private int _state; // Idle, Signalled or Sleeping; the futex word (its object pinned while a thread sleeps on it)

    /// <summary>A futex waiter where the platform has one, otherwise one on <see cref="Monitor"/>.</summary>
    public WalCommitWaiter()
        : this(useFutex: true)
    {
    }

    /// <summary>With <paramref name="useFutex"/> false, always the <see cref="Monitor"/> waiter (tests cover both).</summary>
    internal WalCommitWaiter(bool useFutex) => _futex = useFutex && FutexSyscall != 0;

    /// <summary>Whether this waiter sleeps on a futex (tests).</summary>
    internal bool UsesFutex => _futex;

    /// <summary>Blocks until <see cref="Signal"/> has been called (at once when it already has); any number of threads may wait.</summary>
    public void Wait()
    {
        if (!_futex)
        {
            WaitOnMonitor();
            return;
        }

        // fixed pins this object while the thread sleeps: the kernel keys the wait on the word's address.
        fixed (int* word = &_state)
        {
            while (true)
            {
                int seen = Interlocked.CompareExchange(ref *word, Sleeping, Idle);
                if (seen == Signalled)
                {
                    return;
                }

                // Sleeps only while the word still says Sleeping: a signal in between makes FUTEX_WAIT return EAGAIN.
                if (Native.Futex(FutexSyscall, word, FutexWaitPrivate, Sleeping, 0) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno is not (EAgain or EIntr))
                    {
                        Thread.Yield(); // never expected; the loop re-checks the word, so the wait stays exact
                    }
                }
            }
        }
    }

    /// <summary>
    /// Blocks until <see cref="Signal"/> has been called or about <paramref name="timeoutNanos"/> nanoseconds have
    /// passed, whichever comes first; returns whether it was signalled. One thread at a time may wait this way.
    /// </summary>
    public bool Wait(long timeoutNanos)
    {
        if (Volatile.Read(ref _state) == Signalled)
        {
            return true;
        }

        if (timeoutNanos <= 0)
        {
            return false;
        }

        if (!_futex)
        {
            return WaitOnMonitor(TimeSpan.FromTicks(Math.Max(1, timeoutNanos / 100)));
        }

        var timeout = new Timespec { Seconds = timeoutNanos / 1_000_000_000, Nanoseconds = timeoutNanos % 1_000_000_000 };
        fixed (int* word = &_state)
        {
            int seen = Interlocked.CompareExchange(ref *word, Sleeping, Idle);
            if (seen == Signalled)
            {
                return true;
            }

            // One sleep, relative timeout: a wake, a timeout, a signal before the sleep (EAGAIN) or an interruption
            // all end it, and the word says which.
            _ = Native.Futex(FutexSyscall, word, FutexWaitPrivate, Sleeping, (nint)(&timeout));
            return Volatile.Read(ref *word) == Signalled;
        }
    }

    /// <summary>Wakes every waiting thread (and lets later waits return at once). Idempotent.</summary>
    public void Signal()
    {
        if (!_futex)
        {
            SignalMonitor();
            return;
        }

        if (Interlocked.Exchange(ref _state, Signalled) == Sleeping)
        {
            // Every sleeper holds this object pinned until it has seen Signalled, so the address is the one they sleep
            // on; one FUTEX_WAKE wakes them all.
            fixed (int* word = &_state)
            {
                _ = Native.Futex(FutexSyscall, word, FutexWakePrivate, int.MaxValue, 0);
            }
        }
    }

    private void WaitOnMonitor()
    {
        lock (this)
        {
            while (Volatile.Read(ref _state) != Signalled)
            {
                Monitor.Wait(this);
            }
        }
    }

    private bool WaitOnMonitor(TimeSpan timeout)
    {
        lock (this)
        {
            if (Volatile.Read(ref _state) != Signalled)
            {
                _ = Monitor.Wait(this, timeout);
            }

            return Volatile.Read(ref _state) == Signalled;
        }
    }

    private void SignalMonitor()
    {
        lock (this)
        {
            Volatile.Write(ref _state, Signalled);
            Monitor.PulseAll(this);
        }
    }

    /// <summary>struct timespec on 64-bit Linux.</summary>
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private static partial class Native
    {
        /// <summary>syscall(SYS_futex, word, op, value, timeout): glibc's <c>syscall</c> passes its arguments through in registers.</summary>
        [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
        public static partial nint Futex(nint number, int* word, int op, int value, nint timeout);
    }
}

using System.Diagnostics;

namespace OxiVec.Internal;

/// <summary>
/// Tasks waiting for a position (an LSN) to reach a value, completed in LSN order when it advances: a min-heap, so
/// an advance touches only the waiters it completes, and a wait costs one <see cref="TaskCompletionSource"/>.
/// While <see cref="IsOpen"/>, every wait completes at once (a commit gate that degraded to asynchronous).
/// </summary>
/// <remarks>
/// <para>A wait may also require a second position, kept beside the first (<see cref="WaitBothAsync"/>,
/// <see cref="AdvanceSecond"/>): a commit gate's waits for the standbys' confirmation and the local fsync together,
/// woken once, by whichever comes last.</para>
/// <para>Thread safe; the tasks complete outside the lock, their continuations asynchronously.</para>
/// <para>An advance with no wait registered takes no lock (every applied write advances a position nobody usually
/// waits on): it raises the position with one compare-exchange, then looks again for waits. A wait registers under
/// the lock, publishes that it waits with a full fence, then reads the position again. One of the two sees the
/// other: the advance finds the wait and completes it under the lock, or the wait finds the position and
/// completes itself.</para>
/// </remarks>
internal sealed class LsnWaiters
{
    private readonly Lock _lock = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _heap = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _both = new(); // waits for both positions
    private readonly Func<long>? _secondNow;
    private long _reached; // raised by compare-exchange (see RaiseReached), with or without the lock; lowered only under it
    private int _waiting; // _heap.Count + _both.Count, published under the lock for the lock-free advance
    private long _second;
    private bool _open;
    private Exception? _failure;

    /// <summary>Starts with the position at <paramref name="reached"/>.</summary>
    public LsnWaiters(long reached = 0) => _reached = reached;

    /// <summary>
    /// With a second position, read from <paramref name="secondNow"/> (under this object's lock) whenever a wait for both
    /// registers, and raised by <see cref="AdvanceSecond"/>, which its owner must call after every rise it publishes:
    /// a rise published before a wait registers is read there, one after it reaches the wait through the call.
    /// </summary>
    public LsnWaiters(Func<long> secondNow, long reached = 0)
        : this(reached) => _secondNow = secondNow;

    /// <summary>The position reached so far (it only grows).</summary>
    public long Reached => Volatile.Read(ref _reached);

    /// <summary>Whether waits complete at once, whatever the position.</summary>
    public bool IsOpen
    {
        get
        {
            lock (_lock)
            {
                return _open;
            }
        }
    }

    /// <summary>Waiters not yet completed (tests).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _heap.Count + _both.Count;
            }
        }
    }

    /// <summary>Completes when the position reaches <paramref name="lsn"/> (at once when it has, or while open).</summary>
    /// <exception cref="ObjectDisposedException">Through the task: <see cref="Fail"/> was called.</exception>
    public Task WaitAsync(long lsn)
    {
        List<TaskCompletionSource>? done = null;
        TaskCompletionSource waiter;
        lock (_lock)
        {
            if (_failure is not null)
            {
                return Task.FromException(_failure);
            }

            if (lsn <= Volatile.Read(ref _reached) || _open)
            {
                return Task.CompletedTask;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _heap.Enqueue(waiter, lsn);
            PublishWaitingLocked(ref done);
        }

        done?.ForEach(w => w.TrySetResult());
        return waiter.Task;
    }

    /// <summary>
    /// Completes when the position and the second position both reach <paramref name="lsn"/>; while open, when the
    /// second alone does (an open gate waits for nothing of its own).
    /// </summary>
    /// <exception cref="InvalidOperationException">This object keeps no second position.</exception>
    public Task WaitBothAsync(long lsn)
    {
        Func<long> secondNow = _secondNow ?? throw new InvalidOperationException("These waiters keep no second position.");
        List<TaskCompletionSource>? done = null;
        TaskCompletionSource waiter;
        lock (_lock)
        {
            if (_failure is not null)
            {
                return Task.FromException(_failure);
            }

            _second = Math.Max(_second, secondNow());
            if (lsn <= _second && (lsn <= Volatile.Read(ref _reached) || _open))
            {
                return Task.CompletedTask;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _both.Enqueue(waiter, lsn);
            PublishWaitingLocked(ref done);
        }

        done?.ForEach(w => w.TrySetResult());
        return waiter.Task;
    }

    /// <summary>
    /// Raises the position to <paramref name="lsn"/> and completes the waits it reaches. A lower value changes
    /// nothing unless <paramref name="mayLower"/> (a commit gate whose synchronous set changed: waits already
    /// completed stay completed, new ones wait for the new position). A lowering advance always takes the lock; a
    /// raise racing it from another thread without the lock (none does today: the one owner that lowers advances
    /// only with <paramref name="mayLower"/>) lands before or after it, and may be read first raised, then lowered, then raised again.
    /// </summary>
    public void Advance(long lsn, bool mayLower = false)
    {
        if (!mayLower && Volatile.Read(ref _waiting) == 0)
        {
            // No wait registered: raise the position without the lock, then look again (see the remarks). The
            // compare-exchange is a full fence, so a wait that registered before it is seen by the read after it.
            RaiseReached(lsn);
            if (Volatile.Read(ref _waiting) == 0)
            {
                return;
            }
        }

        List<TaskCompletionSource>? done = null;
        lock (_lock)
        {
            if (mayLower && lsn <= Volatile.Read(ref _reached))
            {
                Volatile.Write(ref _reached, lsn); // a lower position completes nothing
                return;
            }

            // The position may already be past lsn, raised by a lock-free advance that left its waits to this one.
            long reached = RaiseReached(lsn);
            DequeueReached(_heap, reached, ref done);
            DequeueReached(_both, Math.Min(reached, _second), ref done);
            Volatile.Write(ref _waiting, _heap.Count + _both.Count);
        }

        done?.ForEach(w => w.TrySetResult());
    }

    /// <summary>Raises the position to <paramref name="lsn"/> unless it is already there or past it (never lowers it); returns the position.</summary>
    private long RaiseReached(long lsn)
    {
        long seen = Volatile.Read(ref _reached);
        while (lsn > seen)
        {
            long was = Interlocked.CompareExchange(ref _reached, lsn, seen);
            if (was == seen)
            {
                return lsn;
            }

            seen = was;
        }

        return seen;
    }

    /// <summary>
    /// After a wait was queued (under the lock): publishes the count of waits with a full fence, then reads the
    /// position again, and dequeues into <paramref name="done"/> the waits a lock-free advance raised it past meanwhile.
    /// </summary>
    private void PublishWaitingLocked(ref List<TaskCompletionSource>? done)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "waits are queued under the lock");
        Interlocked.Exchange(ref _waiting, _heap.Count + _both.Count);
        long reached = Volatile.Read(ref _reached);
        DequeueReached(_heap, _open ? long.MaxValue : reached, ref done);
        DequeueReached(_both, _open ? _second : Math.Min(reached, _second), ref done);
        if (done is not null)
        {
            Volatile.Write(ref _waiting, _heap.Count + _both.Count);
        }
    }

    /// <summary>
    /// Raises the second position to <paramref name="lsn"/> and completes the waits for both it reaches; returns how
    /// many it completed (each had its first position reached before its second).
    /// </summary>
    public int AdvanceSecond(long lsn)
    {
        List<TaskCompletionSource>? done = null;
        lock (_lock)
        {
            if (lsn <= _second)
            {
                return 0;
            }

            _second = lsn;
            DequeueReached(_both, _open ? lsn : Math.Min(lsn, Volatile.Read(ref _reached)), ref done);
            Volatile.Write(ref _waiting, _heap.Count + _both.Count);
        }

        done?.ForEach(w => w.TrySetResult());
        return done?.Count ?? 0;
    }

    /// <summary>
    /// Opens (every wait completes, those queued now; a wait for both once its second position is reached) or closes
    /// (waits wait for the position again).
    /// </summary>
    public void SetOpen(bool open)
    {
        List<TaskCompletionSource>? done = null;
        lock (_lock)
        {
            _open = open;
            if (open)
            {
                DequeueReached(_heap, long.MaxValue, ref done);
                DequeueReached(_both, _second, ref done);
                Volatile.Write(ref _waiting, _heap.Count + _both.Count);
            }
        }

        done?.ForEach(w => w.TrySetResult());
    }

    /// <summary>Fails every wait, now and later, with <paramref name="failure"/>.</summary>
    public void Fail(Exception failure)
    {
        List<TaskCompletionSource>? done = null;
        lock (_lock)
        {
            _failure ??= failure;
            DequeueReached(_heap, long.MaxValue, ref done);
            DequeueReached(_both, long.MaxValue, ref done);
            Volatile.Write(ref _waiting, 0);
        }

        done?.ForEach(w => w.TrySetException(failure));
    }

    private static void DequeueReached(PriorityQueue<TaskCompletionSource, long> heap, long lsn, ref List<TaskCompletionSource>? done)
    {
        while (heap.TryPeek(out TaskCompletionSource? waiter, out long wanted) && wanted <= lsn)
        {
            heap.Dequeue();
            (done ??= []).Add(waiter);
        }
    }
}

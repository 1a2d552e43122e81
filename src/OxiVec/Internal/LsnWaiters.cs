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
/// </remarks>
internal sealed class LsnWaiters
{
    private readonly Lock _lock = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _heap = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _both = new(); // waits for both positions
    private readonly Func<long>? _secondNow;
    private long _reached;
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
        lock (_lock)
        {
            if (_failure is not null)
            {
                return Task.FromException(_failure);
            }

            if (lsn <= _reached || _open)
            {
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _heap.Enqueue(waiter, lsn);
            return waiter.Task;
        }
    }

    /// <summary>
    /// Completes when the position and the second position both reach <paramref name="lsn"/>; while open, when the
    /// second alone does (an open gate waits for nothing of its own).
    /// </summary>
    /// <exception cref="InvalidOperationException">This object keeps no second position.</exception>
    public Task WaitBothAsync(long lsn)
    {
        Func<long> secondNow = _secondNow ?? throw new InvalidOperationException("These waiters keep no second position.");
        lock (_lock)
        {
            if (_failure is not null)
            {
                return Task.FromException(_failure);
            }

            _second = Math.Max(_second, secondNow());
            if (lsn <= _second && (lsn <= _reached || _open))
            {
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _both.Enqueue(waiter, lsn);
            return waiter.Task;
        }
    }

    /// <summary>
    /// Raises the position to <paramref name="lsn"/> and completes the waits it reaches. A lower value changes
    /// nothing unless <paramref name="mayLower"/> (a commit gate whose synchronous set changed: waits already
    /// completed stay completed, new ones wait for the new position).
    /// </summary>
    public void Advance(long lsn, bool mayLower = false)
    {
        List<TaskCompletionSource>? done = null;
        lock (_lock)
        {
            if (lsn <= _reached)
            {
                if (mayLower)
                {
                    Volatile.Write(ref _reached, lsn);
                }

                return;
            }

            Volatile.Write(ref _reached, lsn);
            DequeueReached(_heap, lsn, ref done);
            DequeueReached(_both, Math.Min(lsn, _second), ref done);
        }

        done?.ForEach(w => w.TrySetResult());
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
            DequeueReached(_both, _open ? lsn : Math.Min(lsn, _reached), ref done);
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

namespace OxiVec.Internal;

/// <summary>
/// Tasks waiting for a position (an LSN) to reach a value, completed in LSN order when it advances: a min-heap, so
/// an advance touches only the waiters it completes, and a wait costs one <see cref="TaskCompletionSource"/>.
/// While <see cref="IsOpen"/>, every wait completes at once (a commit gate that degraded to asynchronous).
/// </summary>
/// <remarks>Thread safe; the tasks complete outside the lock, their continuations asynchronously.</remarks>
internal sealed class LsnWaiters
{
    private readonly Lock _lock = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _heap = new();
    private long _reached;
    private bool _open;
    private Exception? _failure;

    /// <summary>Starts with the position at <paramref name="reached"/>.</summary>
    public LsnWaiters(long reached = 0) => _reached = reached;

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
                return _heap.Count;
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
            while (_heap.TryPeek(out TaskCompletionSource? waiter, out long wanted) && wanted <= lsn)
            {
                _heap.Dequeue();
                (done ??= []).Add(waiter);
            }
        }

        done?.ForEach(w => w.TrySetResult());
    }

    /// <summary>Opens (every wait completes, those queued now) or closes (waits wait for the position again).</summary>
    public void SetOpen(bool open)
    {
        List<TaskCompletionSource> done = [];
        lock (_lock)
        {
            _open = open;
            if (open)
            {
                while (_heap.TryDequeue(out TaskCompletionSource? waiter, out _))
                {
                    done.Add(waiter);
                }
            }
        }

        done.ForEach(w => w.TrySetResult());
    }

    /// <summary>Fails every wait, now and later, with <paramref name="failure"/>.</summary>
    public void Fail(Exception failure)
    {
        List<TaskCompletionSource> done = [];
        lock (_lock)
        {
            _failure ??= failure;
            while (_heap.TryDequeue(out TaskCompletionSource? waiter, out _))
            {
                done.Add(waiter);
            }
        }

        done.ForEach(w => w.TrySetException(failure));
    }
}

using OxiVec.Internal;

namespace OxiVec.Wal;

/// <summary>
/// One long-lived background thread of the WAL writer that runs the jobs posted to it one at a time (the sealer, the
/// spare maker, the prefault). Posting never blocks: starting a thread per job did, because <see cref="Thread.Start()"/> waits until
/// the new thread runs, which on a loaded machine took tens to hundreds of milliseconds of the inserting thread at
/// every rotation. The thread is started when the worker is made (at open), not on the write path. It runs under
/// Linux's batch policy (<see cref="BatchScheduling"/>): posting a job never takes the posting writer's core.
/// </summary>
internal sealed class WalBackgroundWorker : IDisposable
{
    private readonly object _lock = new(); // a monitor (Wait and PulseAll), not a Lock
    private readonly Queue<Action> _jobs = new();
    private readonly Thread _thread;
    private bool _running; // a job has been taken and is not finished
    private bool _stopped;
    private int _osThreadId = -1;

    /// <summary>Starts the worker's thread, named <paramref name="name"/>.</summary>
    public WalBackgroundWorker(string name)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>The worker thread's kernel thread id once it has started (Linux; -1 before, or elsewhere), for tests.</summary>
    internal int OsThreadId => Volatile.Read(ref _osThreadId);

    /// <summary>Whether the calling thread is this worker's (a job must not wait for itself).</summary>
    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <summary>
    /// Queues <paramref name="job"/> without waiting. A job must catch its own failures: one that escapes would end
    /// the process, as any exception on a thread of its own does.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The worker was stopped.</exception>
    public void Post(Action job)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            _jobs.Enqueue(job);
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Waits until every job posted so far has finished (returns at once on the worker's own thread).</summary>
    public void WaitIdle()
    {
        if (IsCurrentThread)
        {
            return;
        }

        lock (_lock)
        {
            while (_running || _jobs.Count > 0)
            {
                Monitor.Wait(_lock);
            }
        }
    }

    /// <summary>Lets the jobs already posted finish, then ends the thread.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            Monitor.PulseAll(_lock);
        }

        if (!IsCurrentThread)
        {
            _thread.Join();
        }
    }

    private void Run()
    {
        BatchScheduling.TryApplyToCurrentThread();
        Volatile.Write(ref _osThreadId, BatchScheduling.CurrentOsThreadId());
        while (true)
        {
            Action job;
            lock (_lock)
            {
                while (_jobs.Count == 0 && !_stopped)
                {
                    Monitor.Wait(_lock);
                }

                if (_jobs.Count == 0)
                {
                    return; // stopped, nothing left
                }

                job = _jobs.Dequeue();
                _running = true;
            }

            try
            {
                job();
            }
            finally
            {
                lock (_lock)
                {
                    _running = false;
                    Monitor.PulseAll(_lock);
                }
            }
        }
    }
}

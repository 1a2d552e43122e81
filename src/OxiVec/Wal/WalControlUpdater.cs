namespace OxiVec.Wal;

/// <summary>
/// Keeps the control file up to date with the writer's durable point, cheaply and off the commit path: after an
/// fsync of the log a one-shot timer writes the newest point on a pool thread, at once when the previous control
/// write is at least <see cref="MinInterval"/> old, else when the interval is over. So with an fsync per commit the
/// control file costs at most one small fdatasync per interval (not one per commit) and never delays a committer;
/// with an interval sync policy (rare fsyncs) each fsync is recorded. Control writes (each a write and an fdatasync)
/// are serialised: never two fsyncs in flight on the control file's handle.
/// </summary>
internal sealed class WalControlUpdater : IDisposable
{
    /// <summary>The least time between two control writes, except at close and at checkpoints.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(100);

    private readonly WalControlFile _file;
    private readonly TimeProvider _time;
    private readonly Action<Exception> _failed;
    private readonly Action<TimeSpan>? _onWritten;
    private readonly Lock _io = new();     // one control write at a time
    private readonly Lock _state = new();  // the fields below
    private readonly ITimer _timer;
    private WalDurablePoint _newest;
    private WalDurablePoint _written;
    private long _lastWriteTimestamp;
    private bool _timerArmed;
    private bool _closed;
    private bool _syncFailed;

    /// <param name="file">The open control file, already holding <paramref name="initial"/>; owned by the updater.</param>
    /// <param name="initial">The point the control file holds.</param>
    /// <param name="time">The clock for the rate limit.</param>
    /// <param name="failed">Called when a control write from the timer fails (the WAL must then fail).</param>
    /// <param name="written">Called with the duration of every control write that succeeded (metrics), or null.</param>
    public WalControlUpdater(WalControlFile file, WalDurablePoint initial, TimeProvider time, Action<Exception> failed, Action<TimeSpan>? written = null)
    {
        _file = file;
        _time = time;
        _failed = failed;
        _onWritten = written;
        _newest = _written = initial;
        _lastWriteTimestamp = time.GetTimestamp();
        _timer = time.CreateTimer(static self => ((WalControlUpdater)self!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The point the control file holds now (what has been written and fdatasynced).</summary>
    public WalDurablePoint Written
    {
        get
        {
            lock (_state)
            {
                return _written;
            }
        }
    }

    /// <summary>
    /// Called after an fsync of the log made everything up to <paramref name="point"/> durable. Never does I/O on the
    /// caller's thread (a committer's): the timer writes the control file at once on a pool thread, or when
    /// <see cref="MinInterval"/> has passed since the previous control write.
    /// </summary>
    public void Synced(WalDurablePoint point)
    {
        lock (_state)
        {
            if (_closed || _syncFailed || point.Lsn <= _newest.Lsn)
            {
                return;
            }

            _newest = point;
            ArmTimerLocked();
        }
    }

    /// <summary>Writes the newest point now, whatever the rate limit (checkpoints).</summary>
    public void WriteNow()
    {
        lock (_io)
        {
            WriteNewestLocked();
        }
    }

    /// <summary>
    /// Best effort, after an fsync of the log failed: marks the control file so that a reopen in the same boot does
    /// not trust page-cache bytes past the known-durable point. Errors are ignored: the WAL has failed already, and the
    /// other slot still holds the last good point.
    /// </summary>
    public void RecordSyncFailure()
    {
        lock (_io)
        {
            WalDurablePoint written;
            lock (_state)
            {
                if (_closed || _syncFailed)
                {
                    return;
                }

                _syncFailed = true;
                written = _written;
            }

            try
            {
                _file.Write(new WalControlState(written, SyncFailed: true));
            }
            catch (IOException)
            {
                // Best effort (see the summary): the failure that matters is already reported.
            }
        }
    }

    /// <summary>
    /// At a clean close (after the final fsync): records <paramref name="final"/> when given (null after a failure) and
    /// closes the file. No control write happens after this returns.
    /// </summary>
    public void Close(WalDurablePoint? final)
    {
        lock (_io)
        {
            lock (_state)
            {
                if (_closed)
                {
                    return;
                }

                if (final is { } point && !_syncFailed && point.Lsn >= _newest.Lsn)
                {
                    _newest = point;
                }
            }

            try
            {
                if (final is not null)
                {
                    WriteNewestLocked();
                }
            }
            finally
            {
                lock (_state)
                {
                    _closed = true;
                }

                _timer.Dispose();
                _file.Dispose();
            }
        }
    }

    public void Dispose() => Close(null);

    private void WriteNewestLocked()
    {
        WalDurablePoint target;
        lock (_state)
        {
            if (_closed || _syncFailed || _newest == _written)
            {
                return;
            }

            target = _newest;
        }

        long start = _time.GetTimestamp();
        _file.Write(new WalControlState(target, SyncFailed: false));
        long end = _time.GetTimestamp();
        lock (_state)
        {
            _written = target;
            _lastWriteTimestamp = end;
        }

        _onWritten?.Invoke(_time.GetElapsedTime(start, end));
    }

    private void ArmTimerLocked()
    {
        if (_timerArmed || _closed)
        {
            return;
        }

        _timerArmed = true;
        TimeSpan due = MinInterval - _time.GetElapsedTime(_lastWriteTimestamp);
        _timer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        try
        {
            lock (_io)
            {
                lock (_state)
                {
                    _timerArmed = false;
                }

                WriteNewestLocked();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            _failed(ex);
        }
    }
}

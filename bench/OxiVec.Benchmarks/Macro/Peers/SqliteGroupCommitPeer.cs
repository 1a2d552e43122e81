using Microsoft.Data.Sqlite;

namespace OxiVec.Benchmarks.Macro.Peers;

/// <summary>
/// SQLite in WAL mode with application-level group commit, the way an application gets SQLite's best durable
/// write rate: one connection and one committer thread; writers enqueue their records and wait; the committer takes
/// everything queued, inserts it in one transaction (<c>BEGIN IMMEDIATE</c> … <c>COMMIT</c>, one fsync of the -wal
/// file with <c>synchronous=FULL</c>), then acknowledges every writer it covered. Same table and rows as
/// <see cref="SqlitePeer"/>, whose connection-per-writer layout (writers sleeping in SQLite's busy handler) stays
/// as a secondary row.
/// </summary>
internal sealed class SqliteGroupCommitPeer : IPeerLog
{
    private readonly SqlitePeer _sqlite;
    private readonly Thread _committer;
    private readonly object _gate = new();
    private List<IReadOnlyList<byte[]>> _queue = [];
    private long _enqueued;
    private long _committed;
    private bool _stopping;
    private Exception? _failure;

    /// <param name="dir">An empty directory for the database and its -wal and -shm files.</param>
    /// <param name="fullSync">True: <c>synchronous=FULL</c>; false: <c>synchronous=NORMAL</c>.</param>
    public SqliteGroupCommitPeer(string dir, bool fullSync)
    {
        _sqlite = new SqlitePeer(dir, writers: 1, fullSync);
        _committer = new Thread(CommitLoop) { IsBackground = true, Name = "bench-sqlite-group-commit" };
        _committer.Start();
    }

    public void Commit(int writer, byte[] record) => Wait(Enqueue([(byte[])record.Clone()]));

    public void CommitBatch(int writer, IReadOnlyList<byte[]> records) => Wait(Enqueue([.. records.Select(r => (byte[])r.Clone())]));

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        _committer.Join();
        _sqlite.Dispose();
    }

    private long Enqueue(IReadOnlyList<byte[]> records)
    {
        lock (_gate)
        {
            _queue.Add(records);
            Monitor.PulseAll(_gate);
            return ++_enqueued;
        }
    }

    private void Wait(long ticket)
    {
        lock (_gate)
        {
            while (_committed < ticket && _failure is null)
            {
                _ = Monitor.Wait(_gate);
            }

            if (_committed < ticket)
            {
                throw new InvalidOperationException("the SQLite group committer failed", _failure);
            }
        }
    }

    private void CommitLoop()
    {
        while (true)
        {
            List<IReadOnlyList<byte[]>> batch;
            long last;
            lock (_gate)
            {
                while (_queue.Count == 0 && !_stopping)
                {
                    _ = Monitor.Wait(_gate);
                }

                if (_queue.Count == 0)
                {
                    return;
                }

                batch = _queue;
                _queue = [];
                last = _enqueued;
            }

            try
            {
                _sqlite.CommitGroup(batch);
            }
#pragma warning disable CA1031 // handed to every waiting writer, which throws it
            catch (Exception ex)
#pragma warning restore CA1031
            {
                lock (_gate)
                {
                    _failure = ex;
                    Monitor.PulseAll(_gate);
                }

                return;
            }

            lock (_gate)
            {
                _committed = last;
                Monitor.PulseAll(_gate);
            }
        }
    }
}

namespace OxiVec.ClusterTests.History;

/// <summary>A write a client attempted: point <paramref name="Id"/> with payload <paramref name="Value"/>, sent at <paramref name="StartedAt"/> (test clock).</summary>
public sealed record WriteAttempt(long Id, string Value, TimeSpan StartedAt);

/// <summary>
/// An acknowledged write: the node that answered 200, the epoch it reported (0 when unknown), the commit LSN, and when
/// the request was sent and the answer received (the test's monotonic clock).
/// </summary>
public sealed record WriteAck(long Id, string Value, string Node, long Epoch, long Lsn, TimeSpan StartedAt, TimeSpan AckedAt);

/// <summary>
/// The client history of a run: every attempted write, and the acknowledged ones. Writers record from several threads;
/// each id is written at most once (never retried with another value), so an unanswered write is indeterminate:
/// present or absent, but if present with its value.
/// </summary>
public sealed class WriteHistory
{
    private readonly Lock _sync = new();
    private readonly Dictionary<long, WriteAttempt> _attempts = [];
    private readonly Dictionary<long, WriteAck> _acks = [];
    private readonly List<(Func<WriteAck, bool> Match, TaskCompletionSource<WriteAck> Done)> _waiters = [];

    /// <summary>Records that the write was sent; an id may be sent only once.</summary>
    public void Attempted(WriteAttempt attempt)
    {
        lock (_sync)
        {
            if (!_attempts.TryAdd(attempt.Id, attempt))
            {
                throw new InvalidOperationException($"id {attempt.Id} was attempted twice: the history needs unique ids.");
            }
        }
    }

    /// <summary>Records an acknowledgement of an attempted write.</summary>
    public void Acknowledged(WriteAck ack)
    {
        lock (_sync)
        {
            if (!_attempts.TryGetValue(ack.Id, out WriteAttempt? attempt) || attempt.Value != ack.Value)
            {
                throw new InvalidOperationException($"id {ack.Id} was acknowledged without being attempted with value '{ack.Value}'.");
            }

            if (!_acks.TryAdd(ack.Id, ack))
            {
                throw new InvalidOperationException($"id {ack.Id} was acknowledged twice.");
            }

            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(ack))
                {
                    _waiters[i].Done.TrySetResult(ack);
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>The first acknowledgement (recorded already, or to come) that <paramref name="match"/> accepts; fails after <paramref name="patience"/>.</summary>
    public async Task<WriteAck> WaitForAckAsync(Func<WriteAck, bool> match, TimeSpan patience, string what)
    {
        var done = new TaskCompletionSource<WriteAck>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_sync)
        {
            if (_acks.Values.Where(match).OrderBy(a => a.AckedAt).FirstOrDefault() is { } already)
            {
                return already;
            }

            _waiters.Add((match, done));
        }

        try
        {
            return await done.Task.WaitAsync(patience);
        }
        catch (TimeoutException)
        {
            lock (_sync)
            {
                _waiters.RemoveAll(w => w.Done == done);
            }

            throw new TimeoutException($"no acknowledgement {what} within {patience.TotalSeconds} s ({AckCount} acknowledged in all).");
        }
    }

    /// <summary>A consistent copy: every attempt and every acknowledgement so far.</summary>
    public (IReadOnlyList<WriteAttempt> Attempts, IReadOnlyList<WriteAck> Acks) Snapshot()
    {
        lock (_sync)
        {
            return ([.. _attempts.Values.OrderBy(a => a.Id)], [.. _acks.Values.OrderBy(a => a.AckedAt)]);
        }
    }

    /// <summary>How many writes were acknowledged so far.</summary>
    public int AckCount
    {
        get
        {
            lock (_sync)
            {
                return _acks.Count;
            }
        }
    }
}

using System.Diagnostics;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Striped reader-writer locks over (collection, point id), held by every point write of the Qdrant API from before it
/// reads the points it changes until its transaction is applied. Qdrant's payload operations are read-modify-write of
/// whole records here (the engine writes records, not payload fields), so one of them and any other write to the same
/// point must not interleave: read-modify-writes take their stripes exclusively; blind writes (upserts, which read
/// nothing) take them shared, so concurrent upserts still commit together in one group fsync.
/// </summary>
/// <remarks>
/// A request takes all its stripes in ascending order, so two requests never wait for each other in a cycle. Each
/// stripe grants in arrival order (a waiting exclusive request holds back later shared ones), so neither kind starves.
/// </remarks>
internal sealed class PointLocks
{
    private readonly Stripe[] _stripes;

    /// <summary>Creates <paramref name="stripes"/> stripes (a power of two).</summary>
    public PointLocks(int stripes = 4096)
    {
        if (stripes < 1 || (stripes & (stripes - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(stripes), stripes, "The number of stripes is a power of two.");
        }

        _stripes = new Stripe[stripes];
        for (int i = 0; i < stripes; i++)
        {
            _stripes[i] = new Stripe();
        }
    }

    /// <summary>Takes the stripes of <paramref name="ids"/> in <paramref name="collection"/>; disposing the result releases them.</summary>
    public async Task<Held> AcquireAsync(string collection, IEnumerable<string> ids, bool exclusive, CancellationToken cancellationToken)
    {
        int mask = _stripes.Length - 1;
        int[] order = [.. ids.Select(id => HashCode.Combine(StringComparer.Ordinal.GetHashCode(collection), StringComparer.Ordinal.GetHashCode(id)) & mask).Distinct().Order()];
        int taken = 0;
        try
        {
            foreach (int stripe in order)
            {
                await _stripes[stripe].EnterAsync(exclusive, cancellationToken).ConfigureAwait(false);
                taken++;
            }
        }
        catch
        {
            for (int i = 0; i < taken; i++)
            {
                _stripes[order[i]].Exit(exclusive);
            }

            throw;
        }

        return new Held(this, order, exclusive);
    }

    /// <summary>Stripes held by one request.</summary>
    public sealed class Held : IDisposable
    {
        private readonly PointLocks _owner;
        private readonly int[] _stripes;
        private readonly bool _exclusive;
        private int _released;

        internal Held(PointLocks owner, int[] stripes, bool exclusive)
        {
            _owner = owner;
            _stripes = stripes;
            _exclusive = exclusive;
        }

        /// <summary>Releases the stripes (once).</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            foreach (int stripe in _stripes)
            {
                _owner._stripes[stripe].Exit(_exclusive);
            }
        }
    }

    /// <summary>One reader-writer lock that grants in arrival order.</summary>
    private sealed class Stripe
    {
        private readonly Lock _gate = new();
        private readonly LinkedList<Waiter> _waiting = new(); // guarded by _gate
        private int _readers; // guarded by _gate
        private bool _writer; // guarded by _gate

        public Task EnterAsync(bool exclusive, CancellationToken cancellationToken)
        {
            Waiter waiter;
            LinkedListNode<Waiter> node;
            lock (_gate)
            {
                if (_waiting.Count == 0 && CanGrantLocked(exclusive))
                {
                    GrantLocked(exclusive);
                    return Task.CompletedTask;
                }

                cancellationToken.ThrowIfCancellationRequested();
                waiter = new Waiter(exclusive);
                node = _waiting.AddLast(waiter);
            }

            if (cancellationToken.CanBeCanceled)
            {
                // Registered outside the gate (a token cancelled meanwhile runs Cancel at once, which takes the gate).
                CancellationTokenRegistration registration = cancellationToken.Register(() => Cancel(node, cancellationToken));
                lock (_gate)
                {
                    if (node.List is null)
                    {
                        registration.Unregister(); // granted or cancelled meanwhile
                    }
                    else
                    {
                        waiter.Registration = registration;
                    }
                }
            }

            return waiter.Granted.Task;
        }

        public void Exit(bool exclusive)
        {
            lock (_gate)
            {
                if (exclusive)
                {
                    Debug.Assert(_writer, "an exclusive holder releases a stripe it holds");
                    _writer = false;
                }
                else
                {
                    Debug.Assert(_readers > 0, "a shared holder releases a stripe it holds");
                    _readers--;
                }

                GrantWaitingLocked();
            }
        }

        private void Cancel(LinkedListNode<Waiter> node, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                if (node.List is null)
                {
                    return; // granted already: the holder releases it
                }

                _waiting.Remove(node);
                node.Value.Granted.TrySetCanceled(cancellationToken);
                GrantWaitingLocked(); // a cancelled exclusive waiter may have held back shared ones
            }
        }

        private bool CanGrantLocked(bool exclusive) => exclusive ? !_writer && _readers == 0 : !_writer;

        private void GrantLocked(bool exclusive)
        {
            if (exclusive)
            {
                _writer = true;
            }
            else
            {
                _readers++;
            }
        }

        private void GrantWaitingLocked()
        {
            while (_waiting.First is { } first && CanGrantLocked(first.Value.Exclusive))
            {
                _waiting.RemoveFirst();
                GrantLocked(first.Value.Exclusive);
                first.Value.Registration.Unregister(); // never Dispose under the gate: it waits for a running Cancel, which waits for the gate
                first.Value.Granted.TrySetResult();
            }
        }
    }

    private sealed class Waiter(bool exclusive)
    {
        public bool Exclusive { get; } = exclusive;

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Guarded by the stripe's gate.</summary>
        public CancellationTokenRegistration Registration { get; set; }
    }
}

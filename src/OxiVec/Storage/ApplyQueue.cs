namespace OxiVec.Storage;

/// <summary>
/// Logged writes not yet applied, in LSN order: writers enqueue (under the database's write lock), the apply step
/// peeks and dequeues (under its apply lock). A short lock of its own guards the queue.
/// </summary>
/// <remarks>
/// Not a <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>: peeking at one marks its segment as never
/// reusable, so the apply step's peek before every apply made the queue allocate fresh segments forever (up to
/// 1 Mi slots, a 16-24 MiB array, on some writer's thread every million writes). This one reuses its ring buffer and
/// holds items as structs: nothing is allocated per write once it has grown to the backlog it sees.
/// </remarks>
internal sealed class ApplyQueue
{
    private readonly Lock _lock = new();
    private readonly Queue<PendingApply> _items = new();

    /// <summary>Appends <paramref name="item"/> (its LSN is above every LSN queued).</summary>
    public void Enqueue(PendingApply item)
    {
        lock (_lock)
        {
            _items.Enqueue(item);
        }
    }

    /// <summary>The oldest item, when there is one.</summary>
    public bool TryPeek(out PendingApply item)
    {
        lock (_lock)
        {
            return _items.TryPeek(out item);
        }
    }

    /// <summary>Removes the oldest item (the one <see cref="TryPeek"/> returned; the caller is the only one dequeuing).</summary>
    public void Dequeue()
    {
        lock (_lock)
        {
            _items.Dequeue();
        }
    }
}

namespace OxiVec.Storage;

/// <summary>
/// Logged writes not yet applied, in LSN order: writers enqueue (under the database's write lock, so one at a time),
/// the apply step peeks and dequeues (under its apply lock, so one at a time). A single-producer, single-consumer
/// ring with no lock of its own: a write used to take a lock here three times (enqueue, peek, dequeue).
/// </summary>
/// <remarks>
/// <para>Not a <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>: peeking at one marks its segment as
/// never reusable, so the apply step's peek before every apply made the queue allocate fresh segments forever (up to
/// 1 Mi slots, a 16-24 MiB array, on some writer's thread every million writes). This one reuses its ring and holds
/// items as structs: nothing is allocated per write once it has grown to the backlog it sees.</para>
/// <para>Positions are absolute (item <c>i</c> lives at <c>i &amp; (length - 1)</c> of the ring). The producer stores
/// the item, then publishes the tail (volatile); the consumer reads the tail (volatile), then the ring and the item.
/// A full ring is replaced by one twice as long holding every item from the head on, published before the item that
/// needed the room: an item the consumer can see is in whichever ring it reads. The producer never writes a slot the
/// consumer may still read (it grows when the ring is full by a head it read, at most the real head), and what the
/// consumer clears after a dequeue is a slot no one reads again.</para>
/// </remarks>
internal sealed class ApplyQueue
{
    private PendingApply[] _items = new PendingApply[16];
    private long _head; // the next item to dequeue: written by the consumer only, with Volatile
    private long _tail; // the next position to fill: written by the producer only, with Volatile

    /// <summary>Items queued (tests; approximate while the queue is in use).</summary>
    public int Count => (int)(Volatile.Read(ref _tail) - Volatile.Read(ref _head));

    /// <summary>Appends <paramref name="item"/> (its LSN is above every LSN queued). Callers are serialised (the write lock).</summary>
    public void Enqueue(PendingApply item)
    {
        long tail = _tail;
        PendingApply[] items = _items;
        if (tail - Volatile.Read(ref _head) >= items.Length)
        {
            items = Grow(items, tail);
        }

        items[tail & (items.Length - 1)] = item;
        Volatile.Write(ref _tail, tail + 1);
    }

    /// <summary>The oldest item, when there is one. Callers are serialised with <see cref="Dequeue"/> (the apply lock).</summary>
    public bool TryPeek(out PendingApply item)
    {
        long head = _head;
        if (head == Volatile.Read(ref _tail))
        {
            item = default;
            return false;
        }

        PendingApply[] items = Volatile.Read(ref _items);
        item = items[head & (items.Length - 1)];
        return true;
    }

    /// <summary>Removes the oldest item (the one <see cref="TryPeek"/> returned; the caller is the only one dequeuing).</summary>
    public void Dequeue()
    {
        long head = _head;
        if (head == Volatile.Read(ref _tail))
        {
            throw new InvalidOperationException("The apply queue is empty.");
        }

        PendingApply[] items = Volatile.Read(ref _items);
        items[head & (items.Length - 1)] = default; // what it held (a lent vector, operations) is not kept alive by the ring
        Volatile.Write(ref _head, head + 1);
    }

    /// <summary>A ring twice as long holding the items from the head on; published before the tail moves past them.</summary>
    private PendingApply[] Grow(PendingApply[] items, long tail)
    {
        var grown = new PendingApply[items.Length * 2];
        // The head may move on while this copies: an item dequeued meanwhile is copied too and never read again.
        for (long i = Volatile.Read(ref _head); i < tail; i++)
        {
            grown[i & (grown.Length - 1)] = items[i & (items.Length - 1)];
        }

        Volatile.Write(ref _items, grown);
        return grown;
    }
}

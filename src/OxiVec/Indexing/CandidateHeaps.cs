using System.Runtime.CompilerServices;

namespace OxiVec.Indexing;

/// <summary>A binary min-heap of candidates by distance (closest on top). Reusable: <see cref="Clear"/> keeps the buffer.</summary>
internal sealed class MinCandidateHeap
{
    private Candidate[] _items = new Candidate[64];

    public int Count { get; private set; }

    public Candidate Top => _items[0];

    public void Clear() => Count = 0;

    public void Push(Candidate item)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        Candidate[] items = _items;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (items[parent].Distance <= item.Distance)
            {
                break;
            }

            items[i] = items[parent];
            i = parent;
        }

        items[i] = item;
    }

    public Candidate Pop()
    {
        Candidate[] items = _items;
        Candidate top = items[0];
        int count = --Count;
        if (count > 0)
        {
            Candidate last = items[count];
            int i = 0;
            while (true)
            {
                int child = (2 * i) + 1;
                if (child >= count)
                {
                    break;
                }

                if (child + 1 < count && items[child + 1].Distance < items[child].Distance)
                {
                    child++;
                }

                if (last.Distance <= items[child].Distance)
                {
                    break;
                }

                items[i] = items[child];
                i = child;
            }

            items[i] = last;
        }

        return top;
    }
}

/// <summary>
/// A binary max-heap of candidates by distance (farthest on top), used as a bounded best-k set. Reusable:
/// <see cref="Clear"/> keeps the buffer.
/// </summary>
internal sealed class MaxCandidateHeap
{
    private Candidate[] _items = new Candidate[64];

    public int Count { get; private set; }

    public Candidate Top => _items[0];

    public void Clear() => Count = 0;

    /// <summary>Adds <paramref name="item"/> and drops the farthest element when more than <paramref name="bound"/> are held.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushBounded(Candidate item, int bound)
    {
        if (Count < bound)
        {
            Push(item);
        }
        else if (item.Distance < _items[0].Distance)
        {
            ReplaceTop(item);
        }
    }

    public void Push(Candidate item)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        Candidate[] items = _items;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (items[parent].Distance >= item.Distance)
            {
                break;
            }

            items[i] = items[parent];
            i = parent;
        }

        items[i] = item;
    }

    public Candidate Pop()
    {
        Candidate top = _items[0];
        int count = --Count;
        if (count > 0)
        {
            SiftDown(_items[count], count);
        }

        return top;
    }

    public void ReplaceTop(Candidate item) => SiftDown(item, Count);

    /// <summary>Empties the heap into <paramref name="destination"/> in ascending distance order.</summary>
    public void DrainAscending(Span<Candidate> destination)
    {
        for (int i = Count - 1; i >= 0; i--)
        {
            destination[i] = Pop();
        }
    }

    private void SiftDown(Candidate item, int count)
    {
        Candidate[] items = _items;
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && items[child + 1].Distance > items[child].Distance)
            {
                child++;
            }

            if (item.Distance >= items[child].Distance)
            {
                break;
            }

            items[i] = items[child];
            i = child;
        }

        items[i] = item;
    }
}

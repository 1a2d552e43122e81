namespace OxiVec.Indexing;

/// <summary>
/// A small lock-free pool of reusable objects owned by one index instance (no static state). When empty it
/// creates a new object; when full it drops the returned one.
/// </summary>
/// <remarks>
/// Each thread tries a slot of its own first (its managed thread id modulo the size), for renting and returning,
/// so a thread that works repeatedly (a writer adding nodes, a searcher) keeps getting back the object it used last,
/// whose memory (visited marks, heaps) is still in its core's cache. Taking whichever object was returned last
/// instead hands each thread the other's working set in turn, and every line of it then moves between cores.
/// </remarks>
internal sealed class InstancePool<T>
    where T : class
{
    private readonly T?[] _items;
    private readonly Func<T> _factory;

    public InstancePool(Func<T> factory, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        _factory = factory;
        _items = new T?[size];
    }

    public T Rent()
    {
        T?[] items = _items;
        int home = Home(items.Length);
        for (int i = 0; i < items.Length; i++)
        {
            int slot = home + i < items.Length ? home + i : home + i - items.Length;
            T? item = Interlocked.Exchange(ref items[slot], null);
            if (item is not null)
            {
                return item;
            }
        }

        return _factory();
    }

    public void Return(T item)
    {
        T?[] items = _items;
        int home = Home(items.Length);
        for (int i = 0; i < items.Length; i++)
        {
            int slot = home + i < items.Length ? home + i : home + i - items.Length;
            if (Interlocked.CompareExchange(ref items[slot], item, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>The calling thread's own slot.</summary>
    private static int Home(int size) => (int)((uint)Environment.CurrentManagedThreadId % (uint)size);
}

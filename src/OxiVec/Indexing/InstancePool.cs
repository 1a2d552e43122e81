namespace OxiVec.Indexing;

/// <summary>
/// A small lock-free pool of reusable objects owned by one index instance (no static state). When empty it
/// creates a new object; when full it drops the returned one.
/// </summary>
internal sealed class InstancePool<T>
    where T : class
{
    private readonly T?[] _items;
    private readonly Func<T> _factory;

    public InstancePool(Func<T> factory, int size)
    {
        _factory = factory;
        _items = new T?[size];
    }

    public T Rent()
    {
        T?[] items = _items;
        for (int i = 0; i < items.Length; i++)
        {
            T? item = Interlocked.Exchange(ref items[i], null);
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
        for (int i = 0; i < items.Length; i++)
        {
            if (Interlocked.CompareExchange(ref items[i], item, null) is null)
            {
                return;
            }
        }
    }
}

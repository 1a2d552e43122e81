namespace OxiVec.Indexing;

/// <summary>
/// A consistent, immutable view of an index taken by <see cref="IVectorIndex.CaptureSnapshot"/>, written out later
/// (by any thread, while the index keeps changing) with <see cref="WriteTo"/> in the format of
/// <see cref="VectorIndexSnapshot"/>. Dispose it when done: while a view is alive the index may keep state for it.
/// </summary>
public abstract class IndexSnapshotView : IDisposable
{
    /// <summary>The number of live vectors the view holds.</summary>
    public abstract int Count { get; }

    /// <summary>
    /// Writes the snapshot of the captured state to <paramref name="destination"/>, sequentially (the stream need not
    /// be seekable), without holding any lock writers wait for. The stream is neither flushed nor closed.
    /// </summary>
    /// <param name="destination">A writable stream.</param>
    /// <exception cref="ObjectDisposedException">The view was disposed.</exception>
    public abstract void WriteTo(Stream destination);

    /// <summary>Releases what the view holds.</summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the view holds.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }
}

namespace OxiVec.Indexing;

/// <summary>
/// The copy-on-write bookkeeping one index shares with its chunked stores: a capture generation, bumped by every
/// snapshot capture, and the number of snapshot views still alive. A chunk created (or last copied) in an earlier
/// generation than the current one may be shared with a live view, so a writer copies it before changing it
/// (see <see cref="ChunkedStore{T}.Write"/>); with no live view nothing is copied.
/// </summary>
/// <remarks>
/// <see cref="BeginCapture(int)"/> runs while the index excludes every writer; <see cref="EndView"/> may run on any
/// thread at any time (disposing a view): a writer that still sees the view alive merely copies a chunk it did not
/// have to.
/// </remarks>
internal sealed class SnapshotEpoch
{
    private int _generation;
    private int _liveViews;
    private int _viewEnd;

    /// <summary>The generation of the latest capture (0 before any).</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>Whether some captured view has not been disposed yet.</summary>
    public bool HasLiveViews => Volatile.Read(ref _liveViews) > 0;

    /// <summary>
    /// No live view reads an item at or above this slot: the highest <c>readEnd</c> of the captures so far (a view
    /// captured without one reads every item). Never lowered, so it covers every view still alive.
    /// </summary>
    public int ViewEnd => Volatile.Read(ref _viewEnd);

    /// <summary>Starts a new generation for a view being captured; every existing chunk becomes shared.</summary>
    public void BeginCapture() => BeginCapture(int.MaxValue);

    /// <summary>
    /// Starts a new generation for a view that reads no item at or above <paramref name="readEnd"/> (every item
    /// below it in an existing chunk becomes shared); the caller excludes writers.
    /// </summary>
    public void BeginCapture(int readEnd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(readEnd);
        Volatile.Write(ref _viewEnd, Math.Max(_viewEnd, readEnd));
        Interlocked.Increment(ref _liveViews);
        Interlocked.Increment(ref _generation);
    }

    /// <summary>A view was disposed.</summary>
    public void EndView() => Interlocked.Decrement(ref _liveViews);

    /// <summary>
    /// Whether something created (or last copied) in <paramref name="generation"/> must be copied before a write:
    /// a view is alive and was captured after it. Check <see cref="HasLiveViews"/> first where reading the
    /// generation itself is not free.
    /// </summary>
    public bool MustCopy(int generation) => HasLiveViews && generation < Generation;

    /// <summary>
    /// Whether a chunk of <paramref name="generation"/> must be copied before <paramref name="item"/> in it changes:
    /// <see cref="MustCopy(int)"/>, and some live view may read the item (below <see cref="ViewEnd"/>).
    /// </summary>
    public bool MustCopy(int generation, int item) => item < ViewEnd && MustCopy(generation);
}

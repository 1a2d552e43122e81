namespace OxiVec.Indexing;

/// <summary>
/// An in-memory index of fixed-dimension vectors addressed by dense, caller-assigned integer ids (slots).
/// </summary>
/// <remarks>
/// <para>
/// Ids are slots: small non-negative integers the caller allocates densely (storage grows to the highest id).
/// After <see cref="Remove"/> an id is gone from results at once, but its slot may still be used internally
/// (an approximate index keeps deleted nodes for navigation until it compacts). An id can be added again only
/// once the index has released it: <see cref="TakeReleasedIds"/> reports released ids, which the caller may
/// reuse in any order.
/// </para>
/// <para>
/// Every method validates all its arguments before changing anything: an exception leaves the index as it was.
/// </para>
/// <para>
/// Implementations are thread-safe, and searches never wait for a mutation nor a mutation for a search. A search
/// concurrent with a mutation may see part of it, but: it never returns an id twice; it never returns an id whose
/// <see cref="Remove"/> returned before the search started; it can find every id whose <see cref="Add"/> returned
/// before it started; it returns <c>min(k, matches)</c> results when no mutation runs during it; and it never
/// throws because of a concurrent mutation. Mutations may serialise among themselves (see each implementation).
/// A caller that reuses a released id while searches that began before the id's removal are still running may
/// have those searches return the new vector under it; the index stays memory-safe whatever the interleaving.
/// </para>
/// </remarks>
public interface IVectorIndex : IDisposable
{
    /// <summary>The number of components of every vector.</summary>
    int Dimension { get; }

    /// <summary>The distance the index orders results by.</summary>
    DistanceMetric Metric { get; }

    /// <summary>The number of live (added and not removed) vectors.</summary>
    int Count { get; }

    /// <summary>Adds a vector under a new id.</summary>
    /// <param name="id">A non-negative id not live and not awaiting release.</param>
    /// <param name="vector">The vector: <see cref="Dimension"/> finite components (non-zero for cosine).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is negative.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="vector"/> has the wrong dimension, a NaN or infinite component, or (cosine) zero length.
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// <paramref name="id"/> is live, or was removed but not yet released (see <see cref="TakeReleasedIds"/>).
    /// </exception>
    void Add(int id, ReadOnlySpan<float> vector);

    /// <summary>Removes a live vector; it is never returned by a search that starts after this returns.</summary>
    /// <param name="id">A live id.</param>
    /// <exception cref="KeyNotFoundException"><paramref name="id"/> is not live (never added, or removed).</exception>
    void Remove(int id);

    /// <summary>
    /// Whether <see cref="CopyVector"/> returns every vector bit for bit as it was given to <see cref="Add"/>: true
    /// for <see cref="DistanceMetric.Euclidean"/> and <see cref="DistanceMetric.DotProduct"/>; false for
    /// <see cref="DistanceMetric.Cosine"/>, whose vectors are held scaled to unit length.
    /// </summary>
    bool HoldsVectorsAsGiven { get; }

    /// <summary>
    /// Copies the vector of a live id as the index holds it (see <see cref="HoldsVectorsAsGiven"/>), also after a
    /// snapshot round trip, so a caller may keep no copy of its own. Safe alongside searches and mutations of other
    /// ids; the caller orders it with the id's own <see cref="Remove"/> and reuse.
    /// </summary>
    /// <param name="id">A live id.</param>
    /// <param name="destination">Exactly <see cref="Dimension"/> floats.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not have <see cref="Dimension"/> floats.</exception>
    /// <exception cref="KeyNotFoundException"><paramref name="id"/> is not live.</exception>
    void CopyVector(int id, Span<float> destination);

    /// <summary>Whether <paramref name="id"/> is live.</summary>
    /// <param name="id">Any id.</param>
    /// <returns><see langword="true"/> when the id was added and not removed.</returns>
    bool Contains(int id);

    /// <summary>
    /// Finds the <paramref name="k"/> live vectors closest to <paramref name="query"/> that pass
    /// <see cref="SearchOptions.Filter"/>, best (lowest distance) first. Fewer are returned only when fewer match.
    /// </summary>
    /// <param name="query">The query: <see cref="Dimension"/> finite components (non-zero for cosine).</param>
    /// <param name="k">How many results to return at most; at least 1.</param>
    /// <param name="options">Filter, beam width and exactness; <see langword="null"/> means <see cref="SearchOptions.Default"/>.</param>
    /// <returns>The hits, sorted by ascending <see cref="SearchHit.Distance"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="query"/> has the wrong dimension or a non-finite component.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is less than 1.</exception>
    IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, SearchOptions? options = null);

    /// <summary>
    /// Drops every removed vector from the internal structures now, repairing whatever referenced it, and releases
    /// their slots (see <see cref="TakeReleasedIds"/>).
    /// </summary>
    /// <returns>The number of slots released.</returns>
    int Compact();

    /// <summary>
    /// Returns the ids released since the last call (removed, and no longer used internally), in release order,
    /// and forgets them. The caller may add any of them again.
    /// </summary>
    /// <returns>The released ids; empty when there are none.</returns>
    IReadOnlyList<int> TakeReleasedIds();

    /// <summary>
    /// Writes a snapshot of the whole index to <paramref name="destination"/>: everything needed to answer exactly
    /// the same searches after <see cref="VectorIndexSnapshot.ReadSnapshot"/> (or the class's own
    /// <c>ReadSnapshot</c>), and for later mutations to behave exactly as they would have on this index.
    /// </summary>
    /// <remarks>
    /// The snapshot is consistent: it is the state at one moment (it is <see cref="CaptureSnapshot"/> followed by
    /// <see cref="IndexSnapshotView.WriteTo"/>), and neither searches nor mutations wait for the stream. The stream
    /// is written sequentially (it need not be seekable) and is neither flushed nor closed; making it durable is the
    /// caller's job. If the stream fails the exception propagates and what was written is incomplete (loading it
    /// fails).
    /// </remarks>
    /// <param name="destination">A writable stream.</param>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not writable.</exception>
    void WriteSnapshot(Stream destination);

    /// <summary>
    /// Captures a consistent view of the whole index for a snapshot (a checkpoint), to be written later with
    /// <see cref="IndexSnapshotView.WriteTo"/> while the index keeps changing. The bytes written are exactly those
    /// <see cref="WriteSnapshot"/> would have written at the moment of capture.
    /// </summary>
    /// <remarks>
    /// Capture costs O(chunks of storage), not O(vectors): the view shares the index's chunks, and while it is alive
    /// a mutation copies a chunk the view shares (at most 1 MiB) before changing it. Several views may be alive at
    /// once. Dispose each view when written: until then mutations keep copying chunks for it.
    /// </remarks>
    /// <returns>The view; dispose it when written.</returns>
    IndexSnapshotView CaptureSnapshot();
}

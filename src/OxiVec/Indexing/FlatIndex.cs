namespace OxiVec.Indexing;

/// <summary>
/// An exact index: every search compares the query with every live vector (SIMD over contiguous chunks) and
/// keeps the best k in a bounded max-heap. Removal releases the slot at once.
/// </summary>
/// <remarks>
/// <para>
/// Thread-safe. Searches take no lock: each captures the high-water mark and the chunk tables once and scans
/// them. Mutations (<see cref="Add"/>, <see cref="Remove"/>, <see cref="TakeReleasedIds"/>,
/// <see cref="CaptureSnapshot"/>) serialise on a writer lock searches never touch. A search concurrent with a
/// mutation may or may not see it, but it never returns an id twice, never returns an id removed before it
/// started, and finds every id added before it started. The vector is written before the slot is marked live,
/// the slot is marked before the high-water mark includes it.
/// </para>
/// <para>
/// Storage is chunked (at most 1 MiB per chunk) and copy-on-write while a snapshot view is alive: see
/// <see cref="CaptureSnapshot"/>.
/// </para>
/// </remarks>
public sealed partial class FlatIndex : IVectorIndex
{
    private readonly SnapshotEpoch _epoch = new();
    private readonly ChunkedStore<float> _vectors;
    private readonly ChunkedStore<byte> _states;
    private readonly Lock _writer = new();
    private readonly InstancePool<FlatScratch> _scratch;
    private readonly ReleasedIds _released = new();
    private int _highWater;
    private int _count;
    private int _releasedCount; // _released.Count, readable without the lock

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">The number of components of every vector, 1 to 65,536.</param>
    /// <param name="metric">The distance results are ordered by.</param>
    /// <exception cref="ArgumentOutOfRangeException">The dimension or metric is out of range.</exception>
    public FlatIndex(int dimension, DistanceMetric metric)
        : this(dimension, metric, IndexStores.MaxVectorsPerChunk, IndexStores.BytesPerChunk)
    {
    }

    /// <summary>Creates an empty index with the given chunk geometry (see <see cref="IndexStores.Validate"/>).</summary>
    internal FlatIndex(int dimension, DistanceMetric metric, int vectorsPerChunk, int bytesPerChunk)
    {
        VectorMath.ValidateShape(dimension, metric);
        IndexStores.Validate(vectorsPerChunk, bytesPerChunk);
        Dimension = dimension;
        Metric = metric;
        _vectors = IndexStores.Vectors(dimension, _epoch, vectorsPerChunk);
        _states = IndexStores.Bytes(_epoch, bytesPerChunk);
        _scratch = new InstancePool<FlatScratch>(() => new FlatScratch(dimension), Environment.ProcessorCount * 2);
    }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <inheritdoc/>
    public DistanceMetric Metric { get; }

    /// <inheritdoc/>
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc/>
    public void Add(int id, ReadOnlySpan<float> vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        float scale = VectorMath.Validate(Metric, Dimension, vector, nameof(vector));
        lock (_writer)
        {
            if (StateOf(id) != SlotState.Free)
            {
                throw new InvalidOperationException($"Id {id} is already in the index.");
            }

            _vectors.EnsureSlot(id);
            _states.EnsureSlot(id);
            Span<float> slot = _vectors.Write(id);
            if (Metric == DistanceMetric.Cosine)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(vector, scale, slot);
            }
            else
            {
                vector.CopyTo(slot);
            }

            Volatile.Write(ref _states.Write(id)[0], SlotState.Live);
            if (id >= _highWater)
            {
                Volatile.Write(ref _highWater, id + 1);
            }

            Volatile.Write(ref _count, _count + 1);
        }
    }

    /// <inheritdoc/>
    /// <remarks>The slot is released immediately (reported by <see cref="TakeReleasedIds"/>).</remarks>
    public void Remove(int id)
    {
        lock (_writer)
        {
            if (StateOf(id) != SlotState.Live)
            {
                throw new KeyNotFoundException($"Id {id} is not in the index.");
            }

            Volatile.Write(ref _states.Write(id)[0], SlotState.Free);
            _released.Add(id);
            Volatile.Write(ref _releasedCount, _released.Count);
            Volatile.Write(ref _count, _count - 1);
        }
    }

    /// <inheritdoc/>
    public bool HoldsVectorsAsGiven => Metric != DistanceMetric.Cosine;

    /// <inheritdoc/>
    public void CopyVector(int id, Span<float> destination)
    {
        IndexStores.CopyVector(_vectors, StateOf(id), id, destination);
    }

    /// <inheritdoc/>
    public bool Contains(int id) => StateOf(id) == SlotState.Live;

    /// <inheritdoc/>
    /// <remarks>Always exact; <see cref="SearchOptions.Ef"/> and <see cref="SearchOptions.Exact"/> are ignored.</remarks>
    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, int k, SearchOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        options ??= SearchOptions.Default;
        FlatScratch scratch = _scratch.Rent();
        try
        {
            VectorMath.Prepare(Metric, Dimension, query, scratch.Query, nameof(query));
            scratch.Heap.Clear();
            int highWater = Volatile.Read(ref _highWater);
            ExactSearch.Scan(
                _vectors.Table, _states.Table, highWater, scratch.Query, Metric, options.Filter, k, scratch.Heap);
            return ExactSearch.ToHits(scratch.Heap, k);
        }
        finally
        {
            _scratch.Return(scratch);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Removal already releases slots, so there is nothing to compact: always returns 0.</remarks>
    public int Compact() => 0;

    /// <inheritdoc/>
    public IReadOnlyList<int> TakeReleasedIds()
    {
        if (Volatile.Read(ref _releasedCount) == 0)
        {
            return []; // as if taken before a removal running now: every write's apply step asks, and almost always for none
        }

        lock (_writer)
        {
            Volatile.Write(ref _releasedCount, 0);
            return _released.Take();
        }
    }

    /// <summary>Nothing to release; the index must not be used afterwards.</summary>
    public void Dispose()
    {
    }

    /// <summary>The state of <paramref name="id"/> now (free for ids never used).</summary>
    private byte StateOf(int id)
    {
        ChunkTable<byte> states = _states.Table;
        return id >= 0 && id < Volatile.Read(ref _highWater) && states.Has(id)
            ? Volatile.Read(ref states.Item(id)[0])
            : SlotState.Free;
    }

    private sealed class FlatScratch(int dimension)
    {
        public float[] Query { get; } = new float[dimension];

        public MaxCandidateHeap Heap { get; } = new();
    }
}

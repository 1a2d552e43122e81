namespace OxiVec.Indexing;

/// <summary>
/// An exact index: every search compares the query with every live vector (SIMD over contiguous chunks) and
/// keeps the best k in a bounded max-heap. Removal releases the slot at once.
/// </summary>
/// <remarks>
/// Thread-safe: searches share a read lock and run concurrently; <see cref="Add"/>, <see cref="Remove"/> and
/// <see cref="TakeReleasedIds"/> take the write lock, so a search sees each mutation entirely or not at all.
/// <see cref="WriteSnapshot"/> holds the read lock, so a snapshot is consistent and mutations wait for it.
/// </remarks>
public sealed partial class FlatIndex : IVectorIndex
{
    private readonly VectorArena _vectors;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly InstancePool<FlatScratch> _scratch;
    private readonly List<int> _released = [];
    private byte[] _state = [];
    private int _highWater;
    private int _count;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">The number of components of every vector, 1 to 65,536.</param>
    /// <param name="metric">The distance results are ordered by.</param>
    /// <exception cref="ArgumentOutOfRangeException">The dimension or metric is out of range.</exception>
    public FlatIndex(int dimension, DistanceMetric metric)
    {
        VectorMath.ValidateShape(dimension, metric);
        Dimension = dimension;
        Metric = metric;
        _vectors = new VectorArena(dimension);
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
        _lock.EnterWriteLock();
        try
        {
            if (id < _highWater && _state[id] != SlotState.Free)
            {
                throw new InvalidOperationException($"Id {id} is already in the index.");
            }

            _vectors.EnsureSlot(id);
            EnsureStateCapacity(id);
            Span<float> slot = _vectors.Get(id);
            if (Metric == DistanceMetric.Cosine)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(vector, scale, slot);
            }
            else
            {
                vector.CopyTo(slot);
            }

            _state[id] = SlotState.Live;
            _highWater = Math.Max(_highWater, id + 1);
            Volatile.Write(ref _count, _count + 1);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc/>
    /// <remarks>The slot is released immediately (reported by <see cref="TakeReleasedIds"/>).</remarks>
    public void Remove(int id)
    {
        _lock.EnterWriteLock();
        try
        {
            if (id < 0 || id >= _highWater || _state[id] != SlotState.Live)
            {
                throw new KeyNotFoundException($"Id {id} is not in the index.");
            }

            _state[id] = SlotState.Free;
            _released.Add(id);
            Volatile.Write(ref _count, _count - 1);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc/>
    public bool Contains(int id)
    {
        _lock.EnterReadLock();
        try
        {
            return id >= 0 && id < _highWater && _state[id] == SlotState.Live;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

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
            _lock.EnterReadLock();
            try
            {
                ExactSearch.Scan(
                    _vectors, _state.AsSpan(0, _highWater), scratch.Query, Metric, options.Filter, k, scratch.Heap);
            }
            finally
            {
                _lock.ExitReadLock();
            }

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
        _lock.EnterWriteLock();
        try
        {
            int[] ids = [.. _released];
            _released.Clear();
            return ids;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Releases the lock. The index must not be used afterwards.</summary>
    public void Dispose() => _lock.Dispose();

    private void EnsureStateCapacity(int id)
    {
        if (id >= _state.Length)
        {
            Array.Resize(ref _state, Math.Max(id + 1, Math.Max(16, _state.Length * 2)));
        }
    }

    private sealed class FlatScratch(int dimension)
    {
        public float[] Query { get; } = new float[dimension];

        public MaxCandidateHeap Heap { get; } = new();
    }
}

using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace OxiVec.Indexing;

/// <summary>
/// An approximate nearest-neighbour index: a Hierarchical Navigable Small World graph (Malkov and Yashunin).
/// Searches descend greedily from the top layer and run a beam search of width ef on layer 0; neighbours are
/// chosen with the paper's selection heuristic and linked both ways, pruning a neighbour whose list overflows.
/// </summary>
/// <remarks>
/// <para>
/// <b>Deletes.</b> <see cref="Remove"/> marks the node deleted (a tombstone): it is never returned again but
/// still guides searches. When tombstones reach <see cref="HnswParameters.CompactionThreshold"/> of the nodes
/// (if <see cref="HnswParameters.AutoCompact"/>), or on <see cref="Compact"/>, every node that links to a
/// tombstone re-selects its neighbours among its live neighbours and the tombstones' neighbours, tombstones are
/// dropped (choosing a new entry point if needed), nodes left unreachable are linked again, and the freed slots
/// are reported by <see cref="TakeReleasedIds"/>.
/// </para>
/// <para>
/// <b>Filters.</b> With <see cref="SearchOptions.Filter"/> the beam walks through non-matching nodes but only
/// matching ones enter the results. When a sample of the ids says the filter is selective enough that a scan
/// of the matching ids is cheaper, or when the beam cannot fill <c>k</c>, the search scans exactly, so it
/// returns <c>min(k, matches)</c> results.
/// </para>
/// <para>
/// <b>Concurrency.</b> Searches hold a shared read lock and run in parallel with each other; <see cref="Add"/>,
/// <see cref="Remove"/> (with any compaction it triggers), <see cref="Compact"/> and
/// <see cref="TakeReleasedIds"/> hold the exclusive write lock. A search therefore sees the graph before or
/// after each mutation, never during one: an id removed before a search starts is never in its results, and
/// an id added before it starts is searchable. Searches do not allocate beyond their result: working memory
/// (generation-stamped visited sets, heaps) is pooled per index. <see cref="WriteSnapshot"/> holds the read lock
/// for the whole write: searches continue, mutations wait, and the snapshot is one consistent state.
/// </para>
/// <para>
/// <b>Snapshots.</b> <see cref="WriteSnapshot"/> and <see cref="ReadSnapshot"/> save and load the graph as it is
/// (tombstones, free slots, pending released ids and the level generator's state included), so a loaded index
/// answers exactly like the original and later operations behave identically, without rebuilding anything.
/// </para>
/// </remarks>
public sealed partial class HnswIndex : IVectorIndex
{
    private const int MaxLevelCap = 30;
    private readonly int _m;
    private readonly int _maxM0;
    private readonly int _efConstruction;
    private readonly double _levelFactor;
    private readonly VectorArena _vectors;
    private readonly LinkArena _layer0;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly InstancePool<HnswScratch> _scratch;
    private readonly HnswScratch _writerScratch;
    private readonly List<int> _released = [];
    private byte[] _state = [];
    private int[] _level = [];
    private int[]?[] _upper = [];
    private int _highWater;
    private int _live;
    private int _deleted;
    private int _entry = -1;
    private int _maxLevel = -1;
    private ulong _levelRandom;
    private long _exactFallbacks;
    private long _compactions;
    private long _relinked;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">The number of components of every vector, 1 to 65,536.</param>
    /// <param name="metric">The distance results are ordered by.</param>
    /// <param name="parameters">Graph settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">The dimension or metric is out of range.</exception>
    public HnswIndex(int dimension, DistanceMetric metric, HnswParameters? parameters = null)
    {
        VectorMath.ValidateShape(dimension, metric);
        Dimension = dimension;
        Metric = metric;
        Parameters = parameters ?? new HnswParameters();
        _m = Parameters.M;
        _maxM0 = Parameters.MaxM0;
        _efConstruction = Math.Max(Parameters.EfConstruction, _m);
        _levelFactor = 1.0 / Math.Log(_m);
        _vectors = new VectorArena(dimension);
        _layer0 = new LinkArena(_maxM0 + 1);
        _levelRandom = unchecked((ulong)(long)Parameters.Seed);
        _scratch = new InstancePool<HnswScratch>(() => new HnswScratch(dimension), Environment.ProcessorCount * 2);
        _writerScratch = new HnswScratch(dimension);
    }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <inheritdoc/>
    public DistanceMetric Metric { get; }

    /// <summary>The graph settings.</summary>
    public HnswParameters Parameters { get; }

    /// <inheritdoc/>
    public int Count => Volatile.Read(ref _live);

    /// <summary>Removed nodes still in the graph (tombstones), awaiting compaction.</summary>
    public int DeletedCount => Volatile.Read(ref _deleted);

    /// <summary>Searches answered by an exact scan although an approximate one was asked for (filters, repairs).</summary>
    internal long ExactFallbackCount => Interlocked.Read(ref _exactFallbacks);

    /// <summary>Compactions run so far (automatic and explicit).</summary>
    internal long CompactionCount => Interlocked.Read(ref _compactions);

    /// <summary>Nodes linked again by compactions because layer 0 no longer reached them.</summary>
    internal long RelinkedCount => Interlocked.Read(ref _relinked);

    /// <summary>The top layer of the graph, -1 when empty.</summary>
    internal int MaxLevel => _maxLevel;

    /// <summary>The entry point, -1 when empty.</summary>
    internal int EntryPoint => _entry;

    /// <inheritdoc/>
    /// <remarks>The node's level is drawn from the seeded generator; the graph is linked under the write lock.</remarks>
    public void Add(int id, ReadOnlySpan<float> vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        float scale = VectorMath.Validate(Metric, Dimension, vector, nameof(vector));
        _lock.EnterWriteLock();
        try
        {
            if (id < _highWater && _state[id] != SlotState.Free)
            {
                throw new InvalidOperationException(_state[id] == SlotState.Live
                    ? $"Id {id} is already in the index."
                    : $"Id {id} was removed but its slot is not released yet; reuse it once TakeReleasedIds reports it (after Compact).");
            }

            EnsureCapacity(id);
            Span<float> slot = _vectors.Get(id);
            if (Metric == DistanceMetric.Cosine)
            {
                TensorPrimitives.Multiply(vector, scale, slot);
            }
            else
            {
                vector.CopyTo(slot);
            }

            int level = RandomLevel();
            _level[id] = level;
            _upper[id] = level > 0 ? new int[level * (_m + 1)] : null;
            _layer0.Block(id)[0] = 0;
            _state[id] = SlotState.Live;
            _highWater = Math.Max(_highWater, id + 1);
            Volatile.Write(ref _live, _live + 1);

            if (_entry < 0)
            {
                _entry = id;
                _maxLevel = level;
                return;
            }

            LinkIntoGraph(id, level, _writerScratch);
            if (level > _maxLevel)
            {
                _maxLevel = level;
                _entry = id;
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The node becomes a tombstone; its slot is released by the next compaction, which this call runs when
    /// tombstones reach <see cref="HnswParameters.CompactionThreshold"/> (and <see cref="HnswParameters.AutoCompact"/>).
    /// </remarks>
    public void Remove(int id)
    {
        _lock.EnterWriteLock();
        try
        {
            if (id < 0 || id >= _highWater || _state[id] != SlotState.Live)
            {
                throw new KeyNotFoundException($"Id {id} is not in the index.");
            }

            _state[id] = SlotState.Deleted;
            Volatile.Write(ref _live, _live - 1);
            Volatile.Write(ref _deleted, _deleted + 1);
            if (Parameters.AutoCompact && _deleted >= Parameters.CompactionThreshold * (_live + _deleted))
            {
                CompactCore();
            }
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
    public int Compact()
    {
        _lock.EnterWriteLock();
        try
        {
            return CompactCore();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Distance(ReadOnlySpan<float> query, int node) =>
        VectorMath.Distance(Metric, query, _vectors.Get(node));

    private int MaxDegree(int layer) => layer == 0 ? _maxM0 : _m;

    /// <summary>The adjacency block of <paramref name="node"/> on <paramref name="layer"/>: count, then neighbours.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<int> LinkBlock(int node, int layer) =>
        layer == 0 ? _layer0.Block(node) : _upper[node].AsSpan((layer - 1) * (_m + 1), _m + 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<int> Links(int node, int layer)
    {
        Span<int> block = LinkBlock(node, layer);
        return block.Slice(1, block[0]);
    }

    private void SetLinks(int node, int layer, ReadOnlySpan<int> neighbours)
    {
        Span<int> block = LinkBlock(node, layer);
        block[0] = neighbours.Length;
        neighbours.CopyTo(block[1..]);
    }

    /// <summary>
    /// Draws a node level: <c>floor(-ln(U) / ln(M))</c> for U uniform in (0, 1], capped at 30. The generator is
    /// SplitMix64 over a single 64-bit state seeded with <see cref="HnswParameters.Seed"/>, so a snapshot can
    /// store the state and a loaded index draws the same levels as the original would have.
    /// </summary>
    private int RandomLevel()
    {
        ulong z = _levelRandom += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        double uniform = (z >> 11) * (1.0 / (1UL << 53));
        double level = -Math.Log(1.0 - uniform) * _levelFactor;
        return (int)Math.Min(level, MaxLevelCap);
    }

    private void EnsureCapacity(int id)
    {
        _vectors.EnsureSlot(id);
        _layer0.EnsureSlot(id);
        if (id >= _state.Length)
        {
            int size = Math.Max(id + 1, Math.Max(16, _state.Length * 2));
            Array.Resize(ref _state, size);
            Array.Resize(ref _level, size);
            Array.Resize(ref _upper, size);
        }
    }
}

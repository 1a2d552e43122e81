using System.Diagnostics;
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
/// <b>Concurrency.</b> Searches take no lock and never wait for a mutation. Each captures the entry point, the
/// high-water mark and the chunk tables once; a neighbour id at or above that mark (newer than the search) or
/// whose chunk is not in its tables is skipped. A link block is read as its count (read once, with acquire
/// semantics, clamped to the block) and the ids before it: a writer stores the ids first and publishes the count
/// last, so a reader sees some list each of whose ids is a node (possibly an old list, or while a list is
/// rewritten in place a mix of old and new ids, never a value that is not a node id). A node's vector is
/// written, and the node marked live, before any link to it is published. So during a mutation a search may see
/// part of it, but: it never returns an id twice (a visited set), never returns an id removed before it started
/// (the tombstone mark is read when a node is accepted), finds an id added before it started (exact fallback
/// included), returns <c>min(k, matches)</c> when nothing changes under it, and never throws. Slots the caller
/// reuses (after <see cref="TakeReleasedIds"/>) stay memory-safe for searches still running, whatever they read.
/// </para>
/// <para>
/// Several threads may call <see cref="Add"/> at once; they link in parallel, each holding a node's stripe lock
/// only while it reads or rewrites that node's list (never two at a time), a small lock for the level generator,
/// and the entry-point lock only while inserting a node above the top level. Concurrent adds are therefore not
/// deterministic (the graph depends on the interleaving); one thread at a time gives the same graph for the same
/// seed and operations. <see cref="Remove"/> marks its tombstone alongside adds; compactions (automatic or
/// <see cref="Compact"/>), <see cref="TakeReleasedIds"/> and <see cref="CaptureSnapshot"/> take the writer lock
/// exclusively (waiting for adds in flight), and while a snapshot view is alive adds and removes take it
/// exclusively too, so the chunks they copy are not written by anyone else meanwhile.
/// Searches do not allocate beyond their result: working memory (generation-stamped visited sets, heaps) is pooled
/// per index.
/// </para>
/// <para>
/// <b>Snapshots.</b> <see cref="CaptureSnapshot"/> costs O(chunks) and copy-on-write keeps the view's chunks
/// unchanged; <see cref="WriteSnapshot"/> captures and writes. <see cref="ReadSnapshot"/> loads the graph as it
/// was (tombstones, free slots, pending released ids and the level generator's state included), so a loaded index
/// answers exactly like the original and later operations behave identically, without rebuilding anything.
/// </para>
/// </remarks>
public sealed partial class HnswIndex : IVectorIndex
{
    private const int MaxLevelCap = 30;
    private const int LinkStripes = 256;

    /// <summary>
    /// The most layer-0 link blocks per chunk (about 17 KiB at M = 16: below the large object heap's threshold).
    /// An insert rewrites the links of up to 2M neighbours scattered over the graph; while a checkpoint's view shares
    /// the chunks, each first write to one copies it whole, so small chunks keep that copy (and the insert's wait)
    /// to a few hundred KiB instead of several MiB.
    /// </summary>
    private const int LinkBlocksPerChunk = 128;
    private readonly int _m;
    private readonly int _maxM0;
    private readonly int _efConstruction;
    private readonly double _levelFactor;
    private readonly SnapshotEpoch _epoch = new();
    private readonly ChunkedStore<float> _vectors;
    private readonly ChunkedStore<int> _layer0;
    private readonly ChunkedStore<int[]?> _upper;
    private readonly ChunkedStore<byte> _states;
    private readonly ChunkedStore<byte> _levels;
    private readonly ReaderWriterLockSlim _writers = new(LockRecursionPolicy.NoRecursion);
    private readonly Lock _levelLock = new();
    private readonly Lock _topLock = new();
    private readonly Lock[] _linkLocks;
    private readonly InstancePool<HnswScratch> _scratch;
    private readonly ReleasedIds _released = new();
    private readonly HnswWriteCounters _work = new();
    private int _highWater;
    private int _live;
    private int _deleted;
    private long _top = Pack(-1, -1);
    private ulong _levelRandom;
    private long _exactFallbacks;
    private long _compactions;
    private long _relinked;
    private long _copiedUpperLists;
    private long _copiedUpperBytes;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">The number of components of every vector, 1 to 65,536.</param>
    /// <param name="metric">The distance results are ordered by.</param>
    /// <param name="parameters">Graph settings; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">The dimension or metric is out of range.</exception>
    public HnswIndex(int dimension, DistanceMetric metric, HnswParameters? parameters = null)
        : this(dimension, metric, parameters, IndexStores.MaxVectorsPerChunk, IndexStores.BytesPerChunk)
    {
    }

    /// <summary>Creates an empty index with the given chunk geometry (see <see cref="IndexStores.Validate"/>).</summary>
    internal HnswIndex(
        int dimension, DistanceMetric metric, HnswParameters? parameters, int vectorsPerChunk, int bytesPerChunk)
    {
        VectorMath.ValidateShape(dimension, metric);
        IndexStores.Validate(vectorsPerChunk, bytesPerChunk);
        Dimension = dimension;
        Metric = metric;
        Parameters = parameters ?? new HnswParameters();
        _m = Parameters.M;
        _maxM0 = Parameters.MaxM0;
        _efConstruction = Math.Max(Parameters.EfConstruction, _m);
        _levelFactor = 1.0 / Math.Log(_m);
        _vectors = IndexStores.Vectors(dimension, _epoch, vectorsPerChunk);
        _layer0 = new ChunkedStore<int>(_maxM0 + 1, sizeof(int), Math.Min(vectorsPerChunk, LinkBlocksPerChunk), _epoch);
        _upper = new ChunkedStore<int[]?>(1, IntPtr.Size, vectorsPerChunk, _epoch);
        _states = IndexStores.Bytes(_epoch, bytesPerChunk);
        _levels = IndexStores.Bytes(_epoch, bytesPerChunk);
        _linkLocks = new Lock[LinkStripes];
        for (int i = 0; i < _linkLocks.Length; i++)
        {
            _linkLocks[i] = new Lock();
        }

        _levelRandom = unchecked((ulong)(long)Parameters.Seed);
        _scratch = new InstancePool<HnswScratch>(() => new HnswScratch(dimension), Environment.ProcessorCount * 2);
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

    /// <summary>
    /// What copy-on-write has copied so far for live snapshot views: chunks of every store plus nodes' upper-layer
    /// lists, and their total size in bytes.
    /// </summary>
    internal (long Copies, long Bytes) CopyOnWrite =>
        (_vectors.CopiedChunks + _layer0.CopiedChunks + _upper.CopiedChunks + _states.CopiedChunks + _levels.CopiedChunks
            + Volatile.Read(ref _copiedUpperLists),
         (_vectors.CopiedChunks * _vectors.ChunkLength * sizeof(float))
            + (_layer0.CopiedChunks * _layer0.ChunkLength * sizeof(int))
            + (_upper.CopiedChunks * _upper.ChunkLength * IntPtr.Size)
            + ((_states.CopiedChunks * _states.ChunkLength) + (_levels.CopiedChunks * _levels.ChunkLength))
            + Volatile.Read(ref _copiedUpperBytes));

    /// <summary>What the adds have done so far (see <see cref="HnswWriteStats"/>).</summary>
    internal HnswWriteStats WriteStats
    {
        get
        {
            (long copies, long bytes) = CopyOnWrite;
            long storeTicks = _vectors.CopyTicks + _layer0.CopyTicks + _upper.CopyTicks + _states.CopyTicks + _levels.CopyTicks;
            return _work.Read(storeTicks, copies, bytes);
        }
    }

    /// <summary>The top layer of the graph, -1 when empty.</summary>
    internal int MaxLevel => Unpack(Volatile.Read(ref _top)).Level;

    /// <summary>The entry point, -1 when empty.</summary>
    internal int EntryPoint => Unpack(Volatile.Read(ref _top)).Entry;

    /// <inheritdoc/>
    /// <remarks>
    /// The node's level is drawn from the seeded generator. Adds from several threads link in parallel (see the
    /// class remarks); they wait only for an exclusive writer (compaction, TakeReleasedIds, capture) or, while a snapshot
    /// view is alive, for each other.
    /// </remarks>
    public void Add(int id, ReadOnlySpan<float> vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        float scale = VectorMath.Validate(Metric, Dimension, vector, nameof(vector));
        long start = Stopwatch.GetTimestamp();
        bool exclusive = EnterSharedWriter();
        long locked = Stopwatch.GetTimestamp();
        long distances = 0, expanded = 0;
        try
        {
            EnsureCapacity(id);
            ref byte state = ref _states.Write(id)[0];
            byte was = Interlocked.CompareExchange(ref state, SlotState.Inserting, SlotState.Free);
            if (was != SlotState.Free)
            {
                throw new InvalidOperationException(was switch
                {
                    SlotState.Live => $"Id {id} is already in the index.",
                    SlotState.Deleted => $"Id {id} was removed but its slot is not released yet; reuse it once TakeReleasedIds reports it (after Compact).",
                    _ => $"Id {id} is being added by another thread.",
                });
            }

            Span<float> slot = _vectors.Write(id);
            if (Metric == DistanceMetric.Cosine)
            {
                TensorPrimitives.Multiply(vector, scale, slot);
            }
            else
            {
                vector.CopyTo(slot);
            }

            int level;
            lock (_levelLock)
            {
                level = RandomLevel();
            }

            _levels.Write(id)[0] = (byte)level;
            int[]? upper = level > 0 ? NewUpper(level) : null;
            Volatile.Write(ref _upper.Write(id)[0], upper);
            Volatile.Write(ref _layer0.Write(id)[0], 0);
            Volatile.Write(ref state, SlotState.Live);
            Interlocked.Increment(ref _live);
            RaiseHighWater(id + 1);
            (distances, expanded) = Link(id, level);
        }
        finally
        {
            ExitSharedWriter(exclusive);
            _work.Add(Stopwatch.GetTimestamp() - start, locked - start, distances, expanded);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The node becomes a tombstone; its slot is released by the next compaction, which this call runs when
    /// tombstones reach <see cref="HnswParameters.CompactionThreshold"/> (and <see cref="HnswParameters.AutoCompact"/>).
    /// Marking the tombstone runs alongside adds (the writer lock shared, like an add); the compaction takes it
    /// exclusively. Searches never wait for either.
    /// </remarks>
    public void Remove(int id)
    {
        bool compact;
        bool exclusive = EnterSharedWriter();
        try
        {
            if (StateOf(id) != SlotState.Live
                || Interlocked.CompareExchange(ref _states.Write(id)[0], SlotState.Deleted, SlotState.Live) != SlotState.Live)
            {
                throw new KeyNotFoundException($"Id {id} is not in the index.");
            }

            Interlocked.Decrement(ref _live);
            Interlocked.Increment(ref _deleted);
            compact = exclusive ? CompactIfDue() : NeedsCompaction();
        }
        finally
        {
            ExitSharedWriter(exclusive);
        }

        if (compact && !exclusive)
        {
            _writers.EnterWriteLock();
            try
            {
                CompactIfDue();
            }
            finally
            {
                _writers.ExitWriteLock();
            }
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
    public int Compact()
    {
        _writers.EnterWriteLock();
        try
        {
            return CompactCore();
        }
        finally
        {
            _writers.ExitWriteLock();
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<int> TakeReleasedIds()
    {
        _writers.EnterWriteLock();
        try
        {
            return _released.Take();
        }
        finally
        {
            _writers.ExitWriteLock();
        }
    }

    /// <summary>Releases the writer lock. The index must not be used afterwards.</summary>
    public void Dispose() => _writers.Dispose();

    private static long Pack(int entry, int level) => ((long)level << 32) | (uint)entry;

    private static (int Entry, int Level) Unpack(long top) => ((int)top, (int)(top >> 32));

    /// <summary>Whether tombstones reached the automatic compaction threshold.</summary>
    private bool NeedsCompaction()
    {
        int deleted = Volatile.Read(ref _deleted);
        return Parameters.AutoCompact && deleted > 0
            && deleted >= Parameters.CompactionThreshold * (Volatile.Read(ref _live) + deleted);
    }

    /// <summary>Compacts if <see cref="NeedsCompaction"/>; the caller holds the writer lock exclusively.</summary>
    /// <returns>Always <see langword="false"/> (nothing left to do).</returns>
    private bool CompactIfDue()
    {
        if (NeedsCompaction())
        {
            CompactCore();
        }

        return false;
    }

    /// <summary>
    /// Enters the writer lock for an add or a tombstone mark: shared, or exclusive while a snapshot view is alive.
    /// </summary>
    /// <returns>Whether it is held exclusively.</returns>
    private bool EnterSharedWriter()
    {
        _writers.EnterReadLock();
        if (!_epoch.HasLiveViews)
        {
            // No capture can start while this is held, so no chunk will need copying.
            return false;
        }

        _writers.ExitReadLock();
        _writers.EnterWriteLock();
        return true;
    }

    private void ExitSharedWriter(bool exclusive)
    {
        if (exclusive)
        {
            _writers.ExitWriteLock();
        }
        else
        {
            _writers.ExitReadLock();
        }
    }

    /// <summary>
    /// Links a stored, live node of <paramref name="level"/> into the graph. A node above the top level holds the
    /// entry-point lock throughout, so two such nodes never race, and publishes itself as the entry point last.
    /// </summary>
    /// <returns>The distances and expansions of its layer searches.</returns>
    private (long Distances, long Expanded) Link(int id, int level)
    {
        long distances = 0, expanded = 0;
        (int entry, int maxLevel) = Unpack(Volatile.Read(ref _top));
        bool raising = level > maxLevel;
        if (raising)
        {
            _topLock.Enter();
            (entry, maxLevel) = Unpack(Volatile.Read(ref _top));
        }

        try
        {
            if (entry >= 0)
            {
                HnswScratch scratch = _scratch.Rent();
                try
                {
                    scratch.Distances = 0;
                    scratch.Expanded = 0;
                    LinkIntoGraph(id, level, entry, maxLevel, scratch);
                    distances = scratch.Distances;
                    expanded = scratch.Expanded;
                }
                finally
                {
                    _scratch.Return(scratch);
                }
            }

            if (level > maxLevel)
            {
                Volatile.Write(ref _top, Pack(id, level));
            }
        }
        finally
        {
            if (raising)
            {
                _topLock.Exit();
            }
        }

        return (distances, expanded);
    }

    private void RaiseHighWater(int end)
    {
        int current = Volatile.Read(ref _highWater);
        while (end > current)
        {
            int seen = Interlocked.CompareExchange(ref _highWater, end, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>The state of <paramref name="id"/> now (free for ids never used).</summary>
    private byte StateOf(int id)
    {
        ChunkTable<byte> states = _states.Table;
        return id >= 0 && id < Volatile.Read(ref _highWater) && states.Has(id)
            ? Volatile.Read(ref states.Item(id)[0])
            : SlotState.Free;
    }

    private int MaxDegree(int layer) => layer == 0 ? _maxM0 : _m;

    /// <summary>Upper-layer lists for a node of <paramref name="level"/>: a generation stamp, then one block per layer.</summary>
    private int[] NewUpper(int level)
    {
        int[] upper = new int[1 + (level * (_m + 1))];
        upper[0] = _epoch.Generation;
        return upper;
    }

    /// <summary>
    /// Draws a node level: <c>floor(-ln(U) / ln(M))</c> for U uniform in (0, 1], capped at 30. The generator is
    /// SplitMix64 over a single 64-bit state seeded with <see cref="HnswParameters.Seed"/>, so a snapshot can
    /// store the state and a loaded index draws the same levels as the original would have. Under the level lock.
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
        _upper.EnsureSlot(id);
        _states.EnsureSlot(id);
        _levels.EnsureSlot(id);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Lock LinkLock(int node) => _linkLocks[node & (LinkStripes - 1)];
}

using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace OxiVec.Indexing;

/// <summary>
/// Items of <see cref="Stride"/> elements each, addressed by slot, in chunks of a power-of-two number of items
/// (a chunk is allocated when a slot in it is first needed). Built for lock-free readers and copy-on-write
/// snapshots:
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>The chunk table is replaced whole when it grows and published with a release write; a chunk reference is
/// published the same way once the chunk is allocated or copied. A reader captures <see cref="Table"/> once and
/// sees, for each chunk, its contents at some moment since (never memory that is not an element).</item>
/// <item><see cref="Capture"/> (writers excluded) copies the table, O(chunks): the view then shares every chunk.
/// <see cref="Write"/> copies a chunk the current generation may share with a live view before handing it out,
/// and publishes the copy in the table, so the view's chunks never change; except for a slot no live view reads
/// (at or above <see cref="SnapshotEpoch.ViewEnd"/>), written in place: the views' items in the chunk do not change,
/// and the chunk keeps its generation, so the next write below that mark still copies it.</item>
/// <item>Several writers may call <see cref="EnsureSlot"/> and <see cref="Write"/> concurrently (they serialise
/// growth on a small lock) only while no view is alive: a copy-on-write racing another writer's element write
/// would lose it, so the owning index serialises writers while views are alive.</item>
/// <item>Chunks of elements without references live on the pinned object heap (<see cref="NewChunk"/>): a chunk
/// lives as long as the index, so the garbage collector would otherwise copy every new chunk, and every
/// copy-on-write copy a checkpoint causes, from generation 0 to 1 to 2 (HNSW's 17 KB link chunks and 64 KB state
/// chunks are small-object-heap arrays), and those copies are what made the gen0 and gen1 pauses during a
/// checkpoint long. A pinned-heap array is never promoted nor moved, and is reclaimed by a full collection only.</item>
/// </list>
/// </remarks>
internal sealed class ChunkedStore<T>
{
    /// <summary>The largest chunk: copying one takes tens of microseconds.</summary>
    public const int MaxChunkBytes = 1 << 20;

    private readonly SnapshotEpoch _epoch;
    private readonly Lock _growth = new();
    private readonly int _shift;
    private readonly int _mask;
    private T[]?[] _chunks = [];
    private int[] _generations = [];
    private long _copiedChunks;
    private long _copyTicks;

    /// <param name="stride">Elements per item.</param>
    /// <param name="elementBytes">The size of one element, for the chunk size.</param>
    /// <param name="maxItemsPerChunk">A power of two: the most items per chunk.</param>
    /// <param name="epoch">The owning index's copy-on-write bookkeeping.</param>
    public ChunkedStore(int stride, int elementBytes, int maxItemsPerChunk, SnapshotEpoch epoch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        int perChunk = maxItemsPerChunk;
        while (perChunk > 1 && (long)perChunk * stride * elementBytes > MaxChunkBytes)
        {
            perChunk >>= 1;
        }

        Stride = stride;
        _shift = int.Log2(perChunk);
        _mask = perChunk - 1;
        _epoch = epoch;
    }

    /// <summary>The number of elements per item.</summary>
    public int Stride { get; }

    /// <summary>How many items one chunk holds (a power of two).</summary>
    public int ItemsPerChunk => _mask + 1;

    /// <summary>The current table, for readers (capture it once per operation).</summary>
    public ChunkTable<T> Table => new(Volatile.Read(ref _chunks), _shift, Stride);

    /// <summary>
    /// How many chunks <see cref="Write"/> has copied so far because a live view shared them (copies run only while the
    /// owning index serialises writers).
    /// </summary>
    public long CopiedChunks => Volatile.Read(ref _copiedChunks);

    /// <summary>Stopwatch ticks <see cref="Write"/> spent copying chunks (allocation and copy), like <see cref="CopiedChunks"/>.</summary>
    public long CopyTicks => Volatile.Read(ref _copyTicks);

    /// <summary>The size of one chunk in elements.</summary>
    public int ChunkLength => ItemsPerChunk * Stride;

    /// <summary>The number of allocated chunks.</summary>
    public int AllocatedChunks => Volatile.Read(ref _chunks).Count(c => c is not null);

    /// <summary>Makes sure <paramref name="slot"/>'s chunk exists (zeroed when new).</summary>
    public void EnsureSlot(int slot)
    {
        int chunk = slot >> _shift;
        T[]?[] chunks = Volatile.Read(ref _chunks);
        if (chunk < chunks.Length && Volatile.Read(ref chunks[chunk]) is not null)
        {
            return;
        }

        lock (_growth)
        {
            chunks = _chunks;
            if (chunk >= chunks.Length)
            {
                int size = Math.Max(chunk + 1, chunks.Length * 2);
                var grown = new T[]?[size];
                Array.Copy(chunks, grown, chunks.Length);
                int[] generations = _generations;
                Array.Resize(ref generations, size);
                _generations = generations;
                Volatile.Write(ref _chunks, grown);
                chunks = grown;
            }

            if (chunks[chunk] is null)
            {
                _generations[chunk] = _epoch.Generation;
                Volatile.Write(ref chunks[chunk], NewChunk(ItemsPerChunk * Stride, zeroed: true));
            }
        }
    }

    /// <summary>The elements of <paramref name="slot"/> as they are now; its chunk must exist. For writers.</summary>
    public Span<T> Read(int slot) =>
        Volatile.Read(ref _chunks)[slot >> _shift]!.AsSpan((slot & _mask) * Stride, Stride);

    /// <summary>
    /// The elements of <paramref name="count"/> consecutive slots within one chunk, which must exist, for loading
    /// an index no view has seen yet (no copy-on-write).
    /// </summary>
    public Span<T> Items(int slot, int count) =>
        Volatile.Read(ref _chunks)[slot >> _shift]!.AsSpan((slot & _mask) * Stride, count * Stride);

    /// <summary>
    /// The elements of <paramref name="slot"/> to change, in a chunk no live view shares (copied first if one might),
    /// or in place when no live view reads the slot (<see cref="SnapshotEpoch.ViewEnd"/>); its chunk must exist.
    /// </summary>
    public Span<T> Write(int slot)
    {
        int chunk = slot >> _shift;
        T[]?[] chunks = Volatile.Read(ref _chunks);
        T[] data = chunks[chunk]!;
        if (_epoch.HasLiveViews && _epoch.MustCopy(_generations[chunk], slot))
        {
            long copyStart = Stopwatch.GetTimestamp();
            T[] copy = NewChunk(data.Length, zeroed: false);
            data.AsSpan().CopyTo(copy);
            data = copy;
            _copiedChunks++;
            _generations[chunk] = _epoch.Generation;
            Volatile.Write(ref chunks[chunk], data);
            _copyTicks += Stopwatch.GetTimestamp() - copyStart;
        }

        return data.AsSpan((slot & _mask) * Stride, Stride);
    }

    /// <summary>
    /// A chunk of <paramref name="length"/> elements: on the pinned object heap when <typeparamref name="T"/> holds no
    /// references (never promoted through the generations nor compacted: a chunk lives as long as the index), on the
    /// ordinary heap otherwise (the pinned heap takes no references). Zeroed when <paramref name="zeroed"/>, else its
    /// contents are undefined: the caller overwrites every element.
    /// </summary>
    internal static T[] NewChunk(int length, bool zeroed)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            return new T[length];
        }

        return zeroed ? GC.AllocateArray<T>(length, pinned: true) : GC.AllocateUninitializedArray<T>(length, pinned: true);
    }

    /// <summary>
    /// The chunk table as it is now, for a view; the caller excludes writers and has begun a capture on the epoch,
    /// so every chunk in it is copied before it changes.
    /// </summary>
    public ChunkTable<T> Capture() => new((T[]?[])_chunks.Clone(), _shift, Stride);
}

using System.Runtime.CompilerServices;

namespace OxiVec.Indexing;

/// <summary>
/// One published chunk table of a <see cref="ChunkedStore{T}"/>: what a reader captures once and reads items
/// through. A chunk may be missing (never allocated, or allocated after the capture into a newer table).
/// </summary>
internal readonly struct ChunkTable<T>
{
    private readonly T[]?[] _chunks;
    private readonly int _shift;
    private readonly int _mask;
    private readonly int _stride;

    public ChunkTable(T[]?[] chunks, int shift, int stride)
    {
        _chunks = chunks;
        _shift = shift;
        _mask = (1 << shift) - 1;
        _stride = stride;
    }

    /// <summary>The chunk references (never modified through this struct).</summary>
    public T[]?[] Chunks => _chunks;

    /// <summary>How many items one chunk holds (a power of two).</summary>
    public int ItemsPerChunk => 1 << _shift;

    /// <summary>The number of elements per item.</summary>
    public int Stride => _stride;

    /// <summary>Whether the chunk of <paramref name="item"/> exists in this table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Has(int item)
    {
        int chunk = item >> _shift;
        return (uint)chunk < (uint)_chunks.Length && _chunks[chunk] is not null;
    }

    /// <summary>The elements of <paramref name="item"/>; its chunk must exist.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Item(int item) =>
        Volatile.Read(ref _chunks[item >> _shift])!.AsSpan((item & _mask) * _stride, _stride);

    /// <summary>The elements of <paramref name="count"/> consecutive items within one chunk, which must exist.</summary>
    public ReadOnlySpan<T> Items(int item, int count) =>
        Volatile.Read(ref _chunks[item >> _shift])!.AsSpan((item & _mask) * _stride, count * _stride);

    /// <summary>The chunk holding items from <c>chunk * ItemsPerChunk</c>, or <see langword="null"/> when missing.</summary>
    public T[]? Chunk(int chunk) => (uint)chunk < (uint)_chunks.Length ? Volatile.Read(ref _chunks[chunk]) : null;
}

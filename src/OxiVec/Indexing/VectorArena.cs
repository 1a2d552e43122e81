using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace OxiVec.Indexing;

/// <summary>
/// Contiguous storage of fixed-dimension vectors addressed by slot: chunks of <see cref="VectorsPerChunk"/>
/// vectors, each chunk one <see langword="float"/>[] (no array per vector). Chunks are allocated when a slot in
/// them is first written. Not thread-safe: the owning index synchronises access.
/// </summary>
internal sealed class VectorArena
{
    private const int MaxVectorsPerChunk = 1024;
    private const int MaxFloatsPerChunk = 1 << 18;
    private readonly int _shift;
    private readonly int _mask;
    private float[]?[] _chunks = [];

    public VectorArena(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Dimension = dimension;
        int perChunk = MaxVectorsPerChunk;
        while (perChunk > 1 && (long)perChunk * dimension > MaxFloatsPerChunk)
        {
            perChunk >>= 1;
        }

        VectorsPerChunk = perChunk;
        _shift = int.Log2(perChunk);
        _mask = perChunk - 1;
    }

    /// <summary>The number of floats per vector.</summary>
    public int Dimension { get; }

    /// <summary>How many vectors one chunk holds (a power of two).</summary>
    public int VectorsPerChunk { get; }

    /// <summary>The number of chunk references (allocated or not).</summary>
    public int ChunkCount => _chunks.Length;

    /// <summary>Bytes held by allocated chunks.</summary>
    public long AllocatedBytes
    {
        get
        {
            long total = 0;
            foreach (float[]? chunk in _chunks)
            {
                total += chunk is null ? 0 : (long)chunk.Length * sizeof(float);
            }

            return total;
        }
    }

    /// <summary>Makes sure <paramref name="slot"/> has storage.</summary>
    public void EnsureSlot(int slot)
    {
        int chunk = slot >> _shift;
        if (chunk >= _chunks.Length)
        {
            Array.Resize(ref _chunks, Math.Max(chunk + 1, _chunks.Length * 2));
        }

        _chunks[chunk] ??= new float[VectorsPerChunk * Dimension];
    }

    /// <summary>The vector at <paramref name="slot"/>; the slot must have storage.</summary>
    public Span<float> Get(int slot) => _chunks[slot >> _shift]!.AsSpan((slot & _mask) * Dimension, Dimension);

    /// <summary>
    /// Hints the CPU to start loading the first cache lines of <paramref name="slot"/>'s vector (x86 only; a no-op
    /// elsewhere). The slot must have storage. Only a hint: it cannot fault, and a chunk moved by the GC meanwhile
    /// merely wastes it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(int slot)
    {
        if (Sse.IsSupported)
        {
            byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(Get(slot)));
            Sse.Prefetch0(start);
            Sse.Prefetch0(start + 64);
        }
    }

    /// <summary>A copy of every chunk (bulk copies, no per-vector allocation), read with <see cref="Slice"/>.</summary>
    public float[]?[] CopyChunks()
    {
        var copy = new float[]?[_chunks.Length];
        for (int i = 0; i < _chunks.Length; i++)
        {
            copy[i] = (float[]?)_chunks[i]?.Clone();
        }

        return copy;
    }

    /// <summary>The vector of <paramref name="slot"/> in chunks returned by <see cref="CopyChunks"/>.</summary>
    public ReadOnlyMemory<float> Slice(float[]?[] chunks, int slot) =>
        chunks[slot >> _shift].AsMemory((slot & _mask) * Dimension, Dimension);

    /// <summary>
    /// The vectors of <paramref name="count"/> consecutive slots from <paramref name="slot"/>, back to back; they
    /// must lie in one chunk, which must be allocated.
    /// </summary>
    public Span<float> Slots(int slot, int count) =>
        _chunks[slot >> _shift]!.AsSpan((slot & _mask) * Dimension, count * Dimension);

    /// <summary>All vectors of a chunk, back to back, or an empty span when the chunk was never allocated.</summary>
    public ReadOnlySpan<float> Chunk(int chunk) => chunk < _chunks.Length ? _chunks[chunk] : default;
}

namespace OxiVec.Storage.Versions;

/// <summary>
/// The original vectors of a collection by slot, in chunks that never move once allocated (one writer, lock-free
/// readers, as <see cref="SlotColumn{T}"/>: chunks are allocated one at a time and growing copies only the chunk
/// directory). A chunk holds at most 64 Ki floats, so allocating one is cheap.
/// </summary>
internal sealed class SlotVectors
{
    private const int MaxFloatsPerChunk = 1 << 16;
    private readonly int _shift;
    private readonly int _mask;
    private float[]?[] _chunks = [];
    private int _allocated; // chunks allocated: every chunk below it exists (writer only)

    public SlotVectors(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Dimension = dimension;
        int perChunk = 1024;
        while (perChunk > 1 && (long)perChunk * dimension > MaxFloatsPerChunk)
        {
            perChunk >>= 1;
        }

        _shift = int.Log2(perChunk);
        _mask = perChunk - 1;
    }

    /// <summary>Floats per vector.</summary>
    public int Dimension { get; }

    /// <summary>Makes sure <paramref name="slot"/> and every slot below it have storage (writer only).</summary>
    public void EnsureSlot(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        int chunk = slot >> _shift;
        while (_allocated <= chunk)
        {
            float[]?[] chunks = _chunks;
            var allocated = new float[(_mask + 1) * Dimension];
            if (_allocated == chunks.Length)
            {
                var grown = new float[]?[Math.Max(16, chunks.Length * 2)];
                chunks.CopyTo(grown, 0);
                grown[_allocated] = allocated;
                Volatile.Write(ref _chunks, grown);
            }
            else
            {
                Volatile.Write(ref chunks[_allocated], allocated);
            }

            _allocated++;
        }
    }

    /// <summary>The vector of <paramref name="slot"/> (which must have storage), as a view of its chunk.</summary>
    public Memory<float> Get(int slot) =>
        Volatile.Read(ref Volatile.Read(ref _chunks)[slot >> _shift]).AsMemory((slot & _mask) * Dimension, Dimension);
}

namespace OxiVec.Storage.Versions;

/// <summary>
/// The original vectors of a collection by slot, in chunks that never move once allocated (one writer, lock-free
/// readers, as <see cref="SlotColumn{T}"/>). A chunk holds at most 64 Ki floats, so allocating one is cheap.
/// </summary>
internal sealed class SlotVectors
{
    private const int MaxFloatsPerChunk = 1 << 16;
    private readonly int _shift;
    private readonly int _mask;
    private float[][] _chunks = [];

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

    /// <summary>Makes sure <paramref name="slot"/> has storage (writer only).</summary>
    public void EnsureSlot(int slot)
    {
        int chunk = slot >> _shift;
        float[][] chunks = _chunks;
        if (chunk < chunks.Length)
        {
            return;
        }

        var grown = new float[Math.Max(chunk + 1, chunks.Length * 2)][];
        chunks.CopyTo(grown, 0);
        for (int i = chunks.Length; i < grown.Length; i++)
        {
            grown[i] = new float[(_mask + 1) * Dimension];
        }

        Volatile.Write(ref _chunks, grown);
    }

    /// <summary>The vector of <paramref name="slot"/> (which must have storage), as a view of its chunk.</summary>
    public Memory<float> Get(int slot) =>
        Volatile.Read(ref _chunks)[slot >> _shift].AsMemory((slot & _mask) * Dimension, Dimension);
}

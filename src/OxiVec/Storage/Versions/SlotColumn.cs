namespace OxiVec.Storage.Versions;

/// <summary>
/// A growable array of <typeparamref name="T"/> by slot, in chunks that never move once allocated, so a reader on
/// another thread may read a slot without a lock while the single writer grows the column or writes other slots.
/// </summary>
/// <remarks>
/// One writer (the apply step); any number of readers. The chunk directory is published with a volatile write after
/// the chunks it lists exist, and read with a volatile read; element reads and writes go through <see cref="At"/>
/// (use <see cref="Volatile"/> on the reference where the order of element writes matters to readers).
/// </remarks>
internal sealed class SlotColumn<T>
{
    private const int Shift = 10;
    private const int ChunkSize = 1 << Shift;
    private const int Mask = ChunkSize - 1;
    private T[][] _chunks = [];

    /// <summary>Makes sure <paramref name="slot"/> has storage (writer only).</summary>
    public void EnsureSlot(int slot)
    {
        int chunk = slot >> Shift;
        T[][] chunks = _chunks;
        if (chunk < chunks.Length)
        {
            return;
        }

        var grown = new T[Math.Max(chunk + 1, chunks.Length * 2)][];
        chunks.CopyTo(grown, 0);
        for (int i = chunks.Length; i < grown.Length; i++)
        {
            grown[i] = new T[ChunkSize];
        }

        Volatile.Write(ref _chunks, grown); // readers see the new directory only with every chunk in it allocated
    }

    /// <summary>The element of <paramref name="slot"/>, which must have storage.</summary>
    public ref T At(int slot) => ref Volatile.Read(ref _chunks)[slot >> Shift][slot & Mask];

    /// <summary>Whether <paramref name="slot"/> has storage.</summary>
    public bool HasSlot(int slot) => slot >> Shift < Volatile.Read(ref _chunks).Length;
}

using System.Runtime.CompilerServices;

namespace OxiVec.Storage.Versions;

/// <summary>
/// A growable array of <typeparamref name="T"/> by slot, in chunks that never move once allocated, so a reader on
/// another thread may read a slot without a lock while the single writer grows the column or writes other slots.
/// </summary>
/// <remarks>
/// <para>
/// One writer (the apply step); any number of readers. Chunks are allocated one at a time, when the first slot in
/// one is needed, so growing never costs more than one chunk (8 KiB of references or longs) plus, now and then, a
/// copy of the chunk directory (one reference per chunk: 8 KiB at a million slots). Growing never copies elements
/// and never allocates a large array of them, so no single write pays for the column's size.
/// </para>
/// <para>
/// A chunk reference is published with a volatile write after the chunk is allocated, and a grown directory with a
/// volatile write after every chunk reference in it is set; readers read both with volatile reads. Element reads and
/// writes go through <see cref="At"/> (use <see cref="Volatile"/> on the reference where the order of element writes
/// matters to readers).
/// </para>
/// <para>
/// Chunks of elements without references (the version columns) are allocated on the pinned object heap: they live as
/// long as the collection, so on the ordinary heap each would be copied from generation 0 to 1 to 2 by the
/// collections a steady writer triggers; a pinned-heap array is never promoted nor moved.
/// </para>
/// </remarks>
internal sealed class SlotColumn<T>
{
    /// <summary>Slots per chunk (a power of two).</summary>
    public const int ChunkSize = 1 << Shift;

    private const int Shift = 10;
    private const int Mask = ChunkSize - 1;
    private T[]?[] _chunks = [];
    private int _allocated; // chunks allocated: every chunk below it exists (writer only)

    /// <summary>The number of slots with storage: every slot below it has storage.</summary>
    public int Capacity => _allocated * ChunkSize;

    /// <summary>Makes sure <paramref name="slot"/> and every slot below it have storage (writer only).</summary>
    public void EnsureSlot(int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        int chunk = slot >> Shift;
        while (_allocated <= chunk)
        {
            T[]?[] chunks = _chunks;
            if (_allocated == chunks.Length)
            {
                // Only the references are copied: the chunks themselves never move.
                var grown = new T[]?[Math.Max(16, chunks.Length * 2)];
                chunks.CopyTo(grown, 0);
                grown[_allocated] = NewChunk();
                Volatile.Write(ref _chunks, grown); // published with every chunk below _allocated + 1 in it
            }
            else
            {
                Volatile.Write(ref chunks[_allocated], NewChunk());
            }

            _allocated++;
        }
    }

    /// <summary>The element of <paramref name="slot"/>, which must have storage.</summary>
    public ref T At(int slot) => ref Volatile.Read(ref Volatile.Read(ref _chunks)[slot >> Shift])![slot & Mask];

    /// <summary>A zeroed chunk: on the pinned object heap unless <typeparamref name="T"/> holds references.</summary>
    private static T[] NewChunk() =>
        RuntimeHelpers.IsReferenceOrContainsReferences<T>() ? new T[ChunkSize] : GC.AllocateArray<T>(ChunkSize, pinned: true);
}


using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace OxiVec.Indexing;

/// <summary>
/// What one graph operation reads, captured once: the high-water mark, then the chunk tables of vectors, layer-0
/// blocks, upper-layer lists and states. Every read is bounds-checked against the capture, so a concurrent writer
/// can make a reader see stale or partial lists but never memory that is not an element.
/// </summary>
internal readonly struct HnswGraphView
{
    public readonly int HighWater;
    public readonly ChunkTable<float> Vectors;
    public readonly ChunkTable<int> Layer0;
    public readonly ChunkTable<int[]?> Upper;
    public readonly ChunkTable<byte> States;
    private readonly int _m;

    public HnswGraphView(
        int highWater, ChunkTable<float> vectors, ChunkTable<int> layer0, ChunkTable<int[]?> upper, ChunkTable<byte> states, int m)
    {
        HighWater = highWater;
        Vectors = vectors;
        Layer0 = layer0;
        Upper = upper;
        States = states;
        _m = m;
    }

    /// <summary>Whether <paramref name="node"/> is below the captured mark and has its vector in the capture.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Readable(int node) => (uint)node < (uint)HighWater && Vectors.Has(node);

    /// <summary>The vector of a <see cref="Readable"/> node.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<float> Vector(int node) => Vectors.Item(node);

    /// <summary>Whether <paramref name="node"/> (readable) is live now.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsLive(int node) => States.Has(node) && Volatile.Read(ref States.Item(node)[0]) == SlotState.Live;

    /// <summary>The state of <paramref name="node"/> (readable) now.</summary>
    public byte State(int node) => States.Has(node) ? Volatile.Read(ref States.Item(node)[0]) : SlotState.Free;

    /// <summary>
    /// The neighbours of <paramref name="node"/> on <paramref name="layer"/>: the count read once (acquire) and
    /// clamped to the block, then the ids before it. Empty when the node has no list there (a missing chunk, a
    /// level below the layer, a freed node).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<int> Links(int node, int layer)
    {
        Span<int> block;
        if (layer == 0)
        {
            if (!Layer0.Has(node))
            {
                return default;
            }

            block = Layer0.Item(node);
        }
        else
        {
            int[]? upper = Upper.Has(node) ? Volatile.Read(ref Upper.Item(node)[0]) : null;
            int start = 1 + ((layer - 1) * (_m + 1));
            if (upper is null || upper.Length < start + _m + 1)
            {
                return default;
            }

            block = upper.AsSpan(start, _m + 1);
        }

        int count = Volatile.Read(ref block[0]);
        if ((uint)count >= (uint)block.Length)
        {
            count = count < 0 ? 0 : block.Length - 1;
        }

        return block.Slice(1, count);
    }

    /// <summary>
    /// Hints the CPU to start loading the first cache lines of a readable node's vector (x86 only; a no-op elsewhere).
    /// Only a hint: it cannot fault, and a chunk moved by the GC meanwhile merely wastes it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(int node)
    {
        if (Sse.IsSupported)
        {
            byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(Vectors.Item(node)));
            Sse.Prefetch0(start);
            Sse.Prefetch0(start + 64);
        }
    }
}

using System.Numerics.Tensors;

namespace OxiVec.Indexing;

/// <summary>
/// Constants of the index snapshot format and the sections both index kinds share (slot states, vectors,
/// released ids). <see cref="VectorIndexSnapshot"/> documents the layout.
/// </summary>
internal static class IndexSnapshotFormat
{
    /// <summary>The only format version this build reads and writes.</summary>
    public const ushort Version = 1;

    /// <summary>The kind byte of a <see cref="FlatIndex"/> snapshot.</summary>
    public const byte FlatKind = 1;

    /// <summary>The kind byte of an <see cref="HnswIndex"/> snapshot.</summary>
    public const byte HnswKind = 2;

    /// <summary>Magic (8), version (2), kind (1), reserved zero (1).</summary>
    public const int HeaderSize = 12;

    /// <summary>A section starts with a 4-byte ASCII tag and a u64 length.</summary>
    public const int TagSize = 4;

    /// <summary>"OXIVIDX" followed by a zero byte.</summary>
    public static ReadOnlySpan<byte> Magic => "OXIVIDX\0"u8;

    public static ReadOnlySpan<byte> MetaTag => "META"u8;

    public static ReadOnlySpan<byte> SlotTag => "SLOT"u8;

    public static ReadOnlySpan<byte> VectorTag => "VECT"u8;

    public static ReadOnlySpan<byte> LevelTag => "LEVL"u8;

    public static ReadOnlySpan<byte> LinkTag => "LINK"u8;

    public static ReadOnlySpan<byte> ReleasedTag => "RELS"u8;

    /// <summary>Vectors and links are copied as raw memory, which is little-endian only on little-endian hosts.</summary>
    public static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Index snapshots are supported on little-endian hosts only.");
        }
    }

    /// <summary>The name of a kind byte, for messages.</summary>
    public static string KindName(byte kind) => kind switch
    {
        FlatKind => "a flat index",
        HnswKind => "an HNSW index",
        _ => $"kind {kind}",
    };

    /// <summary>Writes the dimension (i32) and metric (u8) that open every META section.</summary>
    public static void WriteShape(SnapshotWriter writer, int dimension, DistanceMetric metric)
    {
        writer.WriteInt32(dimension);
        writer.WriteByte((byte)metric);
    }

    /// <summary>Reads and checks the dimension and metric that open every META section.</summary>
    public static (int Dimension, DistanceMetric Metric) ReadShape(SnapshotReader reader)
    {
        int dimension = reader.ReadInt32();
        if (dimension < 1 || dimension > VectorMath.MaxDimension)
        {
            throw reader.Error($"the dimension {dimension} is outside 1 to {VectorMath.MaxDimension}");
        }

        byte metric = reader.ReadByte();
        if (!Enum.IsDefined((DistanceMetric)metric))
        {
            throw reader.Error($"unknown distance metric {metric}");
        }

        return (dimension, (DistanceMetric)metric);
    }

    /// <summary>Reads an i32 that must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static int ReadInt32InRange(SnapshotReader reader, string name, int min, int max)
    {
        int value = reader.ReadInt32();
        if (value < min || value > max)
        {
            throw reader.Error($"{name} is {value}, outside {min} to {max}");
        }

        return value;
    }

    /// <summary>Reads a u8 boolean: 0 or 1.</summary>
    public static bool ReadBoolean(SnapshotReader reader, string name)
    {
        byte value = reader.ReadByte();
        return value switch
        {
            0 => false,
            1 => true,
            _ => throw reader.Error($"{name} is {value}, not 0 or 1"),
        };
    }

    /// <summary>How many of <paramref name="states"/> are not free: the slots that have a vector.</summary>
    public static int UsedSlots(ReadOnlySpan<byte> states) => states.Length - states.Count(SlotState.Free);

    /// <summary>How many of the first <paramref name="highWater"/> slots of a state table are not free.</summary>
    public static int UsedSlots(ChunkTable<byte> states, int highWater)
    {
        int used = 0;
        for (int first = 0; first < highWater; first += states.ItemsPerChunk)
        {
            used += UsedSlots(StatesOf(states, first, Math.Min(states.ItemsPerChunk, highWater - first)));
        }

        return used;
    }

    /// <summary>
    /// The states of <paramref name="count"/> slots from <paramref name="first"/>, which lie in one chunk of the
    /// table; empty (all free) when that chunk was never allocated.
    /// </summary>
    public static ReadOnlySpan<byte> StatesOf(ChunkTable<byte> states, int first, int count) =>
        states.Has(first) ? states.Items(first, count) : default;

    /// <summary>The SLOT section: one state byte per slot below the high-water mark.</summary>
    public static void WriteStates(SnapshotWriter writer, ChunkTable<byte> states, int highWater)
    {
        writer.BeginSection(SlotTag, highWater);
        for (int first = 0; first < highWater; first += states.ItemsPerChunk)
        {
            int count = Math.Min(states.ItemsPerChunk, highWater - first);
            if (states.Has(first))
            {
                writer.WriteBytes(states.Items(first, count));
            }
            else
            {
                writer.WriteZeros(count);
            }
        }

        writer.EndSection();
    }

    /// <summary>
    /// Reads the SLOT section of <paramref name="highWater"/> bytes into a new array of exactly that length, grown
    /// as the bytes arrive (a damaged count cannot make it allocate more than the stream holds), and checks every
    /// state (<see cref="SlotState.Deleted"/> only when <paramref name="allowDeleted"/>) and that the live and
    /// deleted slots number what META said.
    /// </summary>
    public static byte[] ReadStates(
        SnapshotReader reader, int highWater, bool allowDeleted, int expectedLive, int expectedDeleted)
    {
        reader.EnterSection(SlotTag, highWater);
        long start = reader.Position;
        byte[] states = new byte[Math.Min(highWater, 1 << 20)];
        int filled = 0;
        while (filled < highWater)
        {
            if (filled == states.Length)
            {
                Array.Resize(ref states, (int)Math.Min(highWater, 2L * states.Length));
            }

            int take = states.Length - filled;
            reader.ReadBytes(states.AsSpan(filled, take));
            filled += take;
        }

        int live = 0;
        int deleted = 0;
        for (int slot = 0; slot < states.Length; slot++)
        {
            byte state = states[slot];
            if (state == SlotState.Live)
            {
                live++;
            }
            else if (state == SlotState.Deleted && allowDeleted)
            {
                deleted++;
            }
            else if (state != SlotState.Free)
            {
                throw reader.Error($"slot {slot} has the invalid state {state}", start + slot);
            }
        }

        if (live != expectedLive || deleted != expectedDeleted)
        {
            throw reader.Error(
                $"the slots hold {live} live vectors and {deleted} tombstones, but META says {expectedLive} and {expectedDeleted}",
                start);
        }

        reader.ExitSection();
        return states;
    }

    /// <summary>
    /// The VECT section: the prepared vectors of the used slots below <paramref name="highWater"/>, in slot order, as
    /// raw float32; each run of used slots within one vector chunk is a single write. A state chunk holds at least
    /// as many slots as a vector chunk (both powers of two), so each vector chunk's states lie in one state chunk.
    /// </summary>
    public static void WriteVectors(SnapshotWriter writer, ChunkTable<float> vectors, ChunkTable<byte> states, int highWater)
    {
        writer.BeginSection(VectorTag, (long)UsedSlots(states, highWater) * vectors.Stride * sizeof(float));
        int perChunk = vectors.ItemsPerChunk;
        for (int first = 0; first < highWater; first += perChunk)
        {
            ReadOnlySpan<byte> chunkStates = StatesOf(states, first, Math.Min(perChunk, highWater - first));
            int slot = 0;
            while (NextRun(chunkStates, perChunk, ref slot, out int count))
            {
                writer.WriteFloats(vectors.Items(first + slot, count));
                slot += count;
            }
        }

        writer.EndSection();
    }

    /// <summary>Copies loaded slot states into a state store (every chunk up to the high-water mark is allocated).</summary>
    public static void LoadStates(ChunkedStore<byte> store, ReadOnlySpan<byte> states)
    {
        for (int first = 0; first < states.Length; first += store.ItemsPerChunk)
        {
            int count = Math.Min(store.ItemsPerChunk, states.Length - first);
            store.EnsureSlot(first);
            states.Slice(first, count).CopyTo(store.Items(first, count));
        }
    }

    /// <summary>
    /// Reads the VECT section straight into the arena's chunks (allocated run by run, as the data arrives) and
    /// checks that every component is finite, as every prepared vector is.
    /// </summary>
    public static void ReadVectors(SnapshotReader reader, ChunkedStore<float> arena, ReadOnlySpan<byte> states)
    {
        int dimension = arena.Stride;
        reader.EnterSection(VectorTag, (long)UsedSlots(states) * dimension * sizeof(float));
        int slot = 0;
        while (NextRun(states, arena.ItemsPerChunk, ref slot, out int count))
        {
            arena.EnsureSlot(slot);
            Span<float> run = arena.Items(slot, count);
            long start = reader.Position;
            reader.ReadFloats(run);

            // A sum times zero is NaN exactly when a component is NaN or infinite, or the sum overflows.
            if (float.IsNaN(TensorPrimitives.Sum<float>(run) * 0f))
            {
                for (int i = 0; i < run.Length; i++)
                {
                    if (!float.IsFinite(run[i]))
                    {
                        int at = slot + (i / dimension);
                        throw reader.Error(
                            $"component {i % dimension} of the vector of slot {at} is {run[i]}, not finite",
                            start + ((long)i * sizeof(float)));
                    }
                }
            }

            slot += count;
        }

        reader.ExitSection();
    }

    /// <summary>The RELS section: the released ids not yet taken, in release order.</summary>
    public static void WriteReleased(SnapshotWriter writer, ReadOnlySpan<int> released)
    {
        writer.BeginSection(ReleasedTag, (long)released.Length * sizeof(int));
        writer.WriteInt32s(released);
        writer.EndSection();
    }

    /// <summary>Reads the RELS section into <paramref name="released"/>; every id must be below the high-water mark.</summary>
    public static void ReadReleased(SnapshotReader reader, int highWater, ReleasedIds released)
    {
        long length = reader.EnterSection(ReleasedTag);
        if (length % sizeof(int) != 0)
        {
            throw reader.Error($"the section is {length} bytes long, not a multiple of 4");
        }

        while (reader.SectionRemaining > 0)
        {
            long start = reader.Position;
            ReadOnlySpan<int> ids = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(
                reader.ReadPiece(reader.SectionRemaining));
            for (int i = 0; i < ids.Length; i++)
            {
                int id = ids[i];
                if (id < 0 || id >= highWater)
                {
                    throw reader.Error(
                        $"released id {id} is outside the {highWater} slots", start + ((long)i * sizeof(int)));
                }

                released.Add(id);
            }
        }

        reader.ExitSection();
    }

    /// <summary>
    /// Finds the next run of used slots from <paramref name="slot"/> that stays within one chunk of
    /// <paramref name="perChunk"/> slots; moves <paramref name="slot"/> to its start.
    /// </summary>
    /// <returns><see langword="false"/> when no used slot is left.</returns>
    private static bool NextRun(ReadOnlySpan<byte> states, int perChunk, ref int slot, out int count)
    {
        count = 0;
        if (slot >= states.Length)
        {
            return false;
        }

        int next = states[slot..].IndexOfAnyExcept(SlotState.Free);
        if (next < 0)
        {
            slot = states.Length;
            return false;
        }

        slot += next;
        int chunkEnd = Math.Min(states.Length, ((slot / perChunk) + 1) * perChunk);
        int free = states[slot..chunkEnd].IndexOf(SlotState.Free);
        count = free < 0 ? chunkEnd - slot : free;
        return true;
    }
}

using OxiVec.Storage.Versions;

namespace OxiVec.Tests.Storage;

/// <summary>
/// The collection's per-slot columns: they grow one chunk at a time (never copying elements), keep every value
/// across chunk boundaries, and lock-free readers see a consistent column while the writer grows it.
/// </summary>
public sealed class SlotColumnTests
{
    [Fact]
    public void Growth_AllocatesOnlyTheChunksUpToTheSlot_AndKeepsValuesAcrossChunkBoundaries()
    {
        var column = new SlotColumn<long>();
        Assert.Equal(0, column.Capacity);
        const int Slots = (SlotColumn<long>.ChunkSize * 20) + 3; // more chunks than the first directory holds (16)
        for (int slot = 0; slot < Slots; slot++)
        {
            column.EnsureSlot(slot);
            Assert.Equal(((slot / SlotColumn<long>.ChunkSize) + 1) * SlotColumn<long>.ChunkSize, column.Capacity);
            column.At(slot) = slot * 7L;
        }

        for (int slot = 0; slot < Slots; slot++)
        {
            Assert.Equal(slot * 7L, column.At(slot));
        }
    }

    [Fact]
    public void EnsureSlot_FarAhead_GivesStorageToEverySlotBelowIt()
    {
        var column = new SlotColumn<string?>();
        int far = (SlotColumn<string?>.ChunkSize * 40) + 5;
        column.EnsureSlot(far);
        Assert.Equal(41 * SlotColumn<string?>.ChunkSize, column.Capacity);
        for (int slot = 0; slot <= far; slot += 97)
        {
            Assert.Null(column.At(slot));
            column.At(slot) = "x";
        }

        column.EnsureSlot(3); // already there: nothing changes
        Assert.Equal("x", column.At(97));
        Assert.Throws<ArgumentOutOfRangeException>(() => column.EnsureSlot(-1));
    }

    [Fact]
    public async Task ReadersDuringGrowth_SeeEveryPublishedSlotWithItsValue()
    {
        var column = new SlotColumn<string?>();
        const int Slots = SlotColumn<string?>.ChunkSize * 64;
        string[] values = [.. Enumerable.Range(0, Slots).Select(i => $"v{i}")];
        int published = 0; // slots below it are written: the column's writer publishes like the collection's high-water mark
        bool done = false;

        Task reader = Task.Run(() =>
        {
            var random = new Random(7);
            while (!Volatile.Read(ref done))
            {
                int upTo = Volatile.Read(ref published);
                if (upTo == 0)
                {
                    continue;
                }

                for (int i = 0; i < 64; i++)
                {
                    int slot = random.Next(upTo);
                    string? read = Volatile.Read(ref column.At(slot));
                    Assert.Equal(values[slot], read);
                }
            }
        });

        for (int slot = 0; slot < Slots; slot++)
        {
            column.EnsureSlot(slot);
            Volatile.Write(ref column.At(slot), values[slot]);
            Volatile.Write(ref published, slot + 1);
        }

        Volatile.Write(ref done, true);
        await reader;
        for (int slot = 0; slot < Slots; slot++)
        {
            Assert.Same(values[slot], column.At(slot));
        }
    }

    [Fact]
    public void SlotVectors_GrowAcrossChunks_AndKeepEveryVector()
    {
        var vectors = new SlotVectors(100); // 512 vectors per chunk of at most 64 Ki floats
        const int Slots = 512 * 40;
        for (int slot = 0; slot < Slots; slot++)
        {
            vectors.EnsureSlot(slot);
            vectors.Get(slot).Span.Fill(slot);
        }

        for (int slot = 0; slot < Slots; slot += 31)
        {
            Span<float> v = vectors.Get(slot).Span;
            Assert.Equal(100, v.Length);
            Assert.Equal(slot, v[0]);
            Assert.Equal(slot, v[99]);
        }
    }
}

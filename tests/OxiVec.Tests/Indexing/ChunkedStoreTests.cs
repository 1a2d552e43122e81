using OxiVec.Indexing;

namespace OxiVec.Tests.Indexing;

public sealed class ChunkedStoreTests
{
    [Fact]
    public void Capture_SharesChunks_AndAWriteCopiesOnlyTheChunkItChanges()
    {
        var epoch = new SnapshotEpoch();
        var store = new ChunkedStore<int>(2, sizeof(int), 4, epoch);
        for (int slot = 0; slot < 12; slot++)
        {
            store.EnsureSlot(slot);
            store.Write(slot)[0] = slot;
        }

        epoch.BeginCapture();
        ChunkTable<int> view = store.Capture();
        Assert.Same(view.Chunks[1], store.Table.Chunks[1]);

        store.Write(5)[0] = 500;
        store.Write(6)[1] = 600;
        Assert.Equal(5, view.Item(5)[0]);
        Assert.Equal(0, view.Item(6)[1]);
        Assert.Equal(500, store.Read(5)[0]);
        Assert.Equal(600, store.Read(6)[1]);
        Assert.NotSame(view.Chunks[1], store.Table.Chunks[1]);
        Assert.Same(view.Chunks[0], store.Table.Chunks[0]);
        Assert.Same(view.Chunks[2], store.Table.Chunks[2]);

        // Growing the table after the capture leaves the view's table as it was.
        store.EnsureSlot(40);
        Assert.False(view.Has(40));
        Assert.True(store.Table.Has(40));

        // With no view alive, writes go in place.
        epoch.EndView();
        int[]? current = store.Table.Chunks[0];
        store.Write(0)[0] = -1;
        Assert.Same(current, store.Table.Chunks[0]);
    }

    [Fact]
    public void AViewWithAReadEnd_SlotsAtOrAboveItAreWrittenInPlace_BelowItCopied()
    {
        var epoch = new SnapshotEpoch();
        var store = new ChunkedStore<int>(1, sizeof(int), 4, epoch);
        for (int slot = 0; slot < 6; slot++)
        {
            store.EnsureSlot(slot);
            store.Write(slot)[0] = slot;
        }

        store.EnsureSlot(7);
        epoch.BeginCapture(readEnd: 6); // the view reads slots 0-5 only
        ChunkTable<int> view = store.Capture();

        // Slots 6 and 7 share chunk 1 with the view's slots 4 and 5, but the view never reads them: in place.
        store.Write(6)[0] = 60;
        store.Write(7)[0] = 70;
        Assert.Same(view.Chunks[1], store.Table.Chunks[1]);
        Assert.Equal(0, store.CopiedChunks);
        Assert.Equal(4, view.Item(4)[0]);
        Assert.Equal(5, view.Item(5)[0]);

        // Slot 5 is the view's: the chunk is copied first, with the in-place writes.
        store.Write(5)[0] = 50;
        Assert.NotSame(view.Chunks[1], store.Table.Chunks[1]);
        Assert.Equal(1, store.CopiedChunks);
        Assert.Equal(5, view.Item(5)[0]);
        Assert.Equal(50, store.Read(5)[0]);
        Assert.Equal(60, store.Read(6)[0]);
        Assert.Equal(70, store.Read(7)[0]);

        // A second view reading further (slot 7): the mark only rises, so slot 6 now copies the chunk it shares.
        epoch.BeginCapture(readEnd: 8);
        ChunkTable<int> second = store.Capture();
        store.Write(6)[0] = 600;
        Assert.Equal(60, second.Item(6)[0]);
        Assert.Equal(2, store.CopiedChunks);

        // A capture without a read end protects every slot, even after a bounded one.
        epoch.BeginCapture();
        ChunkTable<int> third = store.Capture();
        store.EnsureSlot(100);
        store.Write(100)[0] = 1;
        Assert.Equal(2, store.CopiedChunks); // a chunk created after the captures is not shared
        store.Write(7)[0] = 700;
        Assert.Equal(70, third.Item(7)[0]);
        Assert.Equal(3, store.CopiedChunks);
    }

    [Fact]
    public void TwoLiveViews_EachKeepTheirCapture()
    {
        var epoch = new SnapshotEpoch();
        var store = new ChunkedStore<int>(1, sizeof(int), 4, epoch);
        store.EnsureSlot(0);
        store.Write(0)[0] = 1;
        epoch.BeginCapture();
        ChunkTable<int> first = store.Capture();
        store.Write(0)[0] = 2;
        epoch.BeginCapture();
        ChunkTable<int> second = store.Capture();
        store.Write(0)[0] = 3;
        epoch.EndView();
        store.Write(0)[0] = 4;
        Assert.Equal(1, first.Item(0)[0]);
        Assert.Equal(2, second.Item(0)[0]);
        Assert.Equal(4, store.Read(0)[0]);
    }

    [Theory]
    [InlineData(1, 1024)]
    [InlineData(128, 1024)]
    [InlineData(4096, 64)]
    [InlineData(65_536, 4)]
    public void VectorChunks_AreAtMostOneMebibyte(int dimension, int perChunk)
    {
        ChunkedStore<float> store = IndexStores.Vectors(dimension, new SnapshotEpoch());
        Assert.Equal(perChunk, store.ItemsPerChunk);
        Assert.True((long)store.ItemsPerChunk * dimension * sizeof(float) <= ChunkedStore<float>.MaxChunkBytes);
    }

    [Fact]
    public void MissingChunks_AreReportedToReaders()
    {
        var store = new ChunkedStore<float>(3, sizeof(float), 8, new SnapshotEpoch());
        store.EnsureSlot(20);
        ChunkTable<float> table = store.Table;
        Assert.False(table.Has(0));
        Assert.True(table.Has(20));
        Assert.False(table.Has(1_000));
        Assert.False(table.Has(-1));
        Assert.Null(table.Chunk(0));
        Assert.Null(table.Chunk(99));
    }

    [Fact]
    public void ChunksOfPlainElements_LiveOnThePinnedHeap_CopiesOnWriteToo()
    {
        // 1,024 ints per chunk: 4 KB, a small-object-heap array that a fresh allocation would put in generation 0.
        // The pinned object heap reports generation 2 at once: such chunks are never promoted through 0 and 1.
        var epoch = new SnapshotEpoch();
        var store = new ChunkedStore<int>(1, sizeof(int), 1024, epoch);
        store.EnsureSlot(0);
        store.Write(0)[0] = 7;
        Assert.Equal(0, GC.GetGeneration(new int[1024])); // the contrast: an ordinary array of the same size
        Assert.Equal(GC.MaxGeneration, GC.GetGeneration(store.Table.Chunk(0)!));

        epoch.BeginCapture();
        ChunkTable<int> view = store.Capture();
        store.Write(1)[0] = 8;
        int[] copy = store.Table.Chunk(0)!;
        Assert.NotSame(view.Chunk(0), copy);
        Assert.Equal(GC.MaxGeneration, GC.GetGeneration(copy));
        Assert.Equal(new[] { 7, 8 }, copy[..2]);
        Assert.Equal(new[] { 7, 0 }, view.Chunk(0)![..2]);
        Assert.All(copy[2..], x => Assert.Equal(0, x)); // an uninitialised copy still holds every element of the original
        epoch.EndView();
    }

    [Fact]
    public void ChunksOfReferences_StayOnTheOrdinaryHeap_AndCopyOnWrite()
    {
        var epoch = new SnapshotEpoch();
        var store = new ChunkedStore<int[]?>(1, IntPtr.Size, 1024, epoch);
        store.EnsureSlot(3);
        int[] list = [1, 2];
        store.Write(3)[0] = list;
        epoch.BeginCapture();
        ChunkTable<int[]?> view = store.Capture();
        store.Write(4)[0] = [3];
        Assert.Same(list, store.Read(3)[0]);
        Assert.Null(view.Item(4)[0]);
        Assert.Equal(new[] { 3 }, store.Read(4)[0]);
        epoch.EndView();
    }
}

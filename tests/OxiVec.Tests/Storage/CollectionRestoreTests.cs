using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.Tests.Storage;

/// <summary>Rebuilding a collection from a checkpoint image: free slots kept, index snapshot checked against the options.</summary>
public sealed class CollectionRestoreTests
{
    private static readonly Dictionary<string, MetadataValue> None = [];

    [Fact]
    public void FlatCollection_SlotReleasedJustBeforeACheckpoint_IsFreeAndReusedAfterRestore()
    {
        var options = new CollectionOptions(2) { Index = IndexKind.Flat };
        using var original = new Collection("docs", options);
        original.Upsert("a", [1, 0], None);
        original.Upsert("b", [0, 1], None);
        original.Upsert("c", [1, 1], None);
        Assert.True(original.Delete("b")); // slot 1: released by the index, not yet taken back by the collection

        CollectionImage image = original.Capture().ToImage();
        Assert.Equal(3, image.HighWater);
        using Collection restored = Collection.Restore("docs", options, image, Collection.RebuildIndex("docs", options, image));
        restored.Upsert("d", [2, 2], None);

        CollectionImage after = restored.Capture().ToImage();
        Assert.Equal(3, after.HighWater); // "d" took the free slot instead of growing the collection
        Assert.Equal(1, after.Records.Single(r => r.Record.Id == "d").Slot);
    }

    [Fact]
    public void FlatCollection_RestoredWithAnIndexSnapshotListingAReleasedSlot_HandsThatSlotOutOnce()
    {
        var options = new CollectionOptions(2) { Index = IndexKind.Flat };
        using var original = new Collection("docs", options);
        original.Upsert("a", [1, 0], None);
        original.Upsert("b", [0, 1], None);
        original.Upsert("c", [1, 1], None);
        Assert.True(original.Delete("b"));
        CollectionImage image = original.Capture().ToImage();

        using var snapshot = new MemoryStream();
        original.Index.WriteSnapshot(snapshot); // an older checkpoint's flat snapshot: its released list holds slot 1
        snapshot.Position = 0;
        using Collection restored = Collection.Restore("docs", options, image, FlatIndex.ReadSnapshot(snapshot));
        restored.Upsert("d", [2, 2], None);
        restored.Upsert("e", [3, 3], None);

        CollectionImage after = restored.Capture().ToImage();
        Assert.Equal([0, 1, 2, 3], after.Records.Select(r => r.Slot).Order());
        Assert.Equal(4, after.HighWater);
    }

    [Fact]
    public void RestoredSnapshotOfAnotherIndexKindOrParameters_IsRefusedNamingTheCollection()
    {
        var hnsw = new CollectionOptions(2) { Index = IndexKind.Hnsw, Hnsw = new HnswParameters { M = 16 } };
        using var original = new Collection("docs", hnsw);
        original.Upsert("a", [1, 0], None);
        CollectionImage image = original.Capture().ToImage();

        IVectorIndex Snapshot() => HnswIndex.ReadSnapshot(new MemoryStream(image.IndexSnapshot));

        var otherM = hnsw with { Hnsw = new HnswParameters { M = 8 } };
        var ex = Assert.Throws<InvalidDataException>(() => Collection.Restore("docs", otherM, image, Snapshot()));
        Assert.Contains("'docs'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("HNSW parameters", ex.Message, StringComparison.Ordinal);

        var flat = hnsw with { Index = IndexKind.Flat };
        ex = Assert.Throws<InvalidDataException>(() => Collection.Restore("docs", flat, image, Snapshot()));
        Assert.Contains("HnswIndex", ex.Message, StringComparison.Ordinal);

        using Collection same = Collection.Restore("docs", hnsw, image, Snapshot());
        Assert.NotNull(same.Get("a"));
    }
}

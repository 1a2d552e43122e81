using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Indexing;

/// <summary>Index inputs that used to be accepted and break things later: overflowing dot products, huge beams, lying snapshots.</summary>
public sealed class IndexLimitTests
{
    [Fact]
    public void DotProductVectorLongEnoughToOverflow_IsRefusedOnAddAndSearch_NamingTheLimit()
    {
        using var index = new FlatIndex(2, DistanceMetric.DotProduct);
        index.Add(0, [9e18f, 0]); // at the limit: its products stay finite
        index.Add(1, [-9e18f, 0]);
        var ex = Assert.Throws<ArgumentException>(() => index.Add(2, [3e19f, -3e19f]));
        Assert.Contains("dot-product", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => index.Search([1e20f, 1e20f], 2));

        IReadOnlyList<SearchHit> hits = index.Search([9e18f, 1], 2);
        Assert.Equal([0, 1], hits.Select(h => h.Id));
        Assert.All(hits, h => Assert.True(float.IsFinite(h.Distance)));
    }

    [Fact]
    public void DotProductVectorLongEnoughToOverflow_IsRefusedByTheStoreBeforeItIsLogged()
    {
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, new VectorDatabaseOptions { Wal = WalConfig.MaximumDurability });
        db.CreateCollection("docs", new CollectionOptions(2) { Metric = DistanceMetric.DotProduct });
        long before = db.GetWalMetrics().LastLsn;
        Assert.Throws<ArgumentException>(() => db.Insert("docs", "huge", new float[] { 3e19f, 3e19f }));
        Assert.Equal(before, db.GetWalMetrics().LastLsn);
    }

    [Fact]
    public void EfConstructionAboveTheMaximum_IsRefusedWithTheLimitNamed()
    {
        Assert.Equal(HnswParameters.MaxEfConstruction, new HnswParameters { EfConstruction = HnswParameters.MaxEfConstruction }.EfConstruction);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new HnswParameters { EfConstruction = HnswParameters.MaxEfConstruction + 1 });
        Assert.Contains("MaxEfConstruction", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HnswParameters { EfConstruction = int.MaxValue });
    }

    [Fact]
    public void HnswSnapshotWhoseLinkSectionCannotHoldItsNodes_IsRefusedBeforeTheirBlocksAreAllocated()
    {
        using var index = new HnswIndex(4, DistanceMetric.Euclidean, new HnswParameters { M = 8 });
        var random = new Random(3);
        for (int i = 0; i < 300; i++)
        {
            index.Add(i, [random.NextSingle(), random.NextSingle(), random.NextSingle(), random.NextSingle()]);
        }

        using var stream = new MemoryStream();
        index.WriteSnapshot(stream);
        byte[] bytes = stream.ToArray();
        int link = bytes.AsSpan().IndexOf("LINK"u8);
        Assert.True(link > 0);
        BitConverter.TryWriteBytes(bytes.AsSpan(link + 4, 8), 4L); // the section now claims 4 bytes

        var ex = Assert.Throws<InvalidDataException>(() => HnswIndex.ReadSnapshot(new MemoryStream(bytes)));
        Assert.Contains("link counts of its nodes alone take", ex.Message, StringComparison.Ordinal);
    }
}

using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>The README's usage example, kept compiling and true.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public void ReadmeExample_RunsAsDocumented()
    {
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, new VectorDatabaseOptions { Wal = WalConfig.Balanced });
        db.CreateCollection("docs", new CollectionOptions(dimension: 3) { Metric = DistanceMetric.Cosine, Index = IndexKind.Hnsw });
        db.Insert("docs", "doc-1", new float[] { 0.1f, 0.2f, 0.3f }, new Dictionary<string, MetadataValue> { ["group"] = 3L });

        using (VectorTransaction tx = db.BeginTransaction())
        {
            tx.Upsert("docs", "doc-2", new float[] { 0.4f, 0.5f, 0.6f });
            tx.Delete("docs", "doc-1");
            tx.Commit();
        }

        IReadOnlyList<SearchResult> hits = db.Search("docs", new float[] { 0.4f, 0.5f, 0.6f }, k: 10,
            new VectorSearchOptions { Filter = MetadataFilter.Parse("group = 3 or not group in [1, 2]"), Ef = 128 });
        CheckpointInfo checkpoint = db.Checkpoint();

        SearchResult hit = Assert.Single(hits);
        Assert.Equal("doc-2", hit.Id);
        Assert.Equal(1f, hit.Score, 4);
        Assert.Equal(1, checkpoint.Sequence);
    }
}

using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Storage.Versions;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>
/// A store whose records span several chunks of the collection's columns (and many id partitions) survives a
/// checkpoint and a reopen: every record, replaced record and deletion comes back, and writes go on after it.
/// </summary>
public sealed class ChunkedColumnsRoundTripTests
{
    private const int Records = (SlotColumn<long>.ChunkSize * 3) + 17;

    [Theory]
    [InlineData(DistanceMetric.Euclidean)]
    [InlineData(DistanceMetric.Cosine)] // the collection keeps its own vectors (SlotVectors)
    public void RecordsAcrossChunkBoundaries_SurviveCheckpointAndReopen(DistanceMetric metric)
    {
        using var temp = new TempDirectory();
        var options = new VectorDatabaseOptions { Wal = WalConfig.HighThroughput with { PreallocateSegments = false } };
        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            db.CreateCollection("c", new CollectionOptions(4) { Index = IndexKind.Flat, Metric = metric });
            db.InsertBatch("c", Enumerable.Range(0, Records).Select(i => new VectorRecord($"r{i}", VectorOf(i), Meta(i))));
            for (int i = 0; i < Records; i += 10)
            {
                db.Upsert("c", $"r{i}", VectorOf(i + 1_000_000), Meta(-i));
            }

            for (int i = 3; i < Records; i += 50)
            {
                Assert.True(db.Delete("c", $"r{i}"));
            }

            db.Checkpoint();
            db.Insert("c", "after-checkpoint", VectorOf(42)); // replayed from the WAL on reopen
        }

        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            int deleted = Enumerable.Range(0, Records).Count(i => i % 50 == 3);
            Assert.Equal(Records - deleted + 1, db.Count("c"));
            for (int i = 0; i < Records; i++)
            {
                VectorRecord? record = db.Get("c", $"r{i}");
                if (i % 50 == 3)
                {
                    Assert.Null(record);
                    continue;
                }

                Assert.NotNull(record);
                bool replaced = i % 10 == 0;
                Assert.Equal(VectorOf(replaced ? i + 1_000_000 : i), record.Vector.ToArray());
                Assert.Equal(replaced ? -i : i, record.Metadata["n"].AsLong);
            }

            Assert.NotNull(db.Get("c", "after-checkpoint"));

            // Writes go on after the restore: inserts reuse freed slots and grow past the last chunk.
            for (int i = 0; i < SlotColumn<long>.ChunkSize; i++)
            {
                db.Insert("c", $"new{i}", VectorOf(i + 2_000_000));
            }

            Assert.Throws<InvalidOperationException>(() => db.Insert("c", "r1", VectorOf(1)));
            Assert.Equal(VectorOf(2_000_000 + 5), db.Get("c", "new5")!.Vector.ToArray());
            Assert.Equal("r1", db.Search("c", VectorOf(1), 1, new VectorSearchOptions { Exact = true })[0].Id);
        }
    }

    private static float[] VectorOf(int i) => [1 + (i % 97), 1 + (i % 89), 1 + (i / 97 % 83), 1 + (i / 7)];

    private static Dictionary<string, MetadataValue> Meta(int i) => new() { ["n"] = MetadataValue.From((long)i) };
}

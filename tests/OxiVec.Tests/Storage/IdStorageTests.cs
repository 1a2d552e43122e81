using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>
/// Ids are held in an <see cref="IdColumn"/> (inline up to <see cref="IdColumn.InlineChars"/> characters, a string
/// beyond): every length and character survives writes, replacement, deletion, scans, filters and a checkpoint.
/// </summary>
public sealed class IdStorageTests
{
    private static readonly string[] Ids =
    [
        "7",
        "42",
        "é-ü-日本",
        new string('a', IdColumn.InlineChars - 1),
        new string('b', IdColumn.InlineChars),
        new string('c', IdColumn.InlineChars + 1),
        new string('d', 300),
        "123e4567-e89b-12d3-a456-426614174000",
    ];

    private static VectorDatabaseOptions Options() => new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 64 << 10, CheckpointInterval = 1_000_000 },
    };

    private static float[] Vector(int i) => [i, 1, 2, 3];

    private static void AssertHolds(VectorDatabase db, List<string> ids)
    {
        Assert.Equal(ids.Count, db.Count("c"));
        for (int i = 0; i < ids.Count; i++)
        {
            VectorRecord r = db.Get("c", ids[i])!;
            Assert.Equal(ids[i], r.Id);
            Assert.Equal(Array.IndexOf(Ids, ids[i]) + 100, r.Vector.Span[0]);
        }

        string[] expected = [.. ids.Order(RecordIdOrder.Instance)];
        Assert.Equal(expected, db.Scroll("c", null, null, 100).Select(r => r.Id));
        Assert.Equal(expected[2..], db.Scroll("c", null, expected[2], 100).Select(r => r.Id));
        Assert.Equal(expected[..3], db.Scroll("c", null, null, 3).Select(r => r.Id));
        string some = ids[ids.Count / 2];
        Assert.Equal([some], db.FindIds("c", MetadataFilter.HasId([some]), 10));
        Assert.Equal(ids.Count - 1, db.Count("c", MetadataFilter.Not(MetadataFilter.HasId([some]))));
        Assert.Equal(some, db.Search("c", Vector(Array.IndexOf(Ids, some) + 100), 1, new VectorSearchOptions { Exact = true, Filter = MetadataFilter.HasId([some]) })[0].Id);
    }

    [Theory]
    [InlineData(IndexKind.Flat)]
    [InlineData(IndexKind.Hnsw)]
    public void IdsOfEveryLength_SurviveReplaceDeleteCheckpointAndReopen(IndexKind kind)
    {
        using var temp = new TempDirectory();
        var live = new List<string>();
        using (var db = VectorDatabase.Open(temp.Path, Options()))
        {
            db.CreateCollection("c", new CollectionOptions(4) { Index = kind });
            foreach (string id in Ids)
            {
                db.Upsert("c", id, Vector(0), new Dictionary<string, MetadataValue>());
            }

            foreach (string id in Ids) // replaced: a new slot per id, the old one retired then reused
            {
                db.Upsert("c", id, Vector(Array.IndexOf(Ids, id) + 100), new Dictionary<string, MetadataValue>());
            }

            Assert.True(db.Delete("c", Ids[3]));
            Assert.False(db.Delete("c", Ids[3]));
            live.AddRange(Ids.Where((_, i) => i != 3));
            AssertHolds(db, live);
            db.Checkpoint();
            db.Upsert("c", Ids[3], Vector(103), new Dictionary<string, MetadataValue>()); // in the WAL after it
            live.Add(Ids[3]);
            AssertHolds(db, live);
        }

        using (var db = VectorDatabase.Open(temp.Path, Options()))
        {
            AssertHolds(db, live);
        }
    }
}

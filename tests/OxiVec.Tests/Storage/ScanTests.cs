using CsCheck;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>Scroll, Count and FindIds: filtered scans in <see cref="RecordIdOrder"/> at one published version.</summary>
public sealed class ScanTests
{
    private static readonly VectorDatabaseOptions Fast = new()
    {
        Wal = WalConfig.MaximumDurability with { SyncIntervalMs = 50, SegmentSizeBytes = 256 << 10, MaxWalSize = 16 << 20 },
    };

    private static VectorDatabase OpenWithDocs(TempDirectory temp)
    {
        var db = VectorDatabase.Open(temp.Path, Fast);
        db.CreateCollection("docs", new CollectionOptions(2) { Index = IndexKind.Flat });
        return db;
    }

    private static Dictionary<string, MetadataValue> Group(long group) => new() { ["group"] = group };

    [Fact]
    public void RecordIdOrder_IntegersByValueFirst_ThenOthersOrdinally()
    {
        string[] ids = ["b", "10", "9", "007", "a", "18446744073709551615", "18446744073709551616", "0", "-1", "1e3"];
        string[] sorted = [.. ids.Order(RecordIdOrder.Instance)];
        Assert.Equal(["0", "9", "10", "18446744073709551615", "-1", "007", "18446744073709551616", "1e3", "a", "b"], sorted);
    }

    [Fact]
    public void Scroll_PagesThroughFilteredRecords_InIdOrder()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenWithDocs(temp);
        for (int i = 0; i < 30; i++)
        {
            db.Upsert("docs", i % 3 == 0 ? $"u{i:00}" : i.ToString(System.Globalization.CultureInfo.InvariantCulture), new float[] { i, 1 }, Group(i % 2));
        }

        IReadOnlyList<VectorRecord> first = db.Scroll("docs", MetadataFilter.Equal("group", 0L), fromId: null, limit: 4);
        Assert.Equal(["2", "4", "8", "10"], first.Select(r => r.Id));
        Assert.Equal(new float[] { 2, 1 }, first[0].Vector.ToArray());
        IReadOnlyList<VectorRecord> next = db.Scroll("docs", MetadataFilter.Equal("group", 0L), fromId: "11", limit: 100);
        Assert.Equal(["14", "16", "20", "22", "26", "28", "u00", "u06", "u12", "u18", "u24"], next.Select(r => r.Id));
        Assert.Equal(15, db.Count("docs", MetadataFilter.Equal("group", 1L)));
        Assert.Equal(30, db.Count("docs", null));
        Assert.Equal(["1", "5", "7"], db.FindIds("docs", MetadataFilter.Equal("group", 1L), 3));
        Assert.Empty(db.Scroll("docs", null, fromId: "zzz", limit: 5));
    }

    [Fact]
    public void Scroll_DeletedAndReplacedRecords_AreSeenAsCommitted()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenWithDocs(temp);
        db.Upsert("docs", "1", new float[] { 1, 1 }, Group(1));
        db.Upsert("docs", "2", new float[] { 2, 1 }, Group(1));
        db.Delete("docs", "1");
        db.Upsert("docs", "2", new float[] { 5, 5 }, Group(2));
        VectorRecord only = Assert.Single(db.Scroll("docs", null, null, 10));
        Assert.Equal("2", only.Id);
        Assert.Equal(2, only.Metadata["group"].AsLong);
        Assert.Equal(0, db.Count("docs", MetadataFilter.Equal("group", 1L)));
    }

    [Fact]
    public async Task ScrollAndCount_WhileWritersCommitPairs_SeeWholeCommitsOnly()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenWithDocs(temp);
        const int Commits = 150;
        var writer = Task.Run(() =>
        {
            for (int i = 0; i < Commits; i++)
            {
                using VectorTransaction tx = db.BeginTransaction();
                tx.Upsert("docs", $"a{i:000}", new float[] { i, 1 }, Group(i));
                tx.Upsert("docs", $"b{i:000}", new float[] { i, 2 }, Group(i));
                if (i >= 10)
                {
                    tx.Delete("docs", $"a{i - 10:000}");
                    tx.Delete("docs", $"b{i - 10:000}");
                }

                tx.Commit();
            }
        });

        int reads = 0;
        while (!writer.IsCompleted && reads < 20_000)
        {
            reads++;
            long count = db.Count("docs", null);
            Assert.True(count % 2 == 0, $"a count saw half a commit: {count}");
            IReadOnlyList<VectorRecord> page = db.Scroll("docs", null, null, 1000);
            var ids = page.Select(r => r.Id).ToHashSet();
            Assert.All(ids, id => Assert.Contains((id[0] == 'a' ? "b" : "a") + id[1..], ids));
        }

        await writer;
        Assert.Equal(20, db.Count("docs", null));
    }

    private static readonly Gen<string> AnyId = Gen.OneOf(
        Gen.ULong.Select(u => u.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Int[0, 50].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Guid.Select(g => g.ToString("D")),
        Gen.String[Gen.Char["0a-"], 1, 4]);

    [Fact]
    public void Scroll_PagingFromNextId_YieldsExactlyTheFilteredOrderedSet()
    {
        using var temp = new TempDirectory();
        using VectorDatabase db = OpenWithDocs(temp);
        int round = 0;
        Gen.Select(Gen.Select(AnyId, Gen.Int[0, 2]).Array[0, 40], Gen.Int[1, 7], Gen.Int[0, 3]).Sample((records, pageSize, wanted) =>
        {
            string collection = $"c{round++}";
            db.CreateCollection(collection, new CollectionOptions(2) { Index = IndexKind.Flat });
            var expected = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach ((string id, int group) in records)
            {
                db.Upsert(collection, id, new float[] { 1, group }, Group(group));
                expected[id] = group;
            }

            MetadataFilter? filter = wanted == 3 ? null : MetadataFilter.Equal("group", (long)wanted);
            List<string> want = [.. expected.Where(p => wanted == 3 || p.Value == wanted).Select(p => p.Key).Order(RecordIdOrder.Instance)];
            var got = new List<string>();
            string? from = null;
            for (int pages = 0; pages <= want.Count + 1; pages++)
            {
                IReadOnlyList<VectorRecord> page = db.Scroll(collection, filter, from, pageSize + 1);
                got.AddRange(page.Take(pageSize).Select(r => r.Id));
                if (page.Count <= pageSize)
                {
                    break;
                }

                from = page[pageSize].Id;
            }

            Assert.Equal(want, got);
            Assert.Equal(want.Count, db.Count(collection, filter));
            db.DropCollection(collection);
        }, iter: 60);
    }
}

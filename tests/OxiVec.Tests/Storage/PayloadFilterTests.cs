using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>Id and nested-path conditions inside the index search, scroll and count.</summary>
public sealed class PayloadFilterTests
{
    [Fact]
    public void HasIdAndNestedPathFilters_WorkInSearchScrollAndCount()
    {
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, new VectorDatabaseOptions { Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 256 << 10, MaxWalSize = 16 << 20 } });
        db.CreateCollection("docs", new CollectionOptions(2));
        for (int i = 0; i < 50; i++)
        {
            MetadataValue city = MetadataValue.FromObject([new("population", (long)i), new("tags", MetadataValue.FromList([(long)(i % 5), MetadataValue.Null]))]);
            db.Upsert("docs", i.ToString(System.Globalization.CultureInfo.InvariantCulture), new float[] { i, 1 }, new Dictionary<string, MetadataValue> { ["city"] = city });
        }

        MetadataFilter ids = MetadataFilter.HasId(["3", "7", "40"]);
        Assert.Equal(["40", "7", "3"], db.Search("docs", new float[] { 49, 1 }, 10, new VectorSearchOptions { Filter = ids }).Select(r => r.Id));
        Assert.Equal(["3", "7", "40"], db.Scroll("docs", ids, null, 10).Select(r => r.Id));
        Assert.Equal(3, db.Count("docs", ids));
        Assert.False(ids.Matches(new Dictionary<string, MetadataValue>()));

        MetadataFilter nested = MetadataFilter.And(MetadataFilter.Range("city.population", gte: 10), MetadataFilter.MatchAny("city.tags", 2L));
        Assert.Equal(["12", "17", "22"], db.Scroll("docs", nested, null, 3).Select(r => r.Id));
        Assert.Equal(8, db.Count("docs", nested));
        Assert.Equal(["47", "42"], db.Search("docs", new float[] { 49, 1 }, 2, new VectorSearchOptions { Filter = nested }).Select(r => r.Id));
    }

    [Theory]
    [InlineData("a.b[].c", true)]
    [InlineData("a[3]", true)]
    [InlineData("\"a.b\".c", true)]
    [InlineData("a..b", false)]
    [InlineData("a[x]", false)]
    [InlineData("a[", false)]
    [InlineData("", false)]
    [InlineData(".a", false)]
    public void FieldPath_Parse_AcceptsQdrantKeysAndRefusesOthers(string path, bool valid)
    {
        if (valid)
        {
            Assert.Equal(path, FieldPath.Parse(path).Text);
        }
        else
        {
            Assert.Throws<FormatException>(() => FieldPath.Parse(path));
        }
    }

    [Fact]
    public void QuotedName_ReachesAFieldWhoseNameHoldsADot()
    {
        var metadata = new Dictionary<string, MetadataValue> { ["a.b"] = MetadataValue.FromObject([new("c", 1L)]) };
        Assert.True(MetadataFilter.MatchAny("\"a.b\".c", 1L).Matches(metadata));
        Assert.False(MetadataFilter.MatchAny("a.b.c", 1L).Matches(metadata));
    }
}

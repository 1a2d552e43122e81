using System.Text.Json;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;

namespace OxiVec.Server.Tests.Translation;

/// <summary>Qdrant filters evaluated on Qdrant payloads, scenario by scenario (Qdrant's semantics, see <see cref="QdrantFilter"/>).</summary>
public sealed class QdrantFilterTests
{
    private static bool Holds(string filter, string payload, string id = "1")
    {
        using var f = JsonDocument.Parse(filter);
        using var p = JsonDocument.Parse(payload);
        MetadataFilter? translated = QdrantFilter.Translate(f.RootElement, 16);
        return translated?.Matches(id, QdrantPayload.ToMetadata(p.RootElement, "payload")) ?? true;
    }

    private static QdrantRequestException Refused(string filter, int maxDepth = 16)
    {
        using var f = JsonDocument.Parse(filter);
        return Assert.Throws<QdrantRequestException>(() => QdrantFilter.Translate(f.RootElement, maxDepth));
    }

    private const string Germany = """{"country": {"name": "Germany", "cities": [{"name": "Berlin", "population": 3.7}, {"name": "Munich", "population": 1.5}]}, "tags": ["a", "b"], "n": [1, 2, 3], "none": null, "empty": []}""";

    [Theory]
    [InlineData("""{"must": [{"key": "country.name", "match": {"value": "Germany"}}]}""", true)]
    [InlineData("""{"must": [{"key": "country.name", "match": {"value": "France"}}]}""", false)]
    [InlineData("""{"must": [{"key": "country.cities[].population", "range": {"gte": 3}}]}""", true)]
    [InlineData("""{"must": [{"key": "country.cities[].population", "range": {"gt": 4}}]}""", false)]
    [InlineData("""{"must": [{"key": "country.cities[1].name", "match": {"value": "Munich"}}]}""", true)]
    [InlineData("""{"must": [{"key": "country.cities[].name", "match": {"any": ["Paris", "Berlin"]}}]}""", true)]
    [InlineData("""{"must": [{"key": "tags", "match": {"value": "b"}}]}""", true)]
    [InlineData("""{"must": [{"key": "n", "match": {"value": 2}}]}""", true)]
    [InlineData("""{"must": [{"key": "n", "match": {"any": [7, 8]}}]}""", false)]
    [InlineData("""{"must": [{"key": "n", "range": {"lt": 1.5}}]}""", true)]
    public void NestedPathsAndArrays_MatchWhenAnyValueMatches(string filter, bool expected) => Assert.Equal(expected, Holds(filter, Germany));

    [Theory]
    [InlineData("""{"must_not": [{"key": "missing", "match": {"value": "x"}}]}""", true)]
    [InlineData("""{"must": [{"key": "missing", "match": {"except": ["x"]}}]}""", false)]
    [InlineData("""{"must": [{"key": "none", "match": {"except": ["x"]}}]}""", false)]
    [InlineData("""{"must": [{"key": "tags", "match": {"except": ["a"]}}]}""", true)]
    [InlineData("""{"must": [{"key": "tags", "match": {"except": ["a", "b"]}}]}""", false)]
    [InlineData("""{"must": [{"key": "empty", "match": {"except": ["a"]}}]}""", false)]
    [InlineData("""{"must": [{"key": "n", "match": {"except": ["a"]}}]}""", true)]
    public void MissingFieldsAndExcept_FollowQdrantsConditionChecker(string filter, bool expected) => Assert.Equal(expected, Holds(filter, Germany));

    [Theory]
    [InlineData("missing", true, false)]
    [InlineData("none", true, true)]
    [InlineData("empty", true, false)]
    [InlineData("tags", false, false)]
    [InlineData("country.name", false, false)]
    [InlineData("country.cities[].nothing", true, false)]
    public void IsEmptyAndIsNull_AsQdrant(string key, bool empty, bool isNull)
    {
        Assert.Equal(empty, Holds($$$"""{"must": [{"is_empty": {"key": "{{{key}}}"}}]}""", Germany));
        Assert.Equal(isNull, Holds($$$"""{"must": [{"is_null": {"key": "{{{key}}}"}}]}""", Germany));
    }

    [Fact]
    public void IsNull_OnAListHoldingNull_IsFalse() => Assert.False(Holds("""{"must": {"is_null": {"key": "a"}}}""", """{"a": [null]}"""));

    [Fact]
    public void HasId_SeesTheRecordId()
    {
        const string filter = """{"must": [{"has_id": [1, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"]}]}""";
        Assert.True(Holds(filter, "{}", "1"));
        Assert.True(Holds(filter, "{}", "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"));
        Assert.False(Holds(filter, "{}", "2"));
    }

    [Theory]
    [InlineData("""{"must": [{"key": "n", "values_count": {"gte": 3}}]}""", true)]
    [InlineData("""{"must": [{"key": "n", "values_count": {"gt": 3}}]}""", false)]
    [InlineData("""{"must": [{"key": "missing", "values_count": {"lt": 1}}]}""", true)]
    [InlineData("""{"must": [{"key": "none", "values_count": {"lte": 0}}]}""", true)]
    [InlineData("""{"min_should": {"conditions": [{"key": "tags", "match": {"value": "a"}}, {"key": "n", "match": {"value": 9}}, {"key": "none", "is_null": null, "match": {"value": "x"}}], "min_count": 2}}""", false)]
    [InlineData("""{"min_should": {"conditions": [{"key": "tags", "match": {"value": "a"}}, {"key": "n", "match": {"value": 3}}], "min_count": 2}}""", true)]
    [InlineData("""{"should": []}""", false)]
    [InlineData("""{"must": [], "must_not": []}""", true)]
    [InlineData("""{}""", true)]
    public void ValuesCountMinShouldAndEmptyClauses_AsQdrant(string filter, bool expected) => Assert.Equal(expected, Holds(filter, Germany));

    [Fact]
    public void MatchIntegerValue_DoesNotEqualAStoredFloat()
    {
        Assert.False(Holds("""{"must": [{"key": "x", "match": {"value": 2}}]}""", """{"x": 2.0}"""));
        Assert.True(Holds("""{"must": [{"key": "x", "match": {"value": 2}}]}""", """{"x": 2}"""));
    }

    [Theory]
    [InlineData("""{"must": [{"key": "t", "match": {"text": "hello"}}]}""", "filter.must[0].match.text", "full-text")]
    [InlineData("""{"must": [{"key": "t", "match": {"value": 1.5}}]}""", "filter.must[0].match.value", "integer")]
    [InlineData("""{"must": [{"key": "t", "match": {"any": ["a", 1]}}]}""", "filter.must[0].match.any[1]", "mixed")]
    [InlineData("""{"must": [{"key": "t", "range": {"gte": "2024-01-01T00:00:00Z"}}]}""", "filter.must[0].range.gte", "datetime")]
    [InlineData("""{"must": [{"nested": {"key": "a", "filter": {}}}]}""", "filter.must[0].nested", "nested")]
    [InlineData("""{"must": [{"key": "a..b", "match": {"value": 1}}]}""", "filter.must[0].key", "position")]
    [InlineData("""{"must": [{"key": "t", "match": {"value": 1}, "range": {"gt": 1}}]}""", "filter.must[0].range", "one of")]
    [InlineData("""{"filter": []}""", "filter.filter", "clause")]
    public void Unsupported_IsRefusedNamingTheFieldAndTheFeature(string filter, string path, string words)
    {
        QdrantRequestException ex = Refused(filter);
        Assert.Equal(path, ex.Path);
        Assert.Contains(words, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeepNesting_BeyondMaxFilterDepth_IsRefusedNamingTheLimit()
    {
        string filter = """{"key": "a", "match": {"value": 1}}""";
        for (int i = 0; i < 10; i++)
        {
            filter = $$"""{"must": [{{filter}}]}""";
        }

        using var f = JsonDocument.Parse(filter);
        Assert.NotNull(QdrantFilter.Translate(f.RootElement, 10));
        QdrantRequestException ex = Assert.Throws<QdrantRequestException>(() => QdrantFilter.Translate(f.RootElement, 9));
        Assert.Contains("MaxFilterDepth", ex.Message, StringComparison.Ordinal);
    }
}

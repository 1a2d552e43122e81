using System.Text.Json;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant.Translation;

/// <summary>
/// OxiVec's extension of Qdrant's field conditions: <c>{"key": "field", "oxivec_string_range": {"gt": "a", "lte": "b"}}</c>
/// holds when the top-level field is a string ordinally within the bounds (strings only: a missing field, null, a
/// number or a list never is). It is what OxiVec's embedded filters do with <c>field &gt; "text"</c>, and what the
/// VectorData provider's remote back end sends for DateTime and DateTimeOffset fields, stored as fixed-width sortable
/// UTC strings. Qdrant has no such condition, so no Qdrant client sends it; Qdrant's own <c>range</c> is unchanged.
/// </summary>
internal static class OxiVecStringRange
{
    /// <summary>The condition's name in a field condition.</summary>
    public const string Name = "oxivec_string_range";

    /// <summary>The filter of <paramref name="range"/> on <paramref name="key"/>.</summary>
    /// <exception cref="QdrantRequestException">Not an object of string bounds gt, gte, lt, lte (at least one), or a key that is a path.</exception>
    public static MetadataFilter Translate(string key, JsonElement range, string path)
    {
        if (key.AsSpan().IndexOfAny(".[]\"") >= 0)
        {
            throw new QdrantRequestException(path, $"{Name} takes a top-level field name; got the path '{key}'.");
        }

        if (range.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, $"{Name} is an object with string bounds gt, gte, lt, lte.");
        }

        var bounds = new List<MetadataFilter>(2);
        foreach (JsonProperty bound in range.EnumerateObject())
        {
            string boundPath = $"{path}.{bound.Name}";
            FilterOperator op = bound.Name switch
            {
                "gt" => FilterOperator.GreaterThan,
                "gte" => FilterOperator.GreaterThanOrEqual,
                "lt" => FilterOperator.LessThan,
                "lte" => FilterOperator.LessThanOrEqual,
                _ => throw new QdrantRequestException(boundPath, $"{Name} has the bounds gt, gte, lt, lte; got '{bound.Name}'."),
            };
            if (bound.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (bound.Value.ValueKind != JsonValueKind.String)
            {
                throw new QdrantRequestException(boundPath, $"a bound of {Name} is a string.");
            }

            bounds.Add(MetadataFilter.Compare(key, op, MetadataValue.From(bound.Value.GetString()!)));
        }

        return bounds.Count switch
        {
            0 => throw new QdrantRequestException(path, $"{Name} needs at least one of gt, gte, lt, lte."),
            1 => bounds[0],
            _ => MetadataFilter.And(bounds),
        };
    }
}

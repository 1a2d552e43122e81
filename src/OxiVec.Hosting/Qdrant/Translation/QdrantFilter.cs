using System.Text.Json;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant.Translation;

/// <summary>
/// Qdrant filters translated into OxiVec's <see cref="MetadataFilter"/>, which the index evaluates inside its search
/// (never a post-filter): <c>must</c> (all), <c>should</c> (any), <c>must_not</c> (none), nested; field conditions
/// with <c>match</c> (<c>value</c>, <c>any</c>, <c>except</c>) and <c>range</c> (<c>gt</c>, <c>gte</c>, <c>lt</c>, <c>lte</c>).
/// </summary>
public static class QdrantFilter
{
    /// <summary>The filter at <paramref name="filter"/>, or null when it is absent, null or empty (matches everything).</summary>
    /// <exception cref="QdrantRequestException">Malformed, unsupported or deeper than <paramref name="maxDepth"/>; the message names the path.</exception>
    public static MetadataFilter? Translate(JsonElement filter, int maxDepth, string path = "filter") =>
        filter.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null : TranslateFilter(filter, maxDepth, path, 1);

    private static MetadataFilter? TranslateFilter(JsonElement filter, int maxDepth, string path, int depth)
    {
        if (depth > maxDepth)
        {
            throw new QdrantRequestException(path, $"the filter nests deeper than {maxDepth} levels (the server's MaxFilterDepth).");
        }

        if (filter.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, "a filter is an object with must, should and must_not.");
        }

        var parts = new List<MetadataFilter>();
        foreach (JsonProperty clause in filter.EnumerateObject())
        {
            string clausePath = $"{path}.{clause.Name}";
            switch (clause.Name)
            {
                case "must":
                    List<MetadataFilter> all = Conditions(clause.Value, maxDepth, clausePath, depth);
                    if (all.Count > 0)
                    {
                        parts.Add(all.Count == 1 ? all[0] : MetadataFilter.And(all));
                    }

                    break;
                case "should":
                    List<MetadataFilter> any = Conditions(clause.Value, maxDepth, clausePath, depth);
                    if (any.Count > 0)
                    {
                        parts.Add(any.Count == 1 ? any[0] : MetadataFilter.Or(any));
                    }

                    break;
                case "must_not":
                    List<MetadataFilter> none = Conditions(clause.Value, maxDepth, clausePath, depth);
                    if (none.Count > 0)
                    {
                        parts.Add(MetadataFilter.Not(none.Count == 1 ? none[0] : MetadataFilter.Or(none)));
                    }

                    break;
                default:
                    throw new QdrantRequestException(clausePath, $"OxiVec does not support the filter clause '{clause.Name}' (supported: must, should, must_not).");
            }
        }

        return parts.Count switch
        {
            0 => null,
            1 => parts[0],
            _ => MetadataFilter.And(parts),
        };
    }

    private static List<MetadataFilter> Conditions(JsonElement clause, int maxDepth, string path, int depth)
    {
        var conditions = new List<MetadataFilter>();
        if (clause.ValueKind is JsonValueKind.Null)
        {
            return conditions;
        }

        if (clause.ValueKind == JsonValueKind.Object)
        {
            AddCondition(conditions, clause, maxDepth, path, depth); // Qdrant accepts one condition without the array
            return conditions;
        }

        if (clause.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantRequestException(path, "a list of conditions is expected.");
        }

        int i = 0;
        foreach (JsonElement condition in clause.EnumerateArray())
        {
            AddCondition(conditions, condition, maxDepth, $"{path}[{i++}]", depth);
        }

        return conditions;
    }

    private static void AddCondition(List<MetadataFilter> conditions, JsonElement condition, int maxDepth, string path, int depth)
    {
        if (condition.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, "a condition is an object.");
        }

        if (condition.TryGetProperty("key", out JsonElement key))
        {
            conditions.Add(FieldCondition(condition, key, path));
            return;
        }

        if (condition.TryGetProperty("must", out _) || condition.TryGetProperty("should", out _) || condition.TryGetProperty("must_not", out _))
        {
            if (TranslateFilter(condition, maxDepth, path, depth + 1) is { } nested)
            {
                conditions.Add(nested);
            }

            return;
        }

        string name = condition.EnumerateObject().Select(p => p.Name).FirstOrDefault() ?? "(empty)";
        throw new QdrantRequestException(path, $"OxiVec does not support the condition '{name}' (supported: field conditions with match or range, nested filters).");
    }

    private static MetadataFilter FieldCondition(JsonElement condition, JsonElement keyElement, string path)
    {
        if (keyElement.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(keyElement.GetString()))
        {
            throw new QdrantRequestException($"{path}.key", "the key is a non-empty string.");
        }

        string key = keyElement.GetString()!;
        var parts = new List<MetadataFilter>();
        foreach (JsonProperty property in condition.EnumerateObject())
        {
            switch (property.Name)
            {
                case "key":
                    break;
                case "match":
                    parts.Add(Match(key, property.Value, $"{path}.match"));
                    break;
                case "range":
                    parts.AddRange(Range(key, property.Value, $"{path}.range"));
                    break;
                default:
                    throw new QdrantRequestException($"{path}.{property.Name}", $"OxiVec does not support the field condition '{property.Name}' (supported: match, range).");
            }
        }

        return parts.Count switch
        {
            0 => throw new QdrantRequestException(path, $"the condition on '{key}' has neither match nor range."),
            1 => parts[0],
            _ => MetadataFilter.And(parts),
        };
    }

    private static MetadataFilter Match(string key, JsonElement match, string path)
    {
        if (match.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, "match is an object with value, any or except.");
        }

        if (match.TryGetProperty("value", out JsonElement value))
        {
            return MetadataFilter.Equal(key, Scalar(value, $"{path}.value"));
        }

        if (match.TryGetProperty("any", out JsonElement any))
        {
            return MetadataFilter.In(key, Values(any, $"{path}.any"));
        }

        if (match.TryGetProperty("except", out JsonElement except))
        {
            return MetadataFilter.Not(MetadataFilter.In(key, Values(except, $"{path}.except")));
        }

        string name = match.EnumerateObject().Select(p => p.Name).FirstOrDefault() ?? "(empty)";
        throw new QdrantRequestException(path, $"OxiVec does not support match '{name}' (supported: value, any, except).");
    }

    private static List<MetadataFilter> Range(string key, JsonElement range, string path)
    {
        if (range.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, "range is an object with gt, gte, lt, lte.");
        }

        var parts = new List<MetadataFilter>();
        foreach (JsonProperty bound in range.EnumerateObject())
        {
            if (bound.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            FilterOperator op = bound.Name switch
            {
                "gt" => FilterOperator.GreaterThan,
                "gte" => FilterOperator.GreaterThanOrEqual,
                "lt" => FilterOperator.LessThan,
                "lte" => FilterOperator.LessThanOrEqual,
                _ => throw new QdrantRequestException($"{path}.{bound.Name}", $"OxiVec does not support the range bound '{bound.Name}' (supported: gt, gte, lt, lte)."),
            };
            if (bound.Value.ValueKind != JsonValueKind.Number)
            {
                throw new QdrantRequestException($"{path}.{bound.Name}", "a range bound is a number.");
            }

            parts.Add(MetadataFilter.Compare(key, op, Scalar(bound.Value, $"{path}.{bound.Name}")));
        }

        if (parts.Count == 0)
        {
            throw new QdrantRequestException(path, "the range has no bound.");
        }

        return parts;
    }

    private static MetadataValue[] Values(JsonElement values, string path)
    {
        if (values.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantRequestException(path, "a list of values is expected.");
        }

        var list = new List<MetadataValue>(values.GetArrayLength());
        int i = 0;
        foreach (JsonElement value in values.EnumerateArray())
        {
            list.Add(Scalar(value, $"{path}[{i++}]"));
        }

        return [.. list];
    }

    private static MetadataValue Scalar(JsonElement value, string path) => value.ValueKind switch
    {
        JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => QdrantPayload.ToValue(value, path),
        _ => throw new QdrantRequestException(path, $"a string, number or boolean is expected; got {value.ValueKind.ToString().ToLowerInvariant()}."),
    };
}

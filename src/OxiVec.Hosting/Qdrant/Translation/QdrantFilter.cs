using System.Text.Json;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant.Translation;

/// <summary>
/// Qdrant filters translated into OxiVec's <see cref="MetadataFilter"/>, which the index evaluates inside its search
/// (never a post-filter), with Qdrant's semantics.
/// </summary>
/// <remarks>
/// <para>
/// Clauses: <c>must</c> (all hold; empty: true), <c>should</c> (some holds; an empty list: false, as in Qdrant),
/// <c>must_not</c> (none holds), <c>min_should</c> (<c>{conditions, min_count}</c>), each a list of conditions or one
/// condition; clauses of one filter all hold together. Conditions: field conditions
/// <c>{key, match | range | values_count}</c>, <c>{is_empty: {key}}</c>, <c>{is_null: {key}}</c>,
/// <c>{has_id: [ids]}</c> and nested filters.
/// </para>
/// <para>
/// Keys are paths into nested payloads (<c>country.name</c>, <c>country.cities[].population</c>, <c>tags[0]</c>,
/// <c>"a.b"</c> for a name holding a dot). A condition holds when some value at the path does, and a list value
/// when some item does (a list inside a list is not looked into). With no value at the path (a missing field):
/// <c>match</c> (value, any, except) and <c>range</c> are false, so <c>must_not</c> of them is true;
/// <c>match.except</c> is also false on null, and true on a list with an item outside the values: this is Qdrant's
/// condition checker (<c>check_empty</c> is false for a match, the except arm gives false for null), which its
/// documentation leaves unsaid. <c>is_empty</c> holds when every value is null or <c>[]</c> or there is none;
/// <c>is_null</c> when some value is null (<c>[null]</c> is not null); <c>values_count</c> counts a list's items,
/// null as 0, any other value as 1, and no value as 0.
/// </para>
/// <para>
/// Values: <c>match.value</c> is a string, integer or boolean and equals a stored value of the same kind only (an
/// integer never equals a stored float such as <c>2.0</c>, as in Qdrant); <c>any</c> and <c>except</c> are lists of
/// strings or of integers. <c>range</c> bounds are numbers and compare with integers exactly (Qdrant converts to
/// 64-bit floats, which differs only beyond 2^53).
/// </para>
/// <para>
/// Refused with a 400 naming them: full-text matches (<c>text</c>, <c>text_any</c>, <c>phrase</c>, <c>prefix</c>:
/// OxiVec has no full-text index), datetime ranges, geo conditions, <c>nested</c>, <c>has_vector</c>, the
/// field-level <c>is_empty</c>/<c>is_null</c> flags, and a field condition with more than one of match, range and
/// values_count. Filters nest at most the server's MaxFilterDepth levels.
/// </para>
/// </remarks>
public static class QdrantFilter
{
    /// <summary>The filter at <paramref name="filter"/>, or null when it is absent, null or empty (matches everything).</summary>
    /// <exception cref="QdrantRequestException">Malformed, unsupported or deeper than <paramref name="maxDepth"/>; the message names the path.</exception>
    public static MetadataFilter? Translate(JsonElement filter, int maxDepth, string path = "filter")
    {
        if (filter.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return null;
        }

        try
        {
            return TranslateFilter(filter, maxDepth, path, 1);
        }
        catch (InvalidOperationException ex)
        {
            throw new QdrantRequestException(path, $"the filter holds text that is not valid Unicode ({ex.Message})");
        }
        catch (ArgumentException ex) when (ex is not QdrantRequestException)
        {
            throw new QdrantRequestException(path, ex.Message); // the engine's own limits (MetadataFilter.MaxDepth)
        }
    }

    private static MetadataFilter? TranslateFilter(JsonElement filter, int maxDepth, string path, int depth)
    {
        if (depth > maxDepth)
        {
            throw new QdrantRequestException(path, $"the filter nests deeper than {maxDepth} levels (the server's MaxFilterDepth).");
        }

        if (filter.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, "a filter is an object with must, should, must_not and min_should.");
        }

        var parts = new List<MetadataFilter>();
        foreach (JsonProperty clause in filter.EnumerateObject())
        {
            string clausePath = $"{path}.{clause.Name}";
            if (clause.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            switch (clause.Name)
            {
                case "must":
                    parts.AddRange(Conditions(clause.Value, maxDepth, clausePath, depth));
                    break;
                case "should":
                    List<MetadataFilter> any = Conditions(clause.Value, maxDepth, clausePath, depth);
                    parts.Add(any.Count switch
                    {
                        0 => MetadataFilter.Never,
                        1 => any[0],
                        _ => MetadataFilter.Or(any),
                    });
                    break;
                case "must_not":
                    foreach (MetadataFilter condition in Conditions(clause.Value, maxDepth, clausePath, depth))
                    {
                        parts.Add(MetadataFilter.Not(condition));
                    }

                    break;
                case "min_should":
                    parts.Add(MinShould(clause.Value, maxDepth, clausePath, depth));
                    break;
                default:
                    throw new QdrantRequestException(clausePath, $"OxiVec does not support the filter clause '{clause.Name}' (supported: must, should, must_not, min_should).");
            }
        }

        return parts.Count switch
        {
            0 => null,
            1 => parts[0],
            _ => MetadataFilter.And(parts),
        };
    }

    private static MetadataFilter MinShould(JsonElement minShould, int maxDepth, string path, int depth)
    {
        if (minShould.ValueKind != JsonValueKind.Object
            || !minShould.TryGetProperty("conditions", out JsonElement conditions)
            || !minShould.TryGetProperty("min_count", out JsonElement minCount))
        {
            throw new QdrantRequestException(path, "min_should is an object with conditions and min_count.");
        }

        foreach (JsonProperty extra in minShould.EnumerateObject())
        {
            if (extra.Name is not ("conditions" or "min_count"))
            {
                throw new QdrantRequestException($"{path}.{extra.Name}", $"min_should has no field '{extra.Name}'.");
            }
        }

        if (minCount.ValueKind != JsonValueKind.Number || !minCount.TryGetInt32(out int count) || count < 0)
        {
            throw new QdrantRequestException($"{path}.min_count", "min_count is a non-negative integer.");
        }

        return MetadataFilter.AtLeast(count, Conditions(conditions, maxDepth, $"{path}.conditions", depth));
    }

    private static List<MetadataFilter> Conditions(JsonElement clause, int maxDepth, string path, int depth)
    {
        var conditions = new List<MetadataFilter>();
        if (clause.ValueKind == JsonValueKind.Object)
        {
            conditions.Add(Condition(clause, maxDepth, path, depth)); // Qdrant accepts one condition without the array
            return conditions;
        }

        if (clause.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantRequestException(path, "a list of conditions is expected.");
        }

        int i = 0;
        foreach (JsonElement condition in clause.EnumerateArray())
        {
            conditions.Add(Condition(condition, maxDepth, $"{path}[{i++}]", depth));
        }

        return conditions;
    }

    private static MetadataFilter Condition(JsonElement condition, int maxDepth, string path, int depth)
    {
        if (condition.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, "a condition is an object.");
        }

        if (condition.TryGetProperty("key", out JsonElement key))
        {
            return FieldCondition(condition, key, path);
        }

        string name = condition.EnumerateObject().Select(p => p.Name).FirstOrDefault() ?? "(empty)";
        switch (name)
        {
            case "must" or "should" or "must_not" or "min_should":
            case "(empty)":
                return TranslateFilter(condition, maxDepth, path, depth + 1) ?? MetadataFilter.Always;
            case "is_empty":
                return MetadataFilter.IsEmpty(KeyOf(Single(condition, name, path), $"{path}.is_empty"));
            case "is_null":
                return MetadataFilter.IsNull(KeyOf(Single(condition, name, path), $"{path}.is_null"));
            case "has_id":
                return HasId(Single(condition, name, path), $"{path}.has_id");
            default:
                throw new QdrantRequestException($"{path}.{name}", $"OxiVec does not support the condition '{name}' (supported: field conditions with match, range or values_count; is_empty; is_null; has_id; nested filters).");
        }
    }

    private static JsonElement Single(JsonElement condition, string name, string path)
    {
        foreach (JsonProperty property in condition.EnumerateObject())
        {
            if (property.Name != name)
            {
                throw new QdrantRequestException($"{path}.{property.Name}", $"a {name} condition has no other field.");
            }
        }

        return condition.GetProperty(name);
    }

    private static string KeyOf(JsonElement keyed, string path)
    {
        if (keyed.ValueKind != JsonValueKind.Object || !keyed.TryGetProperty("key", out JsonElement key))
        {
            throw new QdrantRequestException(path, "an object with a key is expected.");
        }

        return Key(key, $"{path}.key");
    }

    private static string Key(JsonElement key, string path)
    {
        if (key.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(key.GetString()))
        {
            throw new QdrantRequestException(path, "the key is a non-empty string.");
        }

        string text = key.GetString()!;
        try
        {
            _ = FieldPath.Parse(text);
        }
        catch (FormatException ex)
        {
            throw new QdrantRequestException(path, ex.Message);
        }

        return text;
    }

    private static MetadataFilter HasId(JsonElement ids, string path)
    {
        if (ids.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantRequestException(path, "has_id is a list of point ids.");
        }

        var parsed = new List<string>(ids.GetArrayLength());
        int i = 0;
        foreach (JsonElement id in ids.EnumerateArray())
        {
            parsed.Add(QdrantPointId.Parse(id, $"{path}[{i++}]"));
        }

        return MetadataFilter.HasId(parsed);
    }

    private static MetadataFilter FieldCondition(JsonElement condition, JsonElement keyElement, string path)
    {
        string key = Key(keyElement, $"{path}.key");
        MetadataFilter? result = null;
        string? chosen = null;
        foreach (JsonProperty property in condition.EnumerateObject())
        {
            if (property.Name == "key" || property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            string propertyPath = $"{path}.{property.Name}";
            MetadataFilter next = property.Name switch
            {
                "match" => Match(key, property.Value, propertyPath),
                "range" => Range(key, property.Value, propertyPath),
                "values_count" => ValuesCount(key, property.Value, propertyPath),
                OxiVecStringRange.Name => OxiVecStringRange.Translate(key, property.Value, propertyPath), // OxiVec's extension; Qdrant has no such condition
                "geo_radius" or "geo_bounding_box" or "geo_polygon" => throw new QdrantRequestException(propertyPath, $"OxiVec does not support geo conditions ('{property.Name}')."),
                "is_empty" or "is_null" => throw new QdrantRequestException(propertyPath, $"OxiVec takes {property.Name} as its own condition, {{\"{property.Name}\": {{\"key\": ...}}}}, not as a field of a field condition."),
                _ => throw new QdrantRequestException(propertyPath, $"OxiVec does not support the field condition '{property.Name}' (supported: match, range, values_count)."),
            };
            if (chosen is not null)
            {
                throw new QdrantRequestException(propertyPath, $"OxiVec takes one of match, range and values_count per field condition; this one also has {chosen}.");
            }

            (result, chosen) = (next, property.Name);
        }

        return result ?? throw new QdrantRequestException(path, $"the condition on '{key}' has neither match, range nor values_count.");
    }

    private static MetadataFilter Match(string key, JsonElement match, string path)
    {
        if (match.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, "match is an object with value, any or except.");
        }

        JsonProperty[] properties = [.. match.EnumerateObject()];
        if (properties.Length != 1)
        {
            throw new QdrantRequestException(path, "match has exactly one of value, any or except.");
        }

        JsonProperty only = properties[0];
        string valuePath = $"{path}.{only.Name}";
        return only.Name switch
        {
            "value" => MetadataFilter.MatchAny(key, MatchValue(only.Value, valuePath)),
            "any" => MetadataFilter.MatchAny(key, Values(only.Value, valuePath)),
            "except" => MetadataFilter.MatchExcept(key, Values(only.Value, valuePath)),
            "text" or "text_any" or "phrase" or "prefix" => throw new QdrantRequestException(valuePath, $"OxiVec does not support full-text match '{only.Name}' (it has no full-text index)."),
            _ => throw new QdrantRequestException(valuePath, $"OxiVec does not support match '{only.Name}' (supported: value, any, except)."),
        };
    }

    private static MetadataValue MatchValue(JsonElement value, string path) => value.ValueKind switch
    {
        JsonValueKind.String => MetadataValue.From(value.GetString()!),
        JsonValueKind.True or JsonValueKind.False => MetadataValue.From(value.GetBoolean()),
        JsonValueKind.Number when value.TryGetInt64(out long l) => MetadataValue.From(l),
        JsonValueKind.Number => throw new QdrantRequestException(path, "match.value is a string, an integer or a boolean; got a number that is not a 64-bit integer (use range for floats)."),
        _ => throw new QdrantRequestException(path, $"match.value is a string, an integer or a boolean; got {Describe(value)}."),
    };

    private static MetadataValue[] Values(JsonElement values, string path)
    {
        if (values.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantRequestException(path, "a list of strings or of integers is expected.");
        }

        var list = new MetadataValue[values.GetArrayLength()];
        JsonValueKind? kind = null;
        int i = 0;
        foreach (JsonElement value in values.EnumerateArray())
        {
            string itemPath = $"{path}[{i}]";
            if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number) || (kind is { } k && k != value.ValueKind))
            {
                throw new QdrantRequestException(itemPath, $"a list of strings or of integers is expected (not mixed); got {Describe(value)}.");
            }

            kind = value.ValueKind;
            list[i++] = value.ValueKind == JsonValueKind.String
                ? MetadataValue.From(value.GetString()!)
                : value.TryGetInt64(out long l) ? MetadataValue.From(l) : throw new QdrantRequestException(itemPath, "an integer in the 64-bit range is expected.");
        }

        return list;
    }

    private static MetadataFilter Range(string key, JsonElement range, string path)
    {
        if (range.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, "range is an object with gt, gte, lt, lte.");
        }

        double? gt = null, gte = null, lt = null, lte = null;
        foreach (JsonProperty bound in range.EnumerateObject())
        {
            string boundPath = $"{path}.{bound.Name}";
            if (bound.Name is not ("gt" or "gte" or "lt" or "lte"))
            {
                throw new QdrantRequestException(boundPath, $"OxiVec does not support the range bound '{bound.Name}' (supported: gt, gte, lt, lte).");
            }

            double? value = bound.Value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.Number when bound.Value.TryGetDouble(out double d) && double.IsFinite(d) => d,
                JsonValueKind.Number => throw new QdrantRequestException(boundPath, "the bound is beyond the range of a 64-bit float."),
                JsonValueKind.String => throw new QdrantRequestException(boundPath, "OxiVec does not support datetime ranges; a range bound is a number."),
                _ => throw new QdrantRequestException(boundPath, $"a range bound is a number; got {Describe(bound.Value)}."),
            };
            switch (bound.Name)
            {
                case "gt": gt = value; break;
                case "gte": gte = value; break;
                case "lt": lt = value; break;
                default: lte = value; break;
            }
        }

        return MetadataFilter.Range(key, gt, gte, lt, lte);
    }

    private static MetadataFilter ValuesCount(string key, JsonElement range, string path)
    {
        if (range.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, "values_count is an object with gt, gte, lt, lte.");
        }

        long? gt = null, gte = null, lt = null, lte = null;
        foreach (JsonProperty bound in range.EnumerateObject())
        {
            string boundPath = $"{path}.{bound.Name}";
            long? value = bound.Value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.Number when bound.Value.TryGetInt64(out long n) && n >= 0 => n,
                _ => throw new QdrantRequestException(boundPath, $"a values_count bound is a non-negative integer; got {Describe(bound.Value)}."),
            };
            switch (bound.Name)
            {
                case "gt": gt = value; break;
                case "gte": gte = value; break;
                case "lt": lt = value; break;
                case "lte": lte = value; break;
                default: throw new QdrantRequestException(boundPath, $"values_count has no bound '{bound.Name}' (gt, gte, lt, lte).");
            }
        }

        return MetadataFilter.ValuesCount(key, gt, gte, lt, lte);
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => $"the number {(value.GetRawText() is { Length: <= 40 } raw ? raw : "(long)")}",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };
}

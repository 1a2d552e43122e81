using System.Globalization;
using System.Text.Json;
using CsCheck;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;

namespace OxiVec.Server.Tests.Translation;

/// <summary>
/// The filter translator fuzzed: random valid filters give the same answer as a reference evaluator written here
/// from Qdrant's condition checker, on random payloads; random JSON of any shape is either translated or refused
/// with a <see cref="QdrantRequestException"/>, never anything else.
/// </summary>
public sealed class QdrantFilterFuzzTests
{
    private static Gen<string> Pick(params string[] choices) => Gen.Int[0, choices.Length - 1].Select(i => choices[i]);

    private static readonly string[] Names = ["a", "b", "c"];

    private static Gen<string> JsonValue(int depth) => depth <= 0
        ? Scalar
        : Gen.Frequency(
            (5, Scalar),
            (1, JsonValue(depth - 1).Array[0, 3].Select(items => "[" + string.Join(",", items) + "]")),
            (1, Fields(JsonValue(depth - 1))));

    private static readonly Gen<string> Scalar = Gen.OneOf(
        Pick("\"x\"", "\"y\"", "0", "1", "2", "3", "0.5", "2.0", "-1.5", "true", "false", "null"));

    private static Gen<string> Fields(Gen<string> value) =>
        Gen.Select(Gen.Bool, Gen.Bool, Gen.Bool, value, value, value).Select((ha, hb, hc, va, vb, vc) =>
        {
            var fields = new List<string>();
            if (ha)
            {
                fields.Add($"\"a\":{va}");
            }

            if (hb)
            {
                fields.Add($"\"b\":{vb}");
            }

            if (hc)
            {
                fields.Add($"\"c\":{vc}");
            }

            return "{" + string.Join(",", fields) + "}";
        });

    private static readonly Gen<string> Payload = Fields(JsonValue(3));

    private static readonly Gen<string> Key = Gen.Select(Pick(Names), Pick(".a", ".b", ".c", "[]", "[0]", "[1]").Array[0, 2])
        .Select((first, rest) => first + string.Concat(rest));

    private static readonly Gen<string> MatchValue = Pick("\"x\"", "\"y\"", "0", "1", "2", "3", "true", "false");

    private static readonly Gen<string> ValueList = Gen.OneOf(
        Pick("\"x\"", "\"y\"", "\"z\"").Array[0, 3].Select(v => "[" + string.Join(",", v) + "]"),
        Pick("0", "1", "2", "3").Array[0, 3].Select(v => "[" + string.Join(",", v) + "]"));

    private static Gen<string> Bounds(Gen<string> bound) =>
        Gen.Select(Pick("gt", "gte", "lt", "lte").Array[0, 3], bound.Array[3])
            .Select((names, values) => "{" + string.Join(",", names.Distinct().Select((n, i) => $"\"{n}\":{values[i]}")) + "}");

    private static Gen<string> Condition(int depth)
    {
        var leaves = Gen.OneOf(
            Gen.Select(Key, MatchValue).Select((k, v) => $$$"""{"key":"{{{k}}}","match":{"value":{{{v}}}}}"""),
            Gen.Select(Key, ValueList).Select((k, v) => $$$"""{"key":"{{{k}}}","match":{"any":{{{v}}}}}"""),
            Gen.Select(Key, ValueList).Select((k, v) => $$$"""{"key":"{{{k}}}","match":{"except":{{{v}}}}}"""),
            Gen.Select(Key, Bounds(Pick("-1", "0", "0.5", "1", "2", "3", "null"))).Select((k, b) => $$$"""{"key":"{{{k}}}","range":{{{b}}}}"""),
            Gen.Select(Key, Bounds(Pick("0", "1", "2", "3"))).Select((k, b) => $$$"""{"key":"{{{k}}}","values_count":{{{b}}}}"""),
            Key.Select(k => $$$"""{"is_empty":{"key":"{{{k}}}"}}"""),
            Key.Select(k => $$$"""{"is_null":{"key":"{{{k}}}"}}"""),
            Pick("1", "2", "3", "4").Array[0, 3].Select(ids => $$$"""{"has_id":[{{{string.Join(",", ids)}}}]}"""));
        return depth <= 0 ? leaves : Gen.Frequency((4, leaves), (1, Filter(depth - 1)));
    }

    private static Gen<string> Filter(int depth)
    {
        Gen<string> list = Condition(depth).Array[0, 3].Select(c => "[" + string.Join(",", c) + "]");
        return Gen.Select(Gen.Int[0, 15], list, list, list, Gen.Select(list, Gen.Int[0, 3])).Select((mask, must, should, mustNot, minShould) =>
        {
            var clauses = new List<string>();
            if ((mask & 1) != 0)
            {
                clauses.Add($"\"must\":{must}");
            }

            if ((mask & 2) != 0)
            {
                clauses.Add($"\"should\":{should}");
            }

            if ((mask & 4) != 0)
            {
                clauses.Add($"\"must_not\":{mustNot}");
            }

            if ((mask & 8) != 0)
            {
                clauses.Add($$$"""
                    "min_should":{"conditions":{{{minShould.Item1}}},"min_count":{{{minShould.Item2}}}}
                    """);
            }

            return "{" + string.Join(",", clauses) + "}";
        });
    }

    [Fact]
    public void RandomValidFilters_AgreeWithTheReferenceEvaluator_OnRandomPayloads()
    {
        Gen.Select(Filter(2), Payload.Array[1, 6], Gen.Int[1, 4]).Sample((filterText, payloads, id) =>
        {
            using var filter = JsonDocument.Parse(filterText);
            MetadataFilter? translated = QdrantFilter.Translate(filter.RootElement, 16);
            string recordId = id.ToString(CultureInfo.InvariantCulture);
            foreach (string payloadText in payloads)
            {
                using var payload = JsonDocument.Parse(payloadText);
                bool expected = Reference.Filter(filter.RootElement, payload.RootElement, recordId);
                bool actual = translated?.Matches(recordId, QdrantPayload.ToMetadata(payload.RootElement, "payload")) ?? true;
                Assert.True(expected == actual, $"filter {filterText} on {payloadText} (id {recordId}): expected {expected}, got {actual}");
            }
        }, iter: 3000);
    }

    private static readonly string[] FuzzNames =
        ["must", "should", "must_not", "min_should", "key", "match", "range", "value", "any", "except", "has_id", "is_empty", "is_null",
         "values_count", "conditions", "min_count", "gt", "gte", "lt", "text", "nested", "filter", "geo_radius", "x"];

    private static Gen<string> AnyJson(int depth) => depth <= 0
        ? Gen.OneOf(
            Pick("null", "true", "false", "\"\"", "\"a..b\"", "\"a[\"", "\"\\ud800\"", "-0", "1e400", "18446744073709551616", "-9223372036854775809", "1.5", "\"2024-01-01\""),
            Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture)),
            Gen.String[0, 5].Select(s => JsonSerializer.Serialize(s)))
        : Gen.Frequency(
            (3, AnyJson(0)),
            (2, AnyJson(depth - 1).Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
            (4, Gen.Select(Pick(FuzzNames), AnyJson(depth - 1)).Array[0, 4]
                .Select(fields => "{" + string.Join(",", fields.Select(f => $"\"{f.Item1}\":{f.Item2}")) + "}")));

    [Fact]
    public void RandomJson_IsTranslatedOrRefusedWithARequestException_NeverAnythingElse()
    {
        Gen.OneOf(AnyJson(6), Filter(3)).Sample(text =>
        {
            using var document = JsonDocument.Parse(text);
            Exception? error = Record.Exception(() => QdrantFilter.Translate(document.RootElement, 8));
            Assert.True(error is null or QdrantRequestException, $"{text}: {error}");
        }, iter: 5000);
    }

    [Fact]
    public void DeepAndHugeFilters_AreRefusedOrTranslatedWithoutOverflow()
    {
        string deep = string.Concat(Enumerable.Repeat("""{"must":[""", 5000)) + string.Concat(Enumerable.Repeat("]}", 5000));
        using (var document = JsonDocument.Parse(deep, new JsonDocumentOptions { MaxDepth = 20_000 }))
        {
            QdrantRequestException ex = Assert.Throws<QdrantRequestException>(() => QdrantFilter.Translate(document.RootElement, 32));
            Assert.Contains("MaxFilterDepth", ex.Message, StringComparison.Ordinal);
        }

        string ids = string.Join(",", Enumerable.Range(0, 100_000));
        string strings = string.Join(",", Enumerable.Range(0, 100_000).Select(i => $"\"s{i}\""));
        using var huge = JsonDocument.Parse($$$"""{"must":[{"has_id":[{{{ids}}}]},{"key":"t","match":{"any":[{{{strings}}}]}}]}""");
        MetadataFilter translated = QdrantFilter.Translate(huge.RootElement, 8)!;
        Assert.True(translated.Matches("99999", new Dictionary<string, MetadataValue> { ["t"] = "s5" }));
        Assert.False(translated.Matches("100000", new Dictionary<string, MetadataValue> { ["t"] = "s5" }));
    }

    /// <summary>Qdrant's semantics over raw JSON (lib/segment payload_storage/condition_checker.rs, query_checker.rs, json_path).</summary>
    private static class Reference
    {
        public static bool Filter(JsonElement filter, JsonElement payload, string id)
        {
            bool result = true;
            foreach (JsonProperty clause in filter.EnumerateObject())
            {
                List<JsonElement> conditions = clause.Name == "min_should"
                    ? [.. clause.Value.GetProperty("conditions").EnumerateArray()]
                    : [.. clause.Value.EnumerateArray()];
                result &= clause.Name switch
                {
                    "must" => conditions.All(c => Condition(c, payload, id)),
                    "should" => conditions.Any(c => Condition(c, payload, id)),
                    "must_not" => !conditions.Any(c => Condition(c, payload, id)),
                    _ => conditions.Count(c => Condition(c, payload, id)) >= clause.Value.GetProperty("min_count").GetInt32(),
                };
            }

            return result;
        }

        private static bool Condition(JsonElement condition, JsonElement payload, string id)
        {
            if (condition.TryGetProperty("is_empty", out JsonElement isEmpty))
            {
                return Values(payload, isEmpty.GetProperty("key").GetString()!).All(v => v.ValueKind == JsonValueKind.Null || (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 0));
            }

            if (condition.TryGetProperty("is_null", out JsonElement isNull))
            {
                return Values(payload, isNull.GetProperty("key").GetString()!).Any(v => v.ValueKind == JsonValueKind.Null);
            }

            if (condition.TryGetProperty("has_id", out JsonElement hasId))
            {
                return hasId.EnumerateArray().Any(i => i.GetRawText() == id);
            }

            if (!condition.TryGetProperty("key", out JsonElement key))
            {
                return Filter(condition, payload, id);
            }

            List<JsonElement> values = Values(payload, key.GetString()!);
            if (condition.TryGetProperty("values_count", out JsonElement count))
            {
                return values.Count == 0 ? InCount(count, 0) : values.Any(v => InCount(count, v.ValueKind switch
                {
                    JsonValueKind.Null => 0,
                    JsonValueKind.Array => v.GetArrayLength(),
                    _ => 1,
                }));
            }

            Func<JsonElement, bool> check = condition.TryGetProperty("range", out JsonElement range)
                ? v => InRange(range, v)
                : v => Match(condition.GetProperty("match"), v);
            return values.Any(v => v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Any(check) : check(v));
        }

        private static bool Match(JsonElement match, JsonElement v)
        {
            if (match.TryGetProperty("value", out JsonElement value))
            {
                return (v.ValueKind, value.ValueKind) switch
                {
                    (JsonValueKind.True or JsonValueKind.False, JsonValueKind.True or JsonValueKind.False) => v.GetBoolean() == value.GetBoolean(),
                    (JsonValueKind.String, JsonValueKind.String) => v.GetString() == value.GetString(),
                    (JsonValueKind.Number, JsonValueKind.Number) => AsI64(v) == value.GetInt64(),
                    _ => false,
                };
            }

            bool except = match.TryGetProperty("except", out JsonElement list);
            if (!except)
            {
                list = match.GetProperty("any");
            }

            bool strings = list.GetArrayLength() == 0 || list[0].ValueKind == JsonValueKind.String;
            bool contained = (v.ValueKind, strings) switch
            {
                (JsonValueKind.String, true) => list.EnumerateArray().Any(i => i.GetString() == v.GetString()),
                (JsonValueKind.Number, false) when AsI64(v) is { } n => list.EnumerateArray().Any(i => i.GetInt64() == n),
                _ => false,
            };
            if (!except)
            {
                return contained;
            }

            return v.ValueKind != JsonValueKind.Null && !contained;
        }

        private static long? AsI64(JsonElement number)
        {
            string raw = number.GetRawText();
            return raw.AsSpan().IndexOfAny(".eE") < 0 && number.TryGetInt64(out long l) ? l : null;
        }

        private static bool InRange(JsonElement range, JsonElement v)
        {
            if (v.ValueKind != JsonValueKind.Number)
            {
                return false;
            }

            double x = v.GetDouble();
            return range.EnumerateObject().All(b => b.Value.ValueKind == JsonValueKind.Null || b.Name switch
            {
                "gt" => x > b.Value.GetDouble(),
                "gte" => x >= b.Value.GetDouble(),
                "lt" => x < b.Value.GetDouble(),
                _ => x <= b.Value.GetDouble(),
            });
        }

        private static bool InCount(JsonElement bounds, int n) => bounds.EnumerateObject().All(b => b.Name switch
        {
            "gt" => n > b.Value.GetInt32(),
            "gte" => n >= b.Value.GetInt32(),
            "lt" => n < b.Value.GetInt32(),
            _ => n <= b.Value.GetInt32(),
        });

        /// <summary>json_path's value_get: names into objects, [] into every item, [n] into one.</summary>
        private static List<JsonElement> Values(JsonElement payload, string key)
        {
            var current = new List<JsonElement>();
            int position = 0;
            while (position < key.Length && key[position] is not ('.' or '['))
            {
                position++;
            }

            if (payload.TryGetProperty(key[..position], out JsonElement first))
            {
                current.Add(first);
            }

            while (position < key.Length)
            {
                var next = new List<JsonElement>();
                if (key[position] == '.')
                {
                    string name = key.Substring(position + 1, 1);
                    position += 2;
                    next.AddRange(current.Where(v => v.ValueKind == JsonValueKind.Object && v.TryGetProperty(name, out _)).Select(v => v.GetProperty(name)));
                }
                else if (key[position + 1] == ']')
                {
                    position += 2;
                    next.AddRange(current.Where(v => v.ValueKind == JsonValueKind.Array).SelectMany(v => v.EnumerateArray()));
                }
                else
                {
                    int index = key[position + 1] - '0';
                    position += 3;
                    next.AddRange(current.Where(v => v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > index).Select(v => v[index]));
                }

                current = next;
            }

            return current;
        }
    }
}

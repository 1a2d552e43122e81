using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;

namespace OxiVec.Server.Tests.Translation;

/// <summary>
/// Payloads fuzzed: random JSON objects convert to metadata and are written back as the same JSON, modulo number
/// formatting: an integer in the long range comes back with the same digits, any other number as the same double
/// in its shortest round-trip form (with ".0" when integral, so it reads back as a float).
/// </summary>
public sealed class QdrantPayloadFuzzTests
{
    private static Gen<string> Pick(params string[] choices) => Gen.Int[0, choices.Length - 1].Select(i => choices[i]);

    private static Gen<string> Value(int depth)
    {
        Gen<string> scalar = Gen.OneOf(
            Gen.String[0, 6].Select(s => JsonSerializer.Serialize(s)),
            Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture)),
            Gen.Double.Where(double.IsFinite).Select(d => d.ToString("R", CultureInfo.InvariantCulture)),
            Gen.ULong.Select(u => u.ToString(CultureInfo.InvariantCulture)),
            Pick("true", "false", "null", "2.0", "1e300", "-0.0", "18446744073709551616", "1E-7"));
        return depth <= 0
            ? scalar
            : Gen.Frequency(
                (4, scalar),
                (1, Value(depth - 1).Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
                (1, Object(Value(depth - 1))));
    }

    private static Gen<string> Object(Gen<string> value) =>
        Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 0, 4], value).Array[0, 5]
            .Select(fields => "{" + string.Join(",", fields.DistinctBy(f => f.Item1).Select(f => $"{JsonSerializer.Serialize(f.Item1)}:{f.Item2}")) + "}");

    [Fact]
    public void RandomPayloads_RoundTripExactly_ModuloNumberFormatting()
    {
        Object(Value(4)).Sample(text =>
        {
            using var original = JsonDocument.Parse(text);
            Dictionary<string, MetadataValue> metadata = QdrantPayload.ToMetadata(original.RootElement, "payload");
            var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                QdrantPayload.Write(writer, metadata);
            }

            using var written = JsonDocument.Parse(buffer.ToArray());
            AssertSameJson(original.RootElement, written.RootElement, "payload");
            Assert.Equal(metadata.Count, QdrantPayload.ToMetadata(written.RootElement, "payload").Count);
            foreach ((string name, MetadataValue value) in QdrantPayload.ToMetadata(written.RootElement, "payload"))
            {
                Assert.Equal(metadata[name], value); // kinds survive: a float written back reads back as a float
            }
        }, iter: 2000);
    }

    [Fact]
    public void NumbersAndNull_AreWrittenBackAsTheyCame()
    {
        using var document = JsonDocument.Parse("""{"i": 42, "f": 2.0, "big": 18446744073709551615, "neg": -0.0, "n": null, "mixed": [1, "a", true, null, {"x": [1.5]}]}""");
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            QdrantPayload.Write(writer, QdrantPayload.ToMetadata(document.RootElement, "payload"));
        }

        Assert.Equal("""{"i":42,"f":2.0,"big":1.8446744073709552E+19,"neg":-0.0,"n":null,"mixed":[1,"a",true,null,{"x":[1.5]}]}""", Encoding.UTF8.GetString(buffer.ToArray()));
    }

    [Fact]
    public void Payload_BeyondTheNestingLimitOrTheDoubleRange_IsRefusedNamingThePath()
    {
        string deep = string.Concat(Enumerable.Repeat("[", 70)) + string.Concat(Enumerable.Repeat("]", 70));
        using var nested = JsonDocument.Parse($$"""{"a": {{deep}}}""", new JsonDocumentOptions { MaxDepth = 200 });
        QdrantRequestException ex = Assert.Throws<QdrantRequestException>(() => QdrantPayload.ToMetadata(nested.RootElement, "payload"));
        Assert.StartsWith("payload.a", ex.Path, StringComparison.Ordinal);
        using var huge = JsonDocument.Parse("""{"a": [1e400]}""");
        Assert.Equal("payload.a[0]", Assert.Throws<QdrantRequestException>(() => QdrantPayload.ToMetadata(huge.RootElement, "payload")).Path);
    }

    private static void AssertSameJson(JsonElement expected, JsonElement actual, string path)
    {
        Assert.True(expected.ValueKind == actual.ValueKind || (expected.ValueKind == JsonValueKind.Number && actual.ValueKind == JsonValueKind.Number), $"{path}: {expected.ValueKind} became {actual.ValueKind}");
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                JsonProperty[] e = [.. expected.EnumerateObject()];
                JsonProperty[] a = [.. actual.EnumerateObject()];
                Assert.Equal(e.Select(p => p.Name), a.Select(p => p.Name));
                for (int i = 0; i < e.Length; i++)
                {
                    AssertSameJson(e[i].Value, a[i].Value, $"{path}.{e[i].Name}");
                }

                break;
            case JsonValueKind.Array:
                Assert.Equal(expected.GetArrayLength(), actual.GetArrayLength());
                for (int i = 0; i < expected.GetArrayLength(); i++)
                {
                    AssertSameJson(expected[i], actual[i], $"{path}[{i}]");
                }

                break;
            case JsonValueKind.Number:
                string raw = expected.GetRawText();
                if (raw.AsSpan().IndexOfAny(".eE") < 0 && expected.TryGetInt64(out long l))
                {
                    Assert.Equal(raw, actual.GetRawText());
                    Assert.Equal(l, actual.GetInt64());
                }
                else
                {
                    Assert.Equal(expected.GetDouble(), actual.GetDouble());
                    Assert.True(actual.GetRawText().AsSpan().IndexOfAny(".eE") >= 0 || !actual.TryGetInt64(out _), $"{path}: the float {raw} came back as the integer {actual.GetRawText()}");
                }

                break;
            case JsonValueKind.String:
                Assert.Equal(expected.GetString(), actual.GetString());
                break;
            default:
                Assert.Equal(expected.GetRawText(), actual.GetRawText());
                break;
        }
    }
}

using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using OxiVec.Storage;

namespace OxiVec.VectorData.Remote;

/// <summary>
/// Record metadata as the server's JSON payloads and back, losslessly for every <see cref="MetadataValue"/> kind: a
/// double is written with a '.' or an exponent (<c>3.0</c>), so the server keeps it a double, as it keeps an integer a
/// long (the server's own rules, docs/server.md); strings, booleans, null, lists and objects as themselves.
/// </summary>
internal static class RemotePayload
{
    /// <summary>The payload of a record (with <see cref="RemoteIds.KeyField"/> when its id is hashed).</summary>
    /// <exception cref="ArgumentException">The metadata uses the reserved field <see cref="RemoteIds.KeyField"/>.</exception>
    public static JsonObject ToPayload(IReadOnlyDictionary<string, MetadataValue> metadata, string? hashedId)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach ((string key, MetadataValue value) in metadata)
            {
                if (key == RemoteIds.KeyField)
                {
                    throw new ArgumentException($"The field name '{RemoteIds.KeyField}' is reserved by the remote back end (it holds the keys of points whose ids are hashed).", nameof(metadata));
                }

                writer.WritePropertyName(key);
                MetadataJsonWriter.WriteValue(writer, value);
            }

            if (hashedId is not null)
            {
                writer.WriteString(RemoteIds.KeyField, hashedId);
            }

            writer.WriteEndObject();
        }

        return JsonNode.Parse(buffer.WrittenSpan)!.AsObject();
    }

    /// <summary>The metadata of a payload (without <see cref="RemoteIds.KeyField"/>), and the id that field held.</summary>
    public static (Dictionary<string, MetadataValue> Metadata, string? HashedId) FromPayload(JsonObject? payload)
    {
        var metadata = new Dictionary<string, MetadataValue>(StringComparer.Ordinal);
        string? hashedId = null;
        foreach ((string key, JsonNode? node) in payload ?? [])
        {
            if (key == RemoteIds.KeyField && node?.GetValueKind() == JsonValueKind.String)
            {
                hashedId = node.GetValue<string>();
                continue;
            }

            metadata[key] = ToValue(node);
        }

        return (metadata, hashedId);
    }

    private static MetadataValue ToValue(JsonNode? node)
    {
        switch (node?.GetValueKind() ?? JsonValueKind.Null)
        {
            case JsonValueKind.Null:
                return MetadataValue.Null;
            case JsonValueKind.String:
                return MetadataValue.From(node!.GetValue<string>());
            case JsonValueKind.True:
                return MetadataValue.From(true);
            case JsonValueKind.False:
                return MetadataValue.From(false);
            case JsonValueKind.Number:
                JsonValue number = node!.AsValue();
                return number.TryGetValue(out long l) ? MetadataValue.From(l) : MetadataValue.From(Double(number)); // "3.0" is no long: a double, as the server reads it
            case JsonValueKind.Array:
                return MetadataValue.FromList(node!.AsArray().Select(ToValue));
            case JsonValueKind.Object:
                return MetadataValue.FromObject(node!.AsObject().Select(p => new KeyValuePair<string, MetadataValue>(p.Key, ToValue(p.Value))));
            default:
                throw new FormatException($"The server returned a payload value of kind {node!.GetValueKind()}.");
        }
    }

    /// <summary>A double, ±1e999 (how ±infinity is written) included.</summary>
    private static double Double(JsonValue number)
    {
        string text = number.ToJsonString();
        return double.Parse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
    }
}

using System.Text.Json;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant.Translation;

/// <summary>
/// Qdrant payloads (JSON objects) as OxiVec metadata and back: a string is a string, an integer that fits 64 bits a
/// long, any other number a double, a boolean a bool, an array of strings a string list.
/// </summary>
public static class QdrantPayload
{
    /// <summary>The metadata of the payload at <paramref name="payload"/> (null or absent: empty).</summary>
    /// <exception cref="QdrantRequestException">Not an object, or a value OxiVec cannot store; the message names its path.</exception>
    public static Dictionary<string, MetadataValue> ToMetadata(JsonElement payload, string path)
    {
        var metadata = new Dictionary<string, MetadataValue>(StringComparer.Ordinal);
        if (payload.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return metadata;
        }

        if (payload.ValueKind != JsonValueKind.Object)
        {
            throw new QdrantRequestException(path, $"a payload is a JSON object; got {payload.ValueKind.ToString().ToLowerInvariant()}.");
        }

        foreach (JsonProperty property in payload.EnumerateObject())
        {
            metadata[property.Name] = ToValue(property.Value, $"{path}.{property.Name}");
        }

        return metadata;
    }

    /// <summary>One payload value.</summary>
    /// <exception cref="QdrantRequestException">A value OxiVec cannot store.</exception>
    public static MetadataValue ToValue(JsonElement value, string path)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return MetadataValue.From(value.GetString()!);
            case JsonValueKind.Number:
                return value.TryGetInt64(out long l) ? MetadataValue.From(l) : MetadataValue.From(value.GetDouble());
            case JsonValueKind.True:
            case JsonValueKind.False:
                return MetadataValue.From(value.GetBoolean());
            case JsonValueKind.Array:
                var strings = new List<string>(value.GetArrayLength());
                int i = 0;
                foreach (JsonElement item in value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        throw new QdrantRequestException($"{path}[{i}]", $"OxiVec stores arrays of strings; got {item.ValueKind.ToString().ToLowerInvariant()}.");
                    }

                    strings.Add(item.GetString()!);
                    i++;
                }

                return MetadataValue.From(strings);
            default:
                throw new QdrantRequestException(path, $"OxiVec stores strings, numbers, booleans and arrays of strings in payloads; got {value.ValueKind.ToString().ToLowerInvariant()}.");
        }
    }

    /// <summary>Writes <paramref name="metadata"/> as a JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(metadata);
        writer.WriteStartObject();
        foreach (KeyValuePair<string, MetadataValue> pair in metadata)
        {
            writer.WritePropertyName(pair.Key);
            WriteValue(writer, pair.Value);
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes one value.</summary>
    public static void WriteValue(Utf8JsonWriter writer, MetadataValue value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        switch (value.Kind)
        {
            case MetadataKind.String:
                writer.WriteStringValue(value.AsString);
                break;
            case MetadataKind.Long:
                writer.WriteNumberValue(value.AsLong);
                break;
            case MetadataKind.Double:
                writer.WriteNumberValue(value.AsDouble);
                break;
            case MetadataKind.Bool:
                writer.WriteBooleanValue(value.AsBool);
                break;
            case MetadataKind.StringList:
                writer.WriteStartArray();
                foreach (string s in value.AsStringList)
                {
                    writer.WriteStringValue(s);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new InvalidOperationException($"Metadata kind {value.Kind} has no JSON form.");
        }
    }
}

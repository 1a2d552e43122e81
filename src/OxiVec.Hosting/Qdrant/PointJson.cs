using System.Text.Json;
using System.Text.Json.Serialization;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>A point as Qdrant returns it (<c>Record</c>): id in the form it was given, payload, vector.</summary>
[JsonConverter(typeof(PointJsonConverter))]
internal sealed record PointJson(string Id, IReadOnlyDictionary<string, MetadataValue>? Payload, float[]? Vector);

/// <summary>
/// A search hit as Qdrant returns it (<c>ScoredPoint</c>): a value, so that a search's hits are one array (one
/// allocation per answer, not one per hit).
/// </summary>
[JsonConverter(typeof(ScoredPointJsonConverter))]
internal readonly record struct ScoredPointJson(string Id, float Score, IReadOnlyDictionary<string, MetadataValue>? Payload, float[]? Vector);

/// <summary>A point id alone, written as Qdrant does (a number for an integer id, a string for a UUID).</summary>
[JsonConverter(typeof(PointIdJsonConverter))]
internal sealed record PointIdJson(string Id);

internal sealed class PointIdJsonConverter : JsonConverter<PointIdJson>
{
    public override PointIdJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

    public override void Write(Utf8JsonWriter writer, PointIdJson value, JsonSerializerOptions options) => QdrantPointId.Write(writer, value.Id);
}

internal sealed class PointJsonConverter : JsonConverter<PointJson>
{
    public override PointJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

    public override void Write(Utf8JsonWriter writer, PointJson value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("id"u8);
        QdrantPointId.Write(writer, value.Id);
        PointFields.Write(writer, value.Payload, value.Vector);
        writer.WriteEndObject();
    }
}

internal sealed class ScoredPointJsonConverter : JsonConverter<ScoredPointJson>
{
    public override ScoredPointJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

    public override void Write(Utf8JsonWriter writer, ScoredPointJson value, JsonSerializerOptions options) => WritePoint(writer, value);

    /// <summary>Writes <paramref name="value"/> as Qdrant's <c>ScoredPoint</c>.</summary>
    public static void WritePoint(Utf8JsonWriter writer, in ScoredPointJson value)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("id"u8);
        QdrantPointId.Write(writer, value.Id);
        writer.WriteNumber("version"u8, 0);
        writer.WriteNumber("score"u8, value.Score);
        PointFields.Write(writer, value.Payload, value.Vector);
        writer.WriteEndObject();
    }
}

internal static class PointFields
{
    public static void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, MetadataValue>? payload, float[]? vector)
    {
        writer.WritePropertyName("payload"u8);
        if (payload is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            QdrantPayload.Write(writer, payload);
        }

        writer.WritePropertyName("vector"u8);
        if (vector is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStartArray();
            foreach (float f in vector)
            {
                writer.WriteNumberValue(f);
            }

            writer.WriteEndArray();
        }
    }
}

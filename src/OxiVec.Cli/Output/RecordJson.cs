using System.Text.Json;
using OxiVec.Cli.Data;
using OxiVec.Storage;

namespace OxiVec.Cli.Output;

/// <summary>A record as the JSON object <c>export</c> prints and <c>import</c> reads: <c>{"id", "vector", "metadata"}</c>.</summary>
internal static class RecordJson
{
    /// <summary>
    /// Writes the record's properties. Floats are written with the shortest digits that read back as the same float32;
    /// metadata fields in ordinal order (see <see cref="MetadataJson"/>).
    /// </summary>
    public static void Write(Utf8JsonWriter json, VectorRecord record)
    {
        json.WriteString("id", record.Id);
        json.WriteStartArray("vector");
        foreach (float value in record.Vector.Span)
        {
            json.WriteNumberValue(value);
        }

        json.WriteEndArray();
        MetadataJson.Write(json, "metadata", record.Metadata);
    }
}

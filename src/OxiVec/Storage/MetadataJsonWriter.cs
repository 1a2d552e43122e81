using System.Globalization;
using System.Text.Json;

namespace OxiVec.Storage;

/// <summary>
/// Metadata values as JSON, one form for every writer (the CLI's export, the server's payloads): strings, longs,
/// booleans and null as themselves; a double with shortest round-trip digits and a '.' or an exponent (3.0, not 3), so
/// it reads back as a double, and ±infinity (which JSON cannot spell) as ±1e999, which parses back to ±infinity;
/// string lists, lists and objects as arrays and objects, fields in their stored order.
/// </summary>
public static class MetadataJsonWriter
{
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
                writer.WriteRawValue(DoubleText(value.AsDouble), skipInputValidation: true);
                break;
            case MetadataKind.Bool:
                writer.WriteBooleanValue(value.AsBool);
                break;
            case MetadataKind.Null:
                writer.WriteNullValue();
                break;
            case MetadataKind.StringList:
                writer.WriteStartArray();
                foreach (string item in value.AsStringList)
                {
                    writer.WriteStringValue(item);
                }

                writer.WriteEndArray();
                break;
            case MetadataKind.List:
                writer.WriteStartArray();
                foreach (MetadataValue item in value.AsList)
                {
                    WriteValue(writer, item);
                }

                writer.WriteEndArray();
                break;
            case MetadataKind.Object:
                writer.WriteStartObject();
                foreach (KeyValuePair<string, MetadataValue> field in value.AsObject)
                {
                    writer.WritePropertyName(field.Key);
                    WriteValue(writer, field.Value);
                }

                writer.WriteEndObject();
                break;
            default:
                throw new InvalidOperationException($"Metadata kind {value.Kind} has no JSON form.");
        }
    }

    /// <summary>A double as JSON text that reads back as the same double (see the type's summary).</summary>
    public static string DoubleText(double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            return "1e999";
        }

        if (double.IsNegativeInfinity(value))
        {
            return "-1e999";
        }

        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.AsSpan().IndexOfAny(".eE") >= 0 ? text : text + ".0";
    }
}

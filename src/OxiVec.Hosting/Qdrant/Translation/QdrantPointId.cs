using System.Globalization;
using System.Text.Json;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant.Translation;

/// <summary>
/// Qdrant's point ids: unsigned 64-bit integers or UUIDs. Stored in OxiVec as strings: an integer as its canonical
/// decimal form (<c>42</c>), a UUID as its canonical lower-case hyphenated form. Written back in the form they were
/// given: a canonical decimal id as a JSON number, anything else as a JSON string.
/// </summary>
public static class QdrantPointId
{
    /// <summary>The OxiVec id of the point id at <paramref name="element"/>.</summary>
    /// <exception cref="QdrantRequestException">Not an unsigned integer nor a UUID; the message names <paramref name="path"/>.</exception>
    public static string Parse(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number when element.TryGetUInt64(out ulong number):
                return number.ToString(CultureInfo.InvariantCulture);
            case JsonValueKind.String when Guid.TryParse(element.GetString(), out Guid uuid):
                return uuid.ToString("D");
            case JsonValueKind.String when ulong.TryParse(element.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong number):
                return number.ToString(CultureInfo.InvariantCulture); // a path segment such as /points/42 arrives as text
            default:
                throw new QdrantRequestException(path, $"a point id is an unsigned integer or a UUID; got {Describe(element)}.");
        }
    }

    /// <summary>The OxiVec id of a point id given as text (a URL path segment).</summary>
    /// <exception cref="QdrantRequestException">Not an unsigned integer nor a UUID.</exception>
    public static string Parse(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number))
        {
            return number.ToString(CultureInfo.InvariantCulture);
        }

        return Guid.TryParse(text, out Guid uuid)
            ? uuid.ToString("D")
            : throw new QdrantRequestException(path, $"a point id is an unsigned integer or a UUID; got '{Truncate(text)}'.");
    }

    /// <summary>True when <paramref name="id"/> is the canonical decimal form of an unsigned 64-bit integer.</summary>
    public static bool IsNumeric(string id, out ulong number) => RecordIdOrder.IsCanonicalInteger(id, out number);

    /// <summary>Writes <paramref name="id"/> as Qdrant does: a number for an integer id, a string otherwise.</summary>
    /// <remarks>
    /// A canonical decimal id of at most 19 digits (every such one fits an unsigned 64-bit integer) is already the JSON
    /// number's text: its digits are copied as they are, not parsed and formatted again (every search answers ten ids:
    /// parsing and formatting them was 2 % of a search server's CPU, `perf record`). Longer ids take the checked way.
    /// </remarks>
    public static void Write(Utf8JsonWriter writer, string id)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(id);
        if (id.Length is > 0 and < 20 && (id.Length == 1 || id[0] != '0') && !id.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            Span<byte> digits = stackalloc byte[19];
            int length = System.Text.Encoding.ASCII.GetBytes(id, digits);
            writer.WriteRawValue(digits[..length], skipInputValidation: true);
        }
        else if (IsNumeric(id, out ulong number))
        {
            writer.WriteNumberValue(number);
        }
        else
        {
            writer.WriteStringValue(id);
        }
    }

    /// <summary>Qdrant's order of point ids: integers first, by value; then the rest (UUIDs), ordinally (the engine's <see cref="RecordIdOrder"/>).</summary>
    public static IComparer<string> Order => RecordIdOrder.Instance;

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"the string '{Truncate(element.GetString()!)}'",
        JsonValueKind.Number => $"the number {Truncate(element.GetRawText())}",
        _ => element.ValueKind.ToString().ToLowerInvariant(),
    };

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";
}

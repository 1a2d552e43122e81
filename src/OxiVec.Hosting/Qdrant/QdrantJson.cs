using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using OxiVec.Hosting.Qdrant.Translation;

namespace OxiVec.Hosting.Qdrant;

/// <summary>Reading request bodies and query strings: the fields Qdrant's API defines, each error naming its path.</summary>
internal static class QdrantJson
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 128 };

    /// <summary>Parses the request body as a JSON object (an empty body is an empty object).</summary>
    /// <exception cref="QdrantRequestException">Not JSON, or not an object.</exception>
    public static async Task<JsonDocument> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    /// <summary>Parses a request body read whole as a JSON object (an empty body is an empty object); the document reads <paramref name="bytes"/> for as long as it lives.</summary>
    /// <exception cref="QdrantRequestException">Not JSON, or not an object.</exception>
    public static JsonDocument Parse(ReadOnlyMemory<byte> bytes)
    {
        JsonDocument document;
        try
        {
            document = bytes.IsEmpty ? JsonDocument.Parse("{}") : JsonDocument.Parse(bytes, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new QdrantRequestException($"body (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine})", $"not valid JSON: {ex.Message}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new QdrantRequestException("body", "the request body is a JSON object.");
        }

        return document;
    }

    /// <summary>An optional property (absent and null are both <see cref="JsonValueKind.Undefined"/>).</summary>
    public static JsonElement Optional(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : default;

    /// <summary>
    /// Refuses every property of <paramref name="obj"/> that is set (not null) and not in <paramref name="known"/>:
    /// a Qdrant feature OxiVec does not have is refused by name, never silently ignored.
    /// </summary>
    public static void RefuseUnknown(JsonElement obj, string path, params string[] known)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (JsonProperty property in obj.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Null && System.Array.IndexOf(known, property.Name) < 0)
            {
                throw new QdrantRequestException(
                    Join(path, property.Name), $"OxiVec does not support '{property.Name}' here (supported: {string.Join(", ", known)}).");
            }
        }
    }

    /// <summary>An object (or absent): anything else is refused.</summary>
    public static JsonElement Object(JsonElement element, string path) =>
        element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Object
            ? element
            : throw new QdrantRequestException(path, $"an object is expected; got {Kind(element)}.");

    /// <summary>A dense vector of finite floats. Qdrant's named form <c>{"": [...]}</c> is the unnamed vector.</summary>
    public static float[] Vector(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            if (element.TryGetProperty("", out JsonElement unnamed) && element.EnumerateObject().Count() == 1)
            {
                return Vector(unnamed, $"{path}[\"\"]");
            }

            throw new QdrantRequestException(path, "named and sparse vectors are not supported: OxiVec collections have one unnamed dense vector.");
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantRequestException(path, $"a vector is an array of numbers; got {Kind(element)}.");
        }

        var vector = new float[element.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in element.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                throw new QdrantRequestException(path, "multivectors are not supported: OxiVec collections have one dense vector per point.");
            }

            if (item.ValueKind != JsonValueKind.Number || !item.TryGetSingle(out float value) || !float.IsFinite(value))
            {
                throw new QdrantRequestException($"{path}[{i}]", $"a vector holds finite numbers; got {(item.ValueKind == JsonValueKind.Number ? item.GetRawText() : Kind(item))}.");
            }

            vector[i++] = value;
        }

        return vector;
    }

    /// <summary>An optional boolean with a default.</summary>
    public static bool Bool(JsonElement obj, string name, bool defaultValue, string path)
    {
        JsonElement value = Optional(obj, name);
        return value.ValueKind switch
        {
            JsonValueKind.Undefined => defaultValue,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new QdrantRequestException(Join(path, name), "a boolean is expected."),
        };
    }

    /// <summary>An optional integer at least <paramref name="min"/> with a default.</summary>
    public static int Int(JsonElement obj, string name, int defaultValue, string path, int min = 0)
    {
        JsonElement value = Optional(obj, name);
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            return defaultValue;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n))
        {
            return n < min
                ? throw new QdrantRequestException(Join(path, name), $"must be at least {min}; got {n}.")
                : n > int.MaxValue ? int.MaxValue : (int)n; // larger than any limit: the caller's limit check names it
        }

        throw new QdrantRequestException(Join(path, name), $"an integer (at least {min}) is expected; got {Describe(value)}.");
    }

    /// <summary>An optional finite number.</summary>
    public static float? Float(JsonElement obj, string name, string path)
    {
        JsonElement value = Optional(obj, name);
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetSingle(out float f) && float.IsFinite(f)
            ? f
            : throw new QdrantRequestException(Join(path, name), $"a finite number is expected; got {Describe(value)}.");
    }

    /// <summary>An array (required).</summary>
    public static JsonElement Array(JsonElement obj, string name, string path)
    {
        JsonElement value = Optional(obj, name);
        return value.ValueKind == JsonValueKind.Array
            ? value
            : throw new QdrantRequestException(Join(path, name), value.ValueKind == JsonValueKind.Undefined ? "is required (an array)." : $"an array is expected; got {Kind(value)}.");
    }

    /// <summary>
    /// The <c>wait</c> query parameter: absent, <c>true</c> or <c>false</c>. OxiVec always answers after the WAL
    /// policy acknowledged the write, so both answer <c>completed</c>; anything else is refused.
    /// </summary>
    public static void CheckWait(HttpRequest request)
    {
        if (request.Query.TryGetValue("wait", out Microsoft.Extensions.Primitives.StringValues wait)
            && !(wait.Count == 1 && (string.Equals(wait[0], "true", StringComparison.OrdinalIgnoreCase) || string.Equals(wait[0], "false", StringComparison.OrdinalIgnoreCase))))
        {
            throw new QdrantRequestException("wait", $"true or false is expected; got '{wait}'.");
        }

        // OxiVec has one node: the WAL orders every write, which is all that weak, medium and strong ask of replicas.
        if (request.Query.TryGetValue("ordering", out Microsoft.Extensions.Primitives.StringValues ordering) && ordering.ToString() is not ("weak" or "medium" or "strong"))
        {
            throw new QdrantRequestException("ordering", $"weak, medium or strong is expected; got '{ordering}'.");
        }
    }

    /// <summary>The JSON kind, as a word for messages.</summary>
    public static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Undefined => "nothing",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => "a number",
        JsonValueKind.String => "a string",
        _ => "null",
    };

    /// <summary><paramref name="path"/>.<paramref name="name"/> (or <paramref name="name"/> at the root).</summary>
    public static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string Describe(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? value.GetRawText() : Kind(value);

    /// <summary>Invariant formatting for headers and messages.</summary>
    public static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}

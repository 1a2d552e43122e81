using System.Text.Json;
using OxiVec.Hosting.Qdrant.Translation;

namespace OxiVec.Hosting.Qdrant;

/// <summary>Reading request bodies: the fields Qdrant's API defines, each error naming its path.</summary>
internal static class QdrantJson
{
    /// <summary>Parses the request body as JSON (an empty body is an empty object).</summary>
    public static async Task<JsonDocument> ReadBodyAsync(Microsoft.AspNetCore.Http.HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            JsonDocument document = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 128 }, cancellationToken).ConfigureAwait(false);
            return document;
        }
        catch (JsonException ex)
        {
            throw new QdrantRequestException($"body (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine})", $"not valid JSON: {ex.Message}");
        }
    }

    /// <summary>An optional property (absent and null are both <see cref="JsonValueKind.Undefined"/>).</summary>
    public static JsonElement Optional(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : default;

    /// <summary>A dense vector of floats: finite numbers only.</summary>
    public static float[] Vector(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            // Qdrant's named vectors: OxiVec collections have one, unnamed ("").
            if (element.TryGetProperty("", out JsonElement unnamed))
            {
                return Vector(unnamed, $"{path}[\"\"]");
            }

            throw new QdrantRequestException(path, "named vectors are not supported: OxiVec collections have one unnamed vector.");
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantRequestException(path, "a vector is an array of numbers.");
        }

        var vector = new float[element.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetSingle(out float value) || !float.IsFinite(value))
            {
                throw new QdrantRequestException($"{path}[{i}]", $"a vector holds finite numbers; got {(item.ValueKind == JsonValueKind.Number ? item.GetRawText() : item.ValueKind.ToString().ToLowerInvariant())}.");
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
            _ => throw new QdrantRequestException($"{path}.{name}", "a boolean is expected."),
        };
    }

    /// <summary>An optional non-negative integer with a default.</summary>
    public static int Int(JsonElement obj, string name, int defaultValue, string path)
    {
        JsonElement value = Optional(obj, name);
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            return defaultValue;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n >= 0
            ? n
            : throw new QdrantRequestException($"{path}.{name}", "a non-negative integer is expected.");
    }
}

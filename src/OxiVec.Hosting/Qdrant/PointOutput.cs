using System.Text.Json;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// What a read returns of each point: <c>with_payload</c> (<c>true</c>/<c>false</c>, a list of keys, or
/// <c>{"include": [...]}</c> / <c>{"exclude": [...]}</c>) and <c>with_vector</c> (<c>true</c>/<c>false</c>, or a
/// list of vector names, where the one OxiVec has is <c>""</c>).
/// </summary>
internal sealed record PointOutput(bool Payload, IReadOnlySet<string>? Include, IReadOnlySet<string>? Exclude, bool Vector)
{
    private static readonly PointOutput[] PlainOutputs = [new(false, null, null, false), new(true, null, null, false), new(false, null, null, true), new(true, null, null, true)];

    /// <summary><c>with_payload</c> and <c>with_vector</c> given as booleans (shared instances: a <see cref="PointOutput"/> is immutable).</summary>
    public static PointOutput Plain(bool payload, bool vector) => PlainOutputs[(payload ? 1 : 0) + (vector ? 2 : 0)];

    /// <summary>Reads <c>with_payload</c> and <c>with_vector</c> from <paramref name="body"/>.</summary>
    public static PointOutput Parse(JsonElement body, bool payloadByDefault, string path = "")
    {
        JsonElement withPayload = QdrantJson.Optional(body, "with_payload");
        string payloadPath = QdrantJson.Join(path, "with_payload");
        (bool payload, IReadOnlySet<string>? include, IReadOnlySet<string>? exclude) = withPayload.ValueKind switch
        {
            JsonValueKind.Undefined => (payloadByDefault, null, null),
            JsonValueKind.True => (true, null, null),
            JsonValueKind.False => (false, null, null),
            JsonValueKind.Array => (true, Keys(withPayload, payloadPath), null),
            JsonValueKind.Object => Selector(withPayload, payloadPath),
            _ => throw new QdrantRequestException(payloadPath, "true, false, a list of keys, {\"include\": [...]} or {\"exclude\": [...]} is expected."),
        };
        return new PointOutput(payload, include, exclude, WithVector(QdrantJson.Optional(body, "with_vector"), QdrantJson.Join(path, "with_vector")));
    }

    /// <summary>The payload to return of <paramref name="metadata"/>, or null when none is asked for.</summary>
    public IReadOnlyDictionary<string, MetadataValue>? Select(IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        if (!Payload)
        {
            return null;
        }

        if (Include is null && Exclude is null)
        {
            return metadata;
        }

        var selected = new Dictionary<string, MetadataValue>(StringComparer.Ordinal);
        foreach ((string key, MetadataValue value) in metadata)
        {
            if ((Include is null || Include.Contains(key)) && (Exclude is null || !Exclude.Contains(key)))
            {
                selected[key] = value;
            }
        }

        return selected;
    }

    private static bool WithVector(JsonElement withVector, string path)
    {
        switch (withVector.ValueKind)
        {
            case JsonValueKind.Undefined:
            case JsonValueKind.False:
                return false;
            case JsonValueKind.True:
                return true;
            case JsonValueKind.Array:
                bool unnamed = false;
                int i = 0;
                foreach (JsonElement name in withVector.EnumerateArray())
                {
                    if (name.ValueKind != JsonValueKind.String || name.GetString()!.Length != 0)
                    {
                        throw new QdrantRequestException($"{path}[{i}]", "named vectors are not supported: the one vector of an OxiVec point is named \"\".");
                    }

                    unnamed = true;
                    i++;
                }

                return unnamed;
            default:
                throw new QdrantRequestException(path, "true, false or a list of vector names is expected.");
        }
    }

    private static (bool, IReadOnlySet<string>?, IReadOnlySet<string>?) Selector(JsonElement selector, string path)
    {
        QdrantJson.RefuseUnknown(selector, path, "include", "exclude");
        bool include = QdrantJson.Optional(selector, "include").ValueKind != JsonValueKind.Undefined;
        bool exclude = QdrantJson.Optional(selector, "exclude").ValueKind != JsonValueKind.Undefined;
        if (include == exclude)
        {
            throw new QdrantRequestException(path, "either include: [...] or exclude: [...] is expected.");
        }

        return include
            ? (true, Keys(QdrantJson.Array(selector, "include", path), QdrantJson.Join(path, "include")), null)
            : (true, null, Keys(QdrantJson.Array(selector, "exclude", path), QdrantJson.Join(path, "exclude")));
    }

    private static HashSet<string> Keys(JsonElement keys, string path)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        int i = 0;
        foreach (JsonElement key in keys.EnumerateArray())
        {
            set.Add(UpdateParser.PayloadKey(key, $"{path}[{i++}]"));
        }

        return set;
    }
}

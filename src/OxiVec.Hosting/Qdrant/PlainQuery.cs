using System.Text.Json;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// The common shape of a <c>QueryRequest</c>, read straight from the body's bytes with a <see cref="Utf8JsonReader"/>:
/// <c>{"query": [numbers], "limit": n, "offset": n, "score_threshold": x, "with_payload": bool, "with_vector": bool}</c>,
/// each field at most once, none null. The vector goes into the caller's buffer (no <see cref="JsonDocument"/>, no
/// intermediate objects).
/// </summary>
/// <remarks>
/// This is only a shortcut: <see cref="TryRead"/> accepts a body only when <see cref="SearchSpec.FromQuery"/> would
/// accept it with the same meaning, and declines everything else (another field, a filter, a point id, a bad or
/// non-finite number, a wrong dimension, a limit over the server's, bad JSON...), which the caller then reads the
/// general way, so every refusal keeps its message.
/// </remarks>
internal readonly record struct PlainQuery(int Limit, int Offset, float? ScoreThreshold, bool WithPayload, bool WithVector)
{
    [Flags]
    private enum Seen
    {
        None = 0,
        Query = 1,
        Limit = 2,
        Offset = 4,
        Threshold = 8,
        Payload = 16,
        Vector = 32,
    }

    /// <summary>
    /// Reads <paramref name="body"/> when it has the plain shape and its query vector has exactly
    /// <paramref name="vector"/>'s length; false (with nothing promised about <paramref name="vector"/>) otherwise.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> body, Span<float> vector, QdrantLimits limits, out PlainQuery query)
    {
        query = default;
        try
        {
            return TryReadCore(body, vector, limits, out query);
        }
        catch (JsonException)
        {
            return false; // the general reader names the error
        }
    }

    private static bool TryReadCore(ReadOnlySpan<byte> body, Span<float> vector, QdrantLimits limits, out PlainQuery query)
    {
        query = default;
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        ReadOnlySpan<byte> json = body; // what the reader reads: the body, or its rest after the query's numbers
        Seen seen = Seen.None;
        long limit = 10, offset = 0;
        float? threshold = null;
        bool payload = false, withVector = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            Seen field = reader.ValueTextEquals("query"u8) ? Seen.Query
                : reader.ValueTextEquals("limit"u8) ? Seen.Limit
                : reader.ValueTextEquals("offset"u8) ? Seen.Offset
                : reader.ValueTextEquals("score_threshold"u8) ? Seen.Threshold
                : reader.ValueTextEquals("with_payload"u8) ? Seen.Payload
                : reader.ValueTextEquals("with_vector"u8) ? Seen.Vector
                : Seen.None;
            if (field == Seen.None || (seen & field) != 0 || !reader.Read())
            {
                return false;
            }

            seen |= field;
            bool ok = field switch
            {
                Seen.Query => ReadVector(ref reader, ref json, vector),
                Seen.Limit => ReadCount(ref reader, 1, out limit),
                Seen.Offset => ReadCount(ref reader, 0, out offset),
                Seen.Threshold => ReadFinite(ref reader, out threshold),
                Seen.Payload => ReadBool(ref reader, out payload),
                _ => ReadBool(ref reader, out withVector),
            };
            if (!ok)
            {
                return false;
            }
        }

        // The root object has ended; nothing may follow it (Read throws on trailing content).
        if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 0 || reader.Read() || (seen & Seen.Query) == 0)
        {
            return false;
        }

        // As SearchSpec.FromQuery: a count past int.MaxValue is clamped, then the limit check decides.
        int limitValue = (int)Math.Min(limit, int.MaxValue), offsetValue = (int)Math.Min(offset, int.MaxValue);
        if ((long)limitValue + offsetValue > limits.MaxLimit)
        {
            return false;
        }

        query = new PlainQuery(limitValue, offsetValue, threshold, payload, withVector);
        return true;
    }

    /// <summary>
    /// Reads the query vector, the reader on its <c>[</c>: the numbers are scanned straight from the bytes
    /// (<see cref="TryScanNumbers"/>), and the reader goes on from the closing bracket, in its state after the
    /// <c>[</c> (the JSON it then reads is an empty array, valid wherever the vector was). When the scan declines, the
    /// reader reads the numbers one token at a time, as the general reader would.
    /// </summary>
    private static bool ReadVector(ref Utf8JsonReader reader, ref ReadOnlySpan<byte> json, Span<float> vector)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        int contents = (int)reader.BytesConsumed;
        if (TryScanNumbers(json[contents..], vector, out int close))
        {
            json = json[(contents + close)..];
            reader = new Utf8JsonReader(json, isFinalBlock: true, reader.CurrentState);
            return reader.Read() && reader.TokenType == JsonTokenType.EndArray;
        }

        int i = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.Number)
        {
            // The short way for the common numbers (exact, see FastSingleParser), the reader's own for the rest.
            float value = 0;
            if (i == vector.Length
                || !((!reader.HasValueSequence && FastSingleParser.TryParse(reader.ValueSpan, out value)) || reader.TryGetSingle(out value))
                || !float.IsFinite(value))
            {
                return false;
            }

            vector[i++] = value;
        }

        return reader.TokenType == JsonTokenType.EndArray && i == vector.Length;
    }

    /// <summary>
    /// Scans <paramref name="contents"/> (what follows a <c>[</c>) as exactly <paramref name="vector"/>'s length of
    /// JSON numbers that <see cref="FastSingleParser.TryParseAt"/> takes, separated by commas, with JSON whitespace around them,
    /// up to a <c>]</c>, whose position it gives in <paramref name="close"/>. Declines (false) anything else (another
    /// count, a number in another form or out of the fast range, a value that is not a number, a trailing comma, a
    /// comment...): the caller then reads the array token by token. Everything it takes is valid JSON read as the
    /// reader would read it.
    /// </summary>
    private static bool TryScanNumbers(ReadOnlySpan<byte> contents, Span<float> vector, out int close)
    {
        close = 0;
        int i = SkipWhitespace(contents, 0);
        for (int n = 0; n < vector.Length; n++)
        {
            if (!FastSingleParser.TryParseAt(contents, ref i, out float value))
            {
                return false;
            }

            vector[n] = value;
            i = SkipWhitespace(contents, i);
            if (i == contents.Length || contents[i] != (n == vector.Length - 1 ? (byte)']' : (byte)','))
            {
                return false; // also a digit after a leading 0
            }

            i = n == vector.Length - 1 ? i : SkipWhitespace(contents, i + 1);
        }

        close = i;
        return vector.Length > 0;
    }

    private static int SkipWhitespace(ReadOnlySpan<byte> json, int i)
    {
        while (i < json.Length && json[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            i++;
        }

        return i;
    }

    private static bool ReadCount(ref Utf8JsonReader reader, long min, out long value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value) && value >= min;
    }

    private static bool ReadFinite(ref Utf8JsonReader reader, out float? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetSingle(out float f) || !float.IsFinite(f))
        {
            return false;
        }

        value = f;
        return true;
    }

    private static bool ReadBool(ref Utf8JsonReader reader, out bool value)
    {
        value = reader.TokenType == JsonTokenType.True;
        return reader.TokenType is JsonTokenType.True or JsonTokenType.False;
    }
}

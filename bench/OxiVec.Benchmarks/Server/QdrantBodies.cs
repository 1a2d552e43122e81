using System.Buffers;
using System.Text.Json;

namespace OxiVec.Benchmarks.Server;

/// <summary>
/// The request bodies the HTTP clients send, serialised once before a cell starts (Qdrant's documented shapes):
/// <c>POST /collections/{name}/points/query</c> and <c>PUT /collections/{name}/points?wait=true</c>.
/// </summary>
internal static class QdrantBodies
{
    /// <summary>Results per search, as the embedded side asks for.</summary>
    public const int Limit = 10;

    /// <summary><c>{"query":[...],"limit":10}</c>.</summary>
    public static byte[] Query(float[] vector) => Write(w =>
    {
        w.WriteStartObject();
        WriteVector(w, "query", vector);
        w.WriteNumber("limit", Limit);
        w.WriteEndObject();
    });

    /// <summary><c>{"points":[{"id":id,"vector":[...]}]}</c>: one point, no payload (the embedded side upserts none either).</summary>
    public static byte[] UpsertOne(ulong id, float[] vector) => Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("points");
        w.WriteStartObject();
        w.WriteNumber("id", id);
        WriteVector(w, "vector", vector);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void WriteVector(Utf8JsonWriter w, string name, ReadOnlySpan<float> vector)
    {
        w.WriteStartArray(name);
        foreach (float x in vector)
        {
            w.WriteNumberValue(x);
        }

        w.WriteEndArray();
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(4_096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            body(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}

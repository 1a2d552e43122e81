using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// The answer of a <c>/points/query</c>: <c>{"result": {"points": [...]}, "status": "ok", "time": seconds}</c>, the
/// same JSON <see cref="QdrantResponse.Ok{T}"/> writes, written by one <see cref="Utf8JsonWriter"/> into a pooled
/// buffer and sent with its length (no envelope objects, no serializer).
/// </summary>
/// <remarks>
/// The points' list and the writer are the thread's (<see cref="RentPoints"/>, <see cref="Write"/>), not one each per
/// answer: both are used only while the answer is written, synchronously, before its bytes are sent, and the list goes
/// back to the thread that wrote it (a list grown past <see cref="MaxPooledCapacity"/> is left to the garbage collector).
/// </remarks>
internal sealed class QueryAnswer(List<ScoredPointJson> points, long started) : IResult
{
    private const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>The largest list kept for reuse (a search's limit is usually far below).</summary>
    internal const int MaxPooledCapacity = 256;

    [ThreadStatic]
    private static List<ScoredPointJson>? t_points;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private readonly double _time = Stopwatch.GetElapsedTime(started).TotalSeconds;

    /// <summary>The points answered (best first).</summary>
    public List<ScoredPointJson> Points => points;

    /// <summary>An empty list for the points of an answer: the thread's, when it has one free.</summary>
    public static List<ScoredPointJson> RentPoints(int capacity)
    {
        List<ScoredPointJson>? list = t_points;
        if (list is null)
        {
            return new List<ScoredPointJson>(Math.Max(capacity, 16));
        }

        t_points = null;
        return list;
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        using var buffer = new PooledBuffer(256 + (points.Count * 64));
        Write(buffer);
        HttpResponse response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType;
        response.ContentLength = buffer.Span.Length;
        await response.BodyWriter.WriteAsync(buffer.Memory, httpContext.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Writes the answer's JSON into <paramref name="buffer"/>, then hands the points' list back to the thread.</summary>
    internal void Write(PooledBuffer buffer)
    {
        Utf8JsonWriter writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        try
        {
            writer.WriteStartObject();
            writer.WriteStartObject("result"u8);
            writer.WriteStartArray("points"u8);
            foreach (ref readonly ScoredPointJson point in CollectionsMarshal.AsSpan(points))
            {
                ScoredPointJsonConverter.WritePoint(writer, point);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteString("status"u8, "ok"u8);
            writer.WriteNumber("time"u8, _time);
            writer.WriteEndObject();
            writer.Flush();
        }
        finally
        {
            writer.Reset(NoBuffer.Instance);
        }

        if (points.Capacity <= MaxPooledCapacity)
        {
            points.Clear();
            t_points = points;
        }
    }

    /// <summary>What the thread's writer points at between answers (it holds no answer's buffer).</summary>
    private sealed class NoBuffer : System.Buffers.IBufferWriter<byte>
    {
        public static readonly NoBuffer Instance = new();

        public void Advance(int count) => throw new InvalidOperationException("no answer is being written");

        public Memory<byte> GetMemory(int sizeHint = 0) => throw new InvalidOperationException("no answer is being written");

        public Span<byte> GetSpan(int sizeHint = 0) => throw new InvalidOperationException("no answer is being written");
    }
}

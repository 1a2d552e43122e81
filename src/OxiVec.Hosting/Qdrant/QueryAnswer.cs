using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// The answer of a <c>/points/query</c>: <c>{"result": {"points": [...]}, "status": "ok", "time": seconds}</c>, the
/// same JSON <see cref="QdrantResponse.Ok{T}"/> writes, written by one <see cref="Utf8JsonWriter"/> into a pooled
/// buffer and sent with its length (no envelope objects, no serializer).
/// </summary>
internal sealed class QueryAnswer(List<ScoredPointJson> points, long started) : IResult
{
    private const string JsonContentType = "application/json; charset=utf-8";

    private readonly double _time = Stopwatch.GetElapsedTime(started).TotalSeconds;

    /// <summary>The points answered (best first).</summary>
    public List<ScoredPointJson> Points => points;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        using var buffer = new PooledBuffer(256 + (points.Count * 64));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("result"u8);
            writer.WriteStartArray("points"u8);
            foreach (ref readonly ScoredPointJson point in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(points))
            {
                ScoredPointJsonConverter.WritePoint(writer, point);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteString("status"u8, "ok"u8);
            writer.WriteNumber("time"u8, _time);
            writer.WriteEndObject();
        }

        HttpResponse response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType;
        response.ContentLength = buffer.Span.Length;
        await response.BodyWriter.WriteAsync(buffer.Memory, httpContext.RequestAborted).ConfigureAwait(false);
    }
}

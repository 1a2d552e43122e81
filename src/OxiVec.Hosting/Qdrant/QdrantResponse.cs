using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Qdrant's response envelope: <c>{"result": ..., "status": "ok", "time": seconds}</c> on success,
/// <c>{"status": {"error": "..."}, "time": seconds}</c> on failure.
/// </summary>
public static class QdrantResponse
{
    /// <summary>JSON as Qdrant writes it: snake_case names, nulls kept.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>A success envelope around <paramref name="result"/>; <paramref name="started"/> is a <see cref="Stopwatch"/> timestamp.</summary>
    public static IResult Ok<T>(T result, long started) =>
        Results.Json(new OkEnvelope<T>(result, "ok", Stopwatch.GetElapsedTime(started).TotalSeconds), Json);

    /// <summary>An error envelope with <paramref name="statusCode"/>.</summary>
    public static IResult Error(int statusCode, string message, long started) =>
        Results.Json(new ErrorEnvelope(new ErrorStatus(message), Stopwatch.GetElapsedTime(started).TotalSeconds), Json, statusCode: statusCode);

    /// <summary>Writes an error envelope to <paramref name="context"/>'s response (for middleware).</summary>
    public static Task WriteErrorAsync(HttpContext context, int statusCode, string message)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = statusCode;
        return context.Response.WriteAsJsonAsync(new ErrorEnvelope(new ErrorStatus(message), 0), Json, context.RequestAborted);
    }

    private sealed record OkEnvelope<T>(T Result, string Status, double Time);

    private sealed record ErrorEnvelope(ErrorStatus Status, double Time);

    private sealed record ErrorStatus(string Error);
}

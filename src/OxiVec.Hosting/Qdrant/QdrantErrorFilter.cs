using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using OxiVec.Wal;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Answers the Qdrant routes' failures in Qdrant's envelope with Qdrant's status codes: bad input
/// (<see cref="ArgumentException"/>, including <see cref="Translation.QdrantRequestException"/>) 400, an unknown
/// collection or point (<see cref="KeyNotFoundException"/>) 404, a conflict 409, a database that is not open or a WAL
/// that failed 503. Anything else is left to the server's handler (a bug: 500).
/// </summary>
internal sealed class QdrantErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (StatusOf(ex) is int status)
        {
            return QdrantResponse.Error(status, ex.Message, started);
        }
    }

    /// <summary>The status Qdrant answers <paramref name="exception"/> with, or null when it is not a request's fault nor an outage.</summary>
    public static int? StatusOf(Exception exception) => exception switch
    {
        ArgumentException => StatusCodes.Status400BadRequest,
        KeyNotFoundException => StatusCodes.Status404NotFound,
        QdrantConflictException => StatusCodes.Status409Conflict,
        DatabaseUnavailableException or WalFailedException => StatusCodes.Status503ServiceUnavailable,
        _ => null,
    };
}

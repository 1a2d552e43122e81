using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OxiVec.Hosting.Qdrant;
using OxiVec.Wal;

namespace OxiVec.Hosting.Server;

/// <summary>
/// Turns exceptions that escape an endpoint into Qdrant's error envelope, so endpoints may simply throw:
/// <see cref="BadHttpRequestException"/> gets its own status (413 for a body over the limit), <see cref="JsonException"/>
/// and <see cref="ArgumentException"/> 400, <see cref="KeyNotFoundException"/> 404, a prepared-transaction conflict or
/// refused transition 409 (a commit of a gid never prepared 404),
/// <see cref="DatabaseUnavailableException"/>, a failed WAL, a write the fence refused and a database closed under the
/// request (a role change) 503, a request cancelled by its timeout 503, anything
/// else 500 with a generic message (the exception is logged with the request id). Error statuses answered without a
/// body (an unknown path, a wrong method) get the envelope too.
/// </summary>
internal static class ErrorHandling
{
    /// <summary>
    /// Adds the exception mapping and the envelope for bodiless errors to the pipeline: one middleware, which answers
    /// what ASP.NET Core's status code pages would (an error status without a body or content type) without their
    /// per-request cost (a feature object, and an items dictionary each request fills).
    /// </summary>
    public static IApplicationBuilder UseQdrantErrors(this IApplicationBuilder app)
    {
        ILogger logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ErrorHandling).FullName!);
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (Exception ex) when (!context.Response.HasStarted)
            {
                (int status, string? message) = Map(ex, context, Options(context));
                if (status >= StatusCodes.Status500InternalServerError && ex is not DatabaseUnavailableException and not OperationCanceledException
                    and not Storage.FencedWriteException and not ObjectDisposedException) // 503s of a role change: the cluster logs those
                {
                    logger.LogError(ex, "Request {RequestId} {Method} {Path} failed", context.TraceIdentifier, context.Request.Method, context.Request.Path);
                }

                context.Response.Clear();
                if (message is null)
                {
                    context.Response.StatusCode = status; // the client went away: nobody to answer
                    return;
                }

                await QdrantResponse.WriteErrorAsync(context, status, message).ConfigureAwait(false);
                return;
            }

            if (IsBodilessError(context.Response))
            {
                await QdrantResponse.WriteErrorAsync(context, context.Response.StatusCode, BodilessMessage(context)).ConfigureAwait(false);
            }
        });
        return app;
    }

    /// <summary>An error status answered without a body so far (an unknown path, a wrong method...): the envelope is due.</summary>
    private static bool IsBodilessError(HttpResponse response) =>
        !response.HasStarted && response.StatusCode is >= 400 and < 600 && response.ContentLength is null && string.IsNullOrEmpty(response.ContentType);

    private static string BodilessMessage(HttpContext context)
    {
        int status = context.Response.StatusCode;
        return status switch
        {
            StatusCodes.Status404NotFound => $"Not found: {context.Request.Method} {context.Request.Path} is not an endpoint of this server (docs/server.md lists the API).",
            StatusCodes.Status405MethodNotAllowed => $"Method not allowed: {context.Request.Path} does not take {context.Request.Method}.",
            StatusCodes.Status413PayloadTooLarge => BodyTooLarge(Options(context)),
            _ => $"HTTP {status}.",
        };
    }

    /// <summary>The status and message an exception answers with (no message: the client has gone).</summary>
    internal static (int Status, string? Message) Map(Exception ex, HttpContext context, ServerOptions options) => ex switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (StatusCodes.Status413PayloadTooLarge, BodyTooLarge(options)),
        BadHttpRequestException bad => (bad.StatusCode, bad.InnerException is JsonException json ? $"{bad.Message} {json.Message}" : bad.Message),
        JsonException json => (StatusCodes.Status400BadRequest, $"Bad JSON: {json.Message}"),
        DatabaseUnavailableException unavailable => (StatusCodes.Status503ServiceUnavailable, unavailable.Message),
        Storage.StandbyWriteException standby => (StatusCodes.Status421MisdirectedRequest, NamePrimary(context, standby)),
        Transactions.TransactionConflictException conflict => (StatusCodes.Status409Conflict, conflict.Message),
        Transactions.PreparedTransactionException { State: Transactions.PreparedTransactionState.Unknown } unknown => (StatusCodes.Status404NotFound, unknown.Message),
        Transactions.PreparedTransactionException prepared => (StatusCodes.Status409Conflict, prepared.Message),
        WalFailedException failed => (StatusCodes.Status503ServiceUnavailable, $"The database refuses writes: {failed.Message}"),
        Storage.FencedWriteException fenced => (StatusCodes.Status503ServiceUnavailable, RetryShortly(context, fenced.Message)),
        ObjectDisposedException => (StatusCodes.Status503ServiceUnavailable, RetryShortly(context, "The database was closed under the request: this node changed its role (a failover or a switchover) or is stopping. Retry; a write may or may not have been applied.")),
        ArgumentException argument => (StatusCodes.Status400BadRequest, argument.Message),
        KeyNotFoundException missing => (StatusCodes.Status404NotFound, missing.Message),
        OperationCanceledException when context.RequestAborted.IsCancellationRequested => (499, null),
        OperationCanceledException => (StatusCodes.Status503ServiceUnavailable, TimedOut(options)),
        _ => (StatusCodes.Status500InternalServerError, $"Internal error; the server log has the details under request id {context.TraceIdentifier}."),
    };

    // The standby middleware refuses writes before they reach an endpoint; this answers one that got past it the same way.
    private static string NamePrimary(HttpContext context, Storage.StandbyWriteException standby)
    {
        if (standby.PrimaryAddress is { } primary)
        {
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[ReplicationRequests.PrimaryHeader] = primary;
                return Task.CompletedTask;
            });
        }

        return standby.Message;
    }

    // A fenced write or a role change: the cluster has (or soon has) another primary.
    private static string RetryShortly(HttpContext context, string message)
    {
        context.Response.OnStarting(() =>
        {
            context.Response.Headers.RetryAfter = "1";
            return Task.CompletedTask;
        });
        return message;
    }

    // Read per request: the options are validated when the server starts, after the pipeline is built.
    private static ServerOptions Options(HttpContext context) => context.RequestServices.GetRequiredService<IOptions<ServerOptions>>().Value;

    /// <summary>The message of a request cancelled by <see cref="ServerOptions.RequestTimeoutMs"/>.</summary>
    internal static string TimedOut(ServerOptions options) =>
        $"The request ran longer than {options.RequestTimeoutMs} ms ({ServerOptions.SectionName}:{nameof(ServerOptions.RequestTimeoutMs)}) and was cancelled.";

    private static string BodyTooLarge(ServerOptions options) =>
        $"The request body is larger than {options.MaxRequestBodyBytes} bytes ({ServerOptions.SectionName}:{nameof(ServerOptions.MaxRequestBodyBytes)}); send fewer points per request.";
}

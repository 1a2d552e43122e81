using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OxiVec.Hosting.Qdrant;
using OxiVec.Hosting.Replication;
using OxiVec.Replication;

namespace OxiVec.Hosting.Server;

/// <summary>
/// What replication changes for REST requests: a standby refuses writes with 421 Misdirected Request naming its
/// primary (message and <c>OxiVec-Primary</c> header); a request carrying <c>OxiVec-Min-Lsn: N</c> waits until this
/// node has applied N (read-your-writes), up to <c>OxiVec-Min-Lsn-Timeout-Ms</c> (default
/// <see cref="ServerOptions.MinLsnTimeoutMs"/>, at most <see cref="ServerOptions.MaxMinLsnTimeoutMs"/>), then answers 503
/// naming both LSNs. The probes and the gRPC replication calls pass untouched.
/// </summary>
internal static class ReplicationRequests
{
    /// <summary>The response header of a write: the LSN of its commit.</summary>
    public const string LsnHeader = "OxiVec-Lsn";

    /// <summary>The request header asking for a minimum applied LSN.</summary>
    public const string MinLsnHeader = "OxiVec-Min-Lsn";

    /// <summary>The request header bounding that wait, in milliseconds.</summary>
    public const string MinLsnTimeoutHeader = "OxiVec-Min-Lsn-Timeout-Ms";

    /// <summary>The response header of a write a standby refused: where to send it.</summary>
    public const string PrimaryHeader = "OxiVec-Primary";

    /// <summary>The paths of the gRPC replication service.</summary>
    public const string GrpcPathPrefix = "/oxivec.replication.v1.";

    /// <summary>Adds the standby's write refusal and the minimum-LSN wait to the pipeline (after the API key check).</summary>
    public static IApplicationBuilder UseOxiVecReplication(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        PathString path = context.Request.Path;
        if (path.Value?.StartsWith(GrpcPathPrefix, StringComparison.Ordinal) == true || RequestAccess.IsProbe(path))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        // The application's singleton (the request's services would create their scope for every request to hand it out).
        OxiVecDatabaseHost host = app.ApplicationServices.GetRequiredService<OxiVecDatabaseHost>();
        ReplicationHostOptions replication = host.Options.Replication;
        if (replication.IsStandby && !RequestAccess.IsRead(context.Request.Method, path))
        {
            string primary = replication.PrimaryForClients;
            context.Response.Headers[PrimaryHeader] = primary;
            await QdrantResponse.WriteErrorAsync(
                context, StatusCodes.Status421MisdirectedRequest,
                $"This node is a standby ('{replication.NodeName}'); it only reads. Send {context.Request.Method} {path} to the primary, {primary}.").ConfigureAwait(false);
            return;
        }

        if (context.Request.Headers.TryGetValue(MinLsnHeader, out Microsoft.Extensions.Primitives.StringValues minLsn))
        {
            ServerOptions options = context.RequestServices.GetRequiredService<IOptions<ServerOptions>>().Value;
            long lsn = ParseHeader(minLsn, MinLsnHeader);
            long timeoutMs = context.Request.Headers.TryGetValue(MinLsnTimeoutHeader, out Microsoft.Extensions.Primitives.StringValues asked)
                ? Math.Min(ParseHeader(asked, MinLsnTimeoutHeader), options.MaxMinLsnTimeoutMs)
                : options.MinLsnTimeoutMs;
            (bool reached, long applied) = await WaitForAppliedAsync(host, lsn, TimeSpan.FromMilliseconds(timeoutMs), context.RequestAborted).ConfigureAwait(false);
            if (!reached)
            {
                await QdrantResponse.WriteErrorAsync(
                    context, StatusCodes.Status503ServiceUnavailable,
                    $"This node has applied up to LSN {applied}; the request needs LSN {lsn} ({MinLsnHeader}), which did not arrive within {timeoutMs} ms. " +
                    "Retry, ask the primary, or allow longer with " + MinLsnTimeoutHeader + ".").ConfigureAwait(false);
                return;
            }
        }

        await next(context).ConfigureAwait(false);
    });

    /// <summary>Waits until the node has applied <paramref name="lsn"/>; whether it did, and the LSN applied at the end.</summary>
    private static async Task<(bool Reached, long Applied)> WaitForAppliedAsync(OxiVecDatabaseHost host, long lsn, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (host.Standby is { } standby)
        {
            return await WaitOnStandbyAsync(standby, lsn, timeout, cancellationToken).ConfigureAwait(false);
        }

        Storage.VectorDatabase database = host.Database;
        bool applied = await database.WaitForAppliedAsync(lsn, timeout, cancellationToken).ConfigureAwait(false);
        return (applied, database.AppliedLsn);
    }

    /// <summary>
    /// Waits on the standby's current database; a base backup replaces it (the old one is closed and its waiters never
    /// wake), so a replacement restarts the wait on the new one, within the same deadline.
    /// </summary>
    private static async Task<(bool Reached, long Applied)> WaitOnStandbyAsync(StandbyReceiver standby, long lsn, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            using var replaced = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            void OnReplaced(object? sender, Storage.VectorDatabase database) => replaced.Cancel();
            standby.DatabaseReplaced += OnReplaced;
            try
            {
                Storage.VectorDatabase database = standby.Database; // read after subscribing: a replacement from now on cancels the wait
                TimeSpan remaining = TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64));
                try
                {
                    bool reached = await database.WaitForAppliedAsync(lsn, remaining, replaced.Token).ConfigureAwait(false);
                    return (reached, standby.Status.AppliedLsn);
                }
                catch (ObjectDisposedException) when (!replaced.IsCancellationRequested)
                {
                    // Closed for a base backup that has not published its database yet (or the standby stops): wait for the replacement.
                    await Task.Delay(remaining, replaced.Token).ConfigureAwait(false);
                    return (false, standby.Status.AppliedLsn);
                }
            }
            catch (Exception ex) when ((ex is OperationCanceledException or ObjectDisposedException) && !cancellationToken.IsCancellationRequested)
            {
                // The database was replaced by a base backup (or closed for it): wait on the new one, within the deadline.
                if (Environment.TickCount64 >= deadline)
                {
                    return (false, standby.Status.AppliedLsn);
                }
            }
            finally
            {
                standby.DatabaseReplaced -= OnReplaced;
            }
        }
    }

    private static long ParseHeader(Microsoft.Extensions.Primitives.StringValues values, string name) =>
        values.Count == 1 && long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new ArgumentException($"The {name} header must be one non-negative integer; it is '{values}'.");
}

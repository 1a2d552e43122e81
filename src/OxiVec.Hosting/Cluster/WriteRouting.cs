using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OxiVec.Cluster;
using OxiVec.Hosting.Qdrant;
using OxiVec.Hosting.Server;

namespace OxiVec.Hosting.Cluster;

/// <summary>
/// Where a cluster member sends a write it cannot take (it is not the primary): a redirect to the primary's same
/// path (307, <c>Location</c> and <c>OxiVec-Primary</c>) or, with <c>WriteForwarding: proxy</c>, the primary's answer to
/// the same request; while nobody leads (or this node is taking over) 503 with <c>Retry-After</c>. Reads are served
/// locally; the probes, the cluster's own endpoints and the replication calls pass untouched.
/// </summary>
internal static class WriteRouting
{
    /// <summary>Request headers not forwarded by the proxy (hop-by-hop, or set by the client for the next hop).</summary>
    private static readonly HashSet<string> NotForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection", "Content-Length", "Content-Type",
    };

    /// <summary>Adds the routing to the pipeline (after the API key check, before the standby's write refusal).</summary>
    public static IApplicationBuilder UseOxiVecClusterRouting(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.RequestServices.GetService<ClusterNode>() is not { } node || PassesThrough(context.Request))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        OxiVecDatabaseHost host = context.RequestServices.GetRequiredService<OxiVecDatabaseHost>();
        ClusterStatus status = node.Status;
        if (host.Role == NodeRole.Primary && status.Leader?.NodeId == node.NodeId)
        {
            await next(context).ConfigureAwait(false); // the fence decides whether it is acknowledged
            return;
        }

        if (status.Leader is not { } leader || leader.NodeId == node.NodeId)
        {
            context.Response.Headers.RetryAfter = "1";
            await QdrantResponse.WriteErrorAsync(
                context, StatusCodes.Status503ServiceUnavailable,
                $"The cluster '{status.Cluster}' has no primary right now (an election or a failover is in progress); retry shortly.").ConfigureAwait(false);
            return;
        }

        context.Response.Headers[ReplicationRequests.PrimaryHeader] = leader.HttpUrl;
        if (node.Options.ProxiesWrites)
        {
            await ProxyAsync(context, node, leader).ConfigureAwait(false);
            return;
        }

        string location = leader.HttpUrl + context.Request.Path + context.Request.QueryString;
        context.Response.Headers.Location = location;
        await QdrantResponse.WriteErrorAsync(
            context, StatusCodes.Status307TemporaryRedirect,
            $"This node ('{node.NodeId}') is not the primary; send {context.Request.Method} {context.Request.Path} to the primary '{leader.NodeId}', {location}.").ConfigureAwait(false);
    });

    private static bool PassesThrough(HttpRequest request) =>
        request.Path.Value?.StartsWith(ReplicationRequests.GrpcPathPrefix, StringComparison.Ordinal) == true
        || RequestAccess.IsProbe(request.Path)
        || request.Path.StartsWithSegments(ClusterEndpoints.Path, StringComparison.OrdinalIgnoreCase)
        || RequestAccess.IsRead(request.Method, request.Path);

    /// <summary>Sends the same request to the primary and answers with its answer (status, headers, body).</summary>
    private static async Task ProxyAsync(HttpContext context, ClusterNode node, LeaderInfo leader)
    {
        using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(leader.HttpUrl + context.Request.Path + context.Request.QueryString));
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            forward.Content = new StreamContent(context.Request.Body);
            if (context.Request.ContentType is { } type)
            {
                forward.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }

        foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in context.Request.Headers)
        {
            if (!NotForwarded.Contains(name))
            {
                forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        HttpResponseMessage answer;
        try
        {
            answer = await node.Proxy.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            context.Response.Headers.RetryAfter = "1";
            await QdrantResponse.WriteErrorAsync(
                context, StatusCodes.Status503ServiceUnavailable, $"The primary '{leader.NodeId}' ({leader.HttpUrl}) could not be reached to forward the write: {ex.Message}. Retry shortly.").ConfigureAwait(false);
            return;
        }

        using (answer)
        {
            context.Response.StatusCode = (int)answer.StatusCode;
            foreach (KeyValuePair<string, IEnumerable<string>> header in answer.Headers.Concat(answer.Content.Headers))
            {
                if (!NotForwarded.Contains(header.Key) || header.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.Headers[header.Key] = header.Value.ToArray();
                }
            }

            await answer.Content.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }
}

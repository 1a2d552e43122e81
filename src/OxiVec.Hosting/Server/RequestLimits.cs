using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OxiVec.Hosting.Qdrant;

namespace OxiVec.Hosting.Server;

/// <summary>
/// The server-wide limits of <see cref="ServerOptions"/>: the request body size (Kestrel, 413), the request timeout
/// (ASP.NET Core's request timeouts, 503) and the rate limit per API key or client address (ASP.NET Core's rate
/// limiter, a fixed one-second window, 429 with <c>Retry-After</c>). The probes are never rate limited.
/// </summary>
internal static class RequestLimits
{
    /// <summary>
    /// Registers the limits: the body size from <paramref name="bound"/> (the options as bound when the server is built:
    /// Kestrel reads its own when it is created), the rest from <see cref="ServerOptions"/> when the server starts.
    /// </summary>
    public static IServiceCollection AddOxiVecRequestLimits(this IServiceCollection services, ServerOptions bound)
    {
        if (bound.MaxRequestBodyBytes > 0) // otherwise the start fails on the validation, naming the setting
        {
            services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = bound.MaxRequestBodyBytes);
        }

        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<ServerOptions>>((timeouts, server) =>
        {
            ServerOptions options = server.Value;
            if (options.RequestTimeoutMs > 0)
            {
                timeouts.DefaultPolicy = new RequestTimeoutPolicy
                {
                    Timeout = TimeSpan.FromMilliseconds(options.RequestTimeoutMs),
                    TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
                    WriteTimeoutResponse = context =>
                    {
                        // The request's token is the cancelled timeout token here; the answer must still be written.
                        context.RequestAborted = CancellationToken.None;
                        return QdrantResponse.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorHandling.TimedOut(options));
                    },
                };
            }
        });
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<ServerOptions>>((limiter, server) =>
        {
            int perSecond = server.Value.RateLimitPerSecond;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                perSecond == 0 || RequestAccess.IsProbe(context.Request.Path)
                    ? RateLimitPartition.GetNoLimiter("unlimited")
                    : RateLimitPartition.GetFixedWindowLimiter(Caller(context).Partition, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = perSecond,
                        Window = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                    }));
            limiter.OnRejected = (rejected, cancellationToken) =>
            {
                HttpContext context = rejected.HttpContext;
                int retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                return new ValueTask(QdrantResponse.WriteErrorAsync(
                    context, StatusCodes.Status429TooManyRequests,
                    $"Too many requests: {Caller(context).Description} may make {perSecond} per second " +
                    $"({ServerOptions.SectionName}:{nameof(ServerOptions.RateLimitPerSecond)}); retry after {retryAfter} s."));
            };
        });
        return services;
    }

    private static RequestCaller Caller(HttpContext context) => context.Features.Get<RequestCaller>() ?? RequestCaller.Anonymous(context);
}

using System.Net;
using System.Net.Http.Headers;

namespace OxiVec.Client;

/// <summary>When a retry-safe call is sent again, and after how long.</summary>
internal static class RetryDelay
{
    /// <summary>Answers worth another attempt: 408, 429, 502, 503, 504 (the server was busy, recovering, or a proxy lost it).</summary>
    public static bool IsTransient(HttpStatusCode status) => status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
        or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>
    /// The backoff before retry number <paramref name="attempt"/> + 1: <c>base * 2^attempt</c>, at least a server's
    /// <c>Retry-After</c>, capped at <see cref="OxiVecClientOptions.RetryMaxDelay"/>, then jittered to between half
    /// and all of it (so clients that failed together do not retry together).
    /// </summary>
    public static TimeSpan For(OxiVecClientOptions options, int attempt, RetryConditionHeaderValue? retryAfter)
    {
        double cap = options.RetryMaxDelay.TotalMilliseconds;
        double exponential = Math.Min(cap, options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        double serverAsked = retryAfter?.Delta?.TotalMilliseconds ?? 0;
        double delay = Math.Min(cap, Math.Max(exponential, serverAsked));
        return TimeSpan.FromMilliseconds(delay * (0.5 + (Random.Shared.NextDouble() * 0.5)));
    }

    public static Task WaitAsync(OxiVecClientOptions options, int attempt, RetryConditionHeaderValue? retryAfter, CancellationToken cancellationToken)
    {
        TimeSpan delay = For(options, attempt, retryAfter);
        return delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, cancellationToken);
    }
}

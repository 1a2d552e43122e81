using Microsoft.AspNetCore.Http;

namespace OxiVec.Hosting.Server;

/// <summary>
/// Who made a request, as the rate limiter counts it: the API key it carried (by role, never the key itself), or the
/// client's address when the server has no keys.
/// </summary>
/// <param name="Partition">The rate limiter's partition.</param>
/// <param name="Description">How an error names the caller ("this API key", "this client address").</param>
internal sealed record RequestCaller(string Partition, string Description)
{
    /// <summary>A caller without a key: known by its address.</summary>
    public static RequestCaller Anonymous(HttpContext context) =>
        new("address:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"), "this client address");
}

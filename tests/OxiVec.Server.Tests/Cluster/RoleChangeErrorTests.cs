using System.Net;
using Microsoft.AspNetCore.Builder;
using OxiVec.Storage;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>A request caught by a role change answers 503 with Retry-After, never 500.</summary>
public sealed class RoleChangeErrorTests
{
    private static void MapThrowers(WebApplication app)
    {
        // What an endpoint meets when the database it read is closed under it (a demotion), or the fence fails around its write.
        app.MapGet("/test/throw/closed", string () => throw new ObjectDisposedException(nameof(VectorDatabase)));
        app.MapGet("/test/throw/fenced", string () => throw new FencedWriteException("/data", "the leadership lease could not be renewed", committedLocally: true, lsn: 42));
    }

    [Theory]
    [InlineData("/test/throw/closed", "changed its role")]
    [InlineData("/test/throw/fenced", "NOT acknowledged")]
    public async Task RequestCaughtByARoleChange_Answers503WithRetryAfter_NamingWhy(string path, string message)
    {
        await using ServerFixture server = await ServerFixture.StartAsync(configure: MapThrowers);
        (HttpStatusCode status, string? error, HttpResponseMessage response) = await server.SendAsync(ServerFixture.Request(HttpMethod.Get, path));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
    }
}

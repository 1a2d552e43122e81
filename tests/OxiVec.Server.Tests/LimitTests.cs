using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace OxiVec.Server.Tests;

public sealed record TestVector(float[] Vector);

public sealed class LimitTests
{
    /// <summary>Maps <c>POST /test/echo</c> (reads a JSON body) and <c>GET /test/slow</c> (waits until the request is cancelled).</summary>
    internal static void MapTestEndpoints(WebApplication app)
    {
        app.MapPost("/test/echo", (JsonElement body) => Results.Json(new { length = body.GetRawText().Length }));
        app.MapPost("/test/vector", (TestVector body) => Results.Json(new { length = body.Vector.Length }));
        app.MapGet("/test/slow", async (HttpContext context) =>
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
            return Results.Ok();
        });
    }

    [Fact]
    public async Task Body_OverMaxRequestBodyBytes_Answers413_NamingTheLimit()
    {
        await using ServerFixture server = await ServerFixture.StartAsync(
            new Dictionary<string, string?> { ["OxiVec:Server:MaxRequestBodyBytes"] = "1000" }, configure: MapTestEndpoints);
        string small = JsonSerializer.Serialize(new { text = new string('a', 100) });
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/test/echo", json: small))).Status);

        string large = JsonSerializer.Serialize(new { text = new string('a', 5000) });
        var (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/test/echo", json: large));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("OxiVec:Server:MaxRequestBodyBytes", error, StringComparison.Ordinal);
        Assert.Contains("1000 bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_RunningPastRequestTimeoutMs_Answers503_NamingTheLimit()
    {
        await using ServerFixture server = await ServerFixture.StartAsync(
            new Dictionary<string, string?> { ["OxiVec:Server:RequestTimeoutMs"] = "200" }, configure: MapTestEndpoints);
        var (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/test/slow"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("OxiVec:Server:RequestTimeoutMs", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_OverRateLimitPerSecond_Answer429_WithRetryAfter_AndTheProbesAreNotLimited()
    {
        await using ServerFixture server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["OxiVec:Server:RateLimitPerSecond"] = "2" });
        (HttpStatusCode Status, string? Error, HttpResponseMessage Response)? rejected = null;
        for (int i = 0; i < 50 && rejected is null; i++) // 2 per second: the third request within one second is refused
        {
            var answer = await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/oxivec/wal/metrics"));
            if (answer.Status != HttpStatusCode.OK)
            {
                rejected = answer;
            }
        }

        Assert.NotNull(rejected);
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.Value.Status);
        Assert.Contains("OxiVec:Server:RateLimitPerSecond", rejected.Value.Error, StringComparison.Ordinal);
        Assert.Contains("this client address", rejected.Value.Error, StringComparison.Ordinal); // no keys: counted by address
        Assert.True(rejected.Value.Response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/readyz"))).Status);
        }
    }

    [Fact]
    public async Task RateLimit_IsPerKey_TheReadOnlyKeyIsCountedApartFromTheReadWriteKey()
    {
        await using ServerFixture server = await ServerFixture.StartAsync(new Dictionary<string, string?>
        {
            ["OxiVec:Server:RateLimitPerSecond"] = "1",
            ["OxiVec:Server:ApiKey"] = "rw",
            ["OxiVec:Server:ReadOnlyApiKey"] = "ro",
        });
        HttpStatusCode last = HttpStatusCode.OK;
        for (int i = 0; i < 50 && last == HttpStatusCode.OK; i++)
        {
            last = (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/oxivec/wal/metrics", "rw"))).Status;
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, last);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/oxivec/wal/metrics", "ro"))).Status);
    }

    [Fact]
    public async Task Limits_ForTheQdrantEndpoints_AreServerOptions()
    {
        await using ServerFixture server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["OxiVec:Server:MaxLimit"] = "77" });
        var options = (Microsoft.Extensions.Options.IOptions<OxiVec.Hosting.Server.ServerOptions>)server.Services.GetService(typeof(Microsoft.Extensions.Options.IOptions<OxiVec.Hosting.Server.ServerOptions>))!;
        Assert.Equal(77, options.Value.MaxLimit);
    }
}

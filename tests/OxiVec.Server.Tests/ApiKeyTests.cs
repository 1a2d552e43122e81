using System.Net;
using System.Net.Http.Headers;

namespace OxiVec.Server.Tests;

public sealed class ApiKeyTests
{
    private const string Key = "read-write-key-1";
    private const string ReadOnlyKey = "read-only-key-2";

    private static Task<ServerFixture> StartWithKeysAsync() => ServerFixture.StartAsync(new Dictionary<string, string?>
    {
        ["OxiVec:Server:ApiKey"] = Key,
        ["OxiVec:Server:ReadOnlyApiKey"] = ReadOnlyKey,
    });

    [Fact]
    public async Task Request_WithoutAKey_Answers401InQdrantsEnvelope_ButTheProbesNeedNone()
    {
        await using ServerFixture server = await StartWithKeysAsync();
        foreach (string path in new[] { "/", "/healthz", "/metrics", "/oxivec/wal/metrics" })
        {
            var (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Get, path));
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Contains("api-key", error, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/livez"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/readyz"))).Status);
    }

    [Fact]
    public async Task Request_WithAWrongKey_Answers401_AlsoForAPrefixOrALongerKey()
    {
        await using ServerFixture server = await StartWithKeysAsync();
        foreach (string wrong in new[] { "nope", Key[..^1], Key + "x", Key.ToUpperInvariant(), ReadOnlyKey + Key })
        {
            var (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/healthz", wrong));
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("Invalid API key.", error);
        }
    }

    [Fact]
    public async Task ReadWriteKey_InTheHeaderOrAsBearerToken_MayReadAndWrite()
    {
        await using ServerFixture server = await StartWithKeysAsync();
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/healthz", Key))).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/checkpoint", Key))).Status);

        var bearer = ServerFixture.Request(HttpMethod.Post, "/oxivec/checkpoint");
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(bearer)).Status);
    }

    [Fact]
    public async Task ReadOnlyKey_MayReadAndSearch_ButAWriteAnswers403()
    {
        await using ServerFixture server = await StartWithKeysAsync();
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/oxivec/wal/metrics", ReadOnlyKey))).Status);

        var (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/checkpoint", ReadOnlyKey));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("read-only", error, StringComparison.Ordinal);
        Assert.Null(server.Host.Database.LastCheckpoint); // nothing was written

        // A search is a read: the key passes, and the (unknown) collection answers 404, not 403.
        var search = await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/collections/none/points/query", ReadOnlyKey, "{}"));
        Assert.NotEqual(HttpStatusCode.Forbidden, search.Status);
        Assert.NotEqual(HttpStatusCode.Unauthorized, search.Status);
    }

    [Fact]
    public async Task ApiKey_FromTheOxivecApiKeyConfigurationKey_IsRequired()
    {
        await using ServerFixture server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["OXIVEC_API_KEY"] = Key });
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/healthz"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/healthz", Key))).Status);
    }

    [Fact]
    public async Task Server_WithoutKeys_OnLoopback_AnswersWithoutAKey()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/oxivec/checkpoint"))).Status);
    }

    [Fact]
    public async Task Server_WithoutKeys_OnANonLoopbackAddress_RefusesToStart_NamingApiKeyAndAllowAnonymous()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => ServerFixture.StartAsync(new Dictionary<string, string?> { ["OxiVec:Server:Http"] = "192.0.2.1:0" }));
        Assert.Contains("--api-key", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--allow-anonymous", ex.Message, StringComparison.Ordinal);
    }
}

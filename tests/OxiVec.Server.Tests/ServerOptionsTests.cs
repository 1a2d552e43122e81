using OxiVec.Hosting.Server;

namespace OxiVec.Server.Tests;

public sealed class ServerOptionsTests
{
    [Fact]
    public void Defaults_AreValid() => Assert.Empty(new ServerOptions().Validate());

    [Theory]
    [InlineData("Http", "6333")]
    [InlineData("Http", "127.0.0.1:")]
    [InlineData("Http", "127.0.0.1:70000")]
    [InlineData("Http", "::1:6333")]
    [InlineData("Http", "http://127.0.0.1:6333")]
    [InlineData("MaxRequestBodyBytes", "0")]
    [InlineData("MaxPointsPerRequest", "0")]
    [InlineData("MaxLimit", "-1")]
    [InlineData("MaxFilterDepth", "0")]
    [InlineData("MaxDimension", "65537")]
    [InlineData("RequestTimeoutMs", "-1")]
    [InlineData("RateLimitPerSecond", "-5")]
    [InlineData("ApiKey", " ")]
    public async Task Start_WithABadServerSetting_FailsNamingTheSetting(string setting, string value)
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => ServerFixture.StartAsync(new Dictionary<string, string?> { [$"OxiVec:Server:{setting}"] = value }));
        Assert.Contains($"OxiVec:Server:{setting}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSameKey_ForReadWriteAndReadOnly_IsRefused() =>
        Assert.Contains(new ServerOptions { ApiKey = "k", ReadOnlyApiKey = "k" }.Validate(), p => p.Contains("OxiVec:Server:ReadOnlyApiKey", StringComparison.Ordinal));

    [Theory]
    [InlineData("127.0.0.1:6333")]
    [InlineData("127.0.0.2:0")]
    [InlineData("localhost:6333")]
    [InlineData("[::1]:6333")]
    public void NoKey_OnLoopback_IsValid(string http) => Assert.Empty(new ServerOptions { Http = http }.Validate());

    [Theory]
    [InlineData("0.0.0.0:6333")]
    [InlineData("[::]:6333")]
    [InlineData("10.1.2.3:6333")]
    [InlineData("example.org:6333")]
    public void NoKey_OffLoopback_IsRefused_UnlessAKeyIsGivenOrAnonymousIsAllowed(string http)
    {
        Assert.Contains(new ServerOptions { Http = http }.Validate(), p => p.Contains("--allow-anonymous", StringComparison.Ordinal));
        Assert.Empty(new ServerOptions { Http = http, AllowAnonymous = true }.Validate());
        Assert.Empty(new ServerOptions { Http = http, ApiKey = "k" }.Validate());
        Assert.Empty(new ServerOptions { Http = http, ReadOnlyApiKey = "r" }.Validate());
    }

    [Fact]
    public async Task ConfigFile_WithABadValue_FailsTheStartNamingTheSetting()
    {
        string file = Path.Combine(Path.GetTempPath(), "oxivec-config-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, """{ "OxiVec": { "Server": { "MaxLimit": 0 } } }""");
        try
        {
            var app = OxiVecServer.Build([], file, new Dictionary<string, string?>
            {
                ["OxiVec:DataDirectory"] = Path.Combine(Path.GetTempPath(), "oxivec-unused-" + Guid.NewGuid().ToString("N")),
                ["OxiVec:Server:Http"] = "127.0.0.1:0",
            });
            await using (app)
            {
                var ex = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());
                Assert.Contains("OxiVec:Server:MaxLimit", ex.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ConfigFile_WithABadDatabaseValue_FailsTheStartNamingTheSetting()
    {
        string file = Path.Combine(Path.GetTempPath(), "oxivec-config-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, """{ "OxiVec": { "SyncIntervalMs": -3 } }""");
        try
        {
            var app = OxiVecServer.Build([], file, new Dictionary<string, string?>
            {
                ["OxiVec:DataDirectory"] = Path.Combine(Path.GetTempPath(), "oxivec-unused-" + Guid.NewGuid().ToString("N")),
                ["OxiVec:Server:Http"] = "127.0.0.1:0",
            });
            await using (app)
            {
                var ex = await Assert.ThrowsAnyAsync<Exception>(() => app.StartAsync());
                Assert.Contains("OxiVec:SyncIntervalMs", ex.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }
}

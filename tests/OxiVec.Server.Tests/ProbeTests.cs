using System.Net;
using System.Text.Json;

namespace OxiVec.Server.Tests;

public sealed class ProbeTests
{
    [Fact]
    public async Task Probes_OnAReadyServer_AnswerOk_AndRootNamesTitleAndVersion()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/livez")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/healthz")).StatusCode);
        using JsonDocument root = JsonDocument.Parse(await server.Client.GetStringAsync("/"));
        Assert.Contains("oxivec", root.RootElement.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(root.RootElement.GetProperty("version").GetString()));
    }

    [Fact]
    public async Task Start_WithoutADataDirectory_FailsNamingTheSetting()
    {
        var ex = await Assert.ThrowsAnyAsync<Exception>(() => ServerFixture.StartAsync(new Dictionary<string, string?> { ["OxiVec:DataDirectory"] = "" }));
        Assert.Contains("OxiVec:DataDirectory", ex.Message, StringComparison.Ordinal);
    }
}

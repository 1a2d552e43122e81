using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OxiVec.Client;

namespace OxiVec.Server.Tests.Client;

public sealed class ClientApiKeyTests
{
    private const string Key = "client-key-1";
    private const string ReadOnlyKey = "client-ro-key-2";

    private static Task<ServerFixture> StartWithKeysAsync() => ServerFixture.StartAsync(new Dictionary<string, string?>
    {
        ["OxiVec:Server:ApiKey"] = Key,
        ["OxiVec:Server:ReadOnlyApiKey"] = ReadOnlyKey,
    });

    private static OxiVecClient ClientOf(ServerFixture server, string? key) =>
        new(new HttpClient { BaseAddress = server.Address }, new OxiVecClientOptions { ApiKey = key, MaxRetries = 0 });

    [Fact]
    public async Task ApiKey_IsSentInTheApiKeyHeader_WithoutOneTheServerAnswers401_AndTheReadOnlyKeyMayNotWrite()
    {
        await using ServerFixture server = await StartWithKeysAsync();

        OxiVecClientException none = await Assert.ThrowsAsync<OxiVecClientException>(() => ClientOf(server, null).ListCollectionsAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Contains("api-key", none.ServerMessage, StringComparison.Ordinal);

        OxiVecClientException wrong = await Assert.ThrowsAsync<OxiVecClientException>(() => ClientOf(server, "nope").ListCollectionsAsync());
        Assert.Equal("Invalid API key.", wrong.ServerMessage);

        OxiVecClient writer = ClientOf(server, Key);
        await writer.CreateCollectionAsync("k_docs", new VectorParams(2, Distance.Dot));
        await writer.UpsertAsync("k_docs", [new PointStruct(1, new float[] { 1, 1 })]);

        OxiVecClient reader = ClientOf(server, ReadOnlyKey);
        Assert.Equal(1, await reader.CountAsync("k_docs"));
        Assert.Single(await reader.QueryAsync("k_docs", new QueryRequest(new float[] { 1, 0 })));
        OxiVecClientException forbidden = await Assert.ThrowsAsync<OxiVecClientException>(() => reader.UpsertAsync("k_docs", [new PointStruct(2, new float[] { 1, 1 })]));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(1, await reader.CountAsync("k_docs"));
    }

    [Fact]
    public async Task AddOxiVecClient_TakesEndpointAndApiKeyFromTheOxiVecClientSection()
    {
        await using ServerFixture server = await StartWithKeysAsync();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OxiVec:Client:Endpoint"] = server.Address.ToString(),
            ["OxiVec:Client:ApiKey"] = Key,
            ["OxiVec:Client:Timeout"] = "00:00:20",
            ["OxiVec:Client:MaxRetries"] = "1",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddOxiVecClient();
        await using ServiceProvider provider = services.BuildServiceProvider();

        OxiVecClient client = provider.GetRequiredService<OxiVecClient>();
        Assert.Equal(server.Address, client.Endpoint);
        await client.CreateCollectionAsync("k_di", new VectorParams(2, Distance.Cosine));
        Assert.True(await client.CollectionExistsAsync("k_di"));

        OxiVecClientOptions options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<OxiVecClientOptions>>().Value;
        Assert.Equal(TimeSpan.FromSeconds(20), options.Timeout);
        Assert.Equal(1, options.MaxRetries);
    }
}

using System.Net;
using OxiVec.Client;

namespace OxiVec.Server.Tests.Client;

public sealed class ClientCollectionTests(ClientServer server) : IClassFixture<ClientServer>
{
    private OxiVecClient Client => server.Client;

    [Fact]
    public async Task CreateGetExistsListDelete_RoundTripThroughTheServer()
    {
        await Client.CreateCollectionAsync("c_life", new VectorParams(4, Distance.Dot), new HnswConfig(M: 8, EfConstruct: 50));
        Assert.True(await Client.CollectionExistsAsync("c_life"));
        Assert.Contains("c_life", await Client.ListCollectionsAsync());

        CollectionDescription info = await Client.GetCollectionAsync("c_life");
        Assert.Equal("green", info.Status);
        Assert.Equal(0, info.PointsCount);
        Assert.Equal(new VectorParams(4, Distance.Dot), info.Vectors);
        Assert.Equal(new HnswConfig(8, 50), info.Hnsw);

        Assert.True(await Client.DeleteCollectionAsync("c_life"));
        Assert.False(await Client.DeleteCollectionAsync("c_life"));
        Assert.False(await Client.CollectionExistsAsync("c_life"));
        Assert.DoesNotContain("c_life", await Client.ListCollectionsAsync());
    }

    [Fact]
    public async Task CreateCollection_WithMZero_IsAnExactIndex_AndCosineEuclidAreKept()
    {
        await Client.CreateCollectionAsync("c_exact", new VectorParams(3, Distance.Euclid), new HnswConfig(M: 0));
        await Client.CreateCollectionAsync("c_cos", new VectorParams(3, Distance.Cosine));
        Assert.Equal(0, (await Client.GetCollectionAsync("c_exact")).Hnsw.M);
        Assert.Equal(Distance.Euclid, (await Client.GetCollectionAsync("c_exact")).Vectors.Distance);
        Assert.Equal(Distance.Cosine, (await Client.GetCollectionAsync("c_cos")).Vectors.Distance);
    }

    [Fact]
    public async Task GetCollection_Unknown_ThrowsOxiVecClientException404_WithTheServersMessageMethodAndPath()
    {
        OxiVecClientException error = await Assert.ThrowsAsync<OxiVecClientException>(() => Client.GetCollectionAsync("c_nope"));
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal("Not found: Collection `c_nope` doesn't exist!", error.ServerMessage);
        Assert.Equal("GET", error.Method);
        Assert.Equal("/collections/c_nope", error.Path);
        Assert.Contains("GET /collections/c_nope answered 404", error.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(error.RequestId));
    }

    [Fact]
    public async Task CreateCollection_ThatExists_Throws409_AndABadSizeThrows400NamingIt()
    {
        await Client.CreateCollectionAsync("c_twice", new VectorParams(2, Distance.Dot));
        OxiVecClientException conflict = await Assert.ThrowsAsync<OxiVecClientException>(() => Client.CreateCollectionAsync("c_twice", new VectorParams(2, Distance.Dot)));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Contains("already exists", conflict.ServerMessage, StringComparison.Ordinal);

        OxiVecClientException bad = await Assert.ThrowsAsync<OxiVecClientException>(() => Client.CreateCollectionAsync("c_bad", new VectorParams(0, Distance.Dot)));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("size", bad.ServerMessage, StringComparison.Ordinal);
        Assert.False(await Client.CollectionExistsAsync("c_bad"));
    }

    [Fact]
    public async Task CollectionName_IsEscapedInThePath_SoAPathNameIsRefusedNotRouted()
    {
        OxiVecClientException error = await Assert.ThrowsAsync<OxiVecClientException>(() => Client.CreateCollectionAsync("a/../b", new VectorParams(2, Distance.Dot)));
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("collection_name", error.ServerMessage, StringComparison.Ordinal);
    }
}

using System.Net;

namespace OxiVec.Server.Tests.Qdrant;

public sealed class UnsupportedApiTests(QdrantServer server) : IClassFixture<QdrantServer>
{
    [Theory]
    [InlineData("POST", "/collections/any/snapshots", "snapshots")]
    [InlineData("GET", "/collections/any/snapshots", "snapshots")]
    [InlineData("GET", "/snapshots", "snapshots")]
    [InlineData("POST", "/collections/aliases", "aliases")]
    [InlineData("GET", "/aliases", "aliases")]
    [InlineData("GET", "/collections/any/aliases", "aliases")]
    [InlineData("PUT", "/collections/any/shards", "shards")]
    [InlineData("GET", "/cluster", "clustering")]
    [InlineData("GET", "/collections/any/cluster", "clustering")]
    [InlineData("PUT", "/collections/any/index", "payload indexes")]
    [InlineData("POST", "/collections/any/points/recommend", "the recommend API")]
    [InlineData("POST", "/collections/any/points/discover", "the discover API")]
    [InlineData("POST", "/collections/any/facet", "facets")]
    [InlineData("POST", "/collections/any/points/query/groups", "grouped search")]
    [InlineData("POST", "/collections/any/points/search/matrix/pairs", "distance matrices")]
    [InlineData("POST", "/collections/any/points/vectors/delete", "named vectors")]
    [InlineData("DELETE", "/collections/any/points/1", "this endpoint")]
    public async Task AQdrantFeatureOxiVecLacks_Answers404NamingIt(string method, string path, string feature)
    {
        Answer answer = (await server.Http.SendAsync(new HttpMethod(method), path, "{}")).Expect(HttpStatusCode.NotFound);
        Assert.Contains($"OxiVec does not support {feature}", answer.Error, StringComparison.Ordinal);
    }
}

using System.Net;
using System.Text.Json;
using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.Server.Tests.Qdrant;

public sealed class PayloadNumberTests
{
    [Fact]
    public async Task Retrieve_AnInfiniteDoubleStoredThroughTheEmbeddedApi_AnswersItAs1e999_AsOxivecExportDoes()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        VectorDatabase database = server.Host.Database;
        database.CreateCollection("c", new CollectionOptions(2) { Metric = DistanceMetric.DotProduct });
        database.Upsert("c", "7", (float[])[1f, 2f], new Dictionary<string, MetadataValue>
        {
            ["up"] = double.PositiveInfinity,
            ["down"] = MetadataValue.FromList([MetadataValue.From(double.NegativeInfinity), MetadataValue.From(2.0)]),
        });

        using HttpResponseMessage answer = await server.Client.GetAsync("/collections/c/points/7");
        string body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, body);
        Assert.Contains("\"up\":1e999", body, StringComparison.Ordinal);
        Assert.Contains("\"down\":[-1e999,2.0]", body, StringComparison.Ordinal);
        using JsonDocument parsed = JsonDocument.Parse(body); // valid JSON
        Assert.Equal(7UL, parsed.RootElement.GetProperty("result").GetProperty("id").GetUInt64());
    }
}

using System.Net;
using System.Text.Json.Nodes;
using OxiVec.Client;

namespace OxiVec.Server.Tests.Client;

/// <summary>The retry rule: idempotent calls are retried on transient failures, a bounded number of times; other calls never.</summary>
public sealed class ClientRetryTests(ClientServer server) : IClassFixture<ClientServer>
{
    private (OxiVecClient Client, FaultInjectingHandler Faults) Faulty(int faults, HttpStatusCode? status = HttpStatusCode.ServiceUnavailable,
        int maxRetries = 3, IReadOnlyDictionary<string, string>? headers = null)
    {
        var handler = new FaultInjectingHandler(new SocketsHttpHandler()) { Faults = faults, Status = status, Headers = headers ?? new Dictionary<string, string>() };
        var http = new HttpClient(handler) { BaseAddress = server.Server.Address, Timeout = TimeSpan.FromSeconds(30) };
        return (new OxiVecClient(http, new OxiVecClientOptions { MaxRetries = maxRetries, RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(2) }), handler);
    }

    private async Task<string> CollectionAsync(string name)
    {
        if (!await server.Client.CollectionExistsAsync(name))
        {
            await server.Client.CreateCollectionAsync(name, new VectorParams(2, Distance.Dot));
            await server.Client.UpsertAsync(name, [new PointStruct(1, new float[] { 1, 1 }, new JsonObject { ["a"] = 1 })]);
        }

        return name;
    }

    public static TheoryData<HttpStatusCode?> Transient => new() { HttpStatusCode.RequestTimeout, HttpStatusCode.TooManyRequests, HttpStatusCode.BadGateway, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout, null };

    [Theory]
    [MemberData(nameof(Transient))]
    public async Task IdempotentCall_TransientFailureThenSuccess_SucceedsInExactlyTwoAttempts(HttpStatusCode? status)
    {
        string c = await CollectionAsync("r_read");
        var (client, faults) = Faulty(1, status);
        Assert.Equal(1, await client.CountAsync(c));
        Assert.Equal(2, faults.Attempts);
    }

    [Fact]
    public async Task EveryIdempotentCall_IsRetriedOnce_After503()
    {
        string c = await CollectionAsync("r_each");
        var calls = new (string Name, Func<OxiVecClient, Task> Call)[]
        {
            ("list", x => x.ListCollectionsAsync()),
            ("get collection", x => x.GetCollectionAsync(c)),
            ("exists", x => x.CollectionExistsAsync(c)),
            ("upsert", x => x.UpsertAsync(c, [new PointStruct(2, new float[] { 2, 2 })])),
            ("get point", x => x.GetPointAsync(c, 1)),
            ("retrieve", x => x.RetrieveAsync(c, [1])),
            ("delete ids", x => x.DeleteAsync(c, PointsSelector.ByIds(2))),
            ("scroll", x => x.ScrollAsync(c)),
            ("count", x => x.CountAsync(c)),
            ("set payload ids", x => x.SetPayloadAsync(c, new JsonObject { ["b"] = 2 }, PointsSelector.ByIds(1))),
            ("overwrite payload ids", x => x.OverwritePayloadAsync(c, new JsonObject { ["a"] = 1 }, PointsSelector.ByIds(1))),
            ("delete payload ids", x => x.DeletePayloadAsync(c, ["b"], PointsSelector.ByIds(1))),
            ("batch of upserts and deletes by id", x => x.BatchUpdateAsync(c, [UpdateOperation.Upsert(new PointStruct(3, new float[] { 3, 3 })), UpdateOperation.Delete(PointsSelector.ByIds(3))])),
            ("query", x => x.QueryAsync(c, new QueryRequest(new float[] { 1, 0 }))),
            ("query batch", x => x.QueryBatchAsync(c, [new QueryRequest(new float[] { 1, 0 })])),
            ("wal metrics", x => x.GetWalMetricsAsync()),
            ("wal health", x => x.GetWalHealthAsync()),
            ("recovery", x => x.GetRecoveryAsync()),
        };
        foreach ((string name, Func<OxiVecClient, Task> call) in calls)
        {
            var (client, faults) = Faulty(1);
            await call(client);
            Assert.True(faults.Attempts == 2, $"{name}: {faults.Attempts} attempts");
        }
    }

    [Fact]
    public async Task NonIdempotentCall_503_FailsAfterExactlyOneAttempt()
    {
        string c = await CollectionAsync("r_once");
        var calls = new (string Name, Func<OxiVecClient, Task> Call)[]
        {
            ("create collection", x => x.CreateCollectionAsync("r_new", new VectorParams(2, Distance.Dot))),
            ("delete collection", x => x.DeleteCollectionAsync(c)),
            ("delete by filter", x => x.DeleteAsync(c, Filter.Must(Condition.Match("a", 5)))),
            ("set payload by filter", x => x.SetPayloadAsync(c, new JsonObject { ["b"] = 2 }, Filter.Must(Condition.Match("a", 1)))),
            ("clear payload by filter", x => x.ClearPayloadAsync(c, Filter.Must(Condition.Match("a", 5)))),
            ("batch with a payload operation", x => x.BatchUpdateAsync(c, [UpdateOperation.Upsert(new PointStruct(4, new float[] { 1, 1 })), UpdateOperation.SetPayload(new JsonObject { ["b"] = 1 }, PointsSelector.ByIds(4))])),
            ("checkpoint", x => x.CheckpointAsync()),
        };
        foreach ((string name, Func<OxiVecClient, Task> call) in calls)
        {
            var (client, faults) = Faulty(1);
            OxiVecClientException error = await Assert.ThrowsAsync<OxiVecClientException>(() => call(client));
            Assert.True(faults.Attempts == 1, $"{name}: {faults.Attempts} attempts");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
            Assert.Equal("injected fault", error.ServerMessage);
        }

        Assert.True(await server.Client.CollectionExistsAsync(c)); // the faults never reached the server
    }

    [Fact]
    public async Task NonIdempotentCall_ConnectionFailure_FailsAfterOneAttempt_AsOxiVecClientException_SayingTheWriteMayHaveApplied()
    {
        var (client, faults) = Faulty(1, status: null);
        OxiVecClientException error = await Assert.ThrowsAsync<OxiVecClientException>(() => client.CreateCollectionAsync("r_conn", new VectorParams(2, Distance.Dot)));
        Assert.Equal(1, faults.Attempts);
        Assert.Null(error.StatusCode);
        Assert.IsType<HttpRequestException>(error.InnerException);
        Assert.Contains("may or may not have been applied", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdempotentCall_AlwaysFailing_StopsAfterMaxRetriesPlusOneAttempts()
    {
        string c = await CollectionAsync("r_bounded");
        foreach (int maxRetries in new[] { 0, 2, 5 })
        {
            var (client, faults) = Faulty(int.MaxValue, maxRetries: maxRetries);
            OxiVecClientException error = await Assert.ThrowsAsync<OxiVecClientException>(() => client.CountAsync(c));
            Assert.Equal(maxRetries + 1, faults.Attempts);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        }
    }

    [Fact]
    public async Task ARefusal_IsNeverRetried_NorA500()
    {
        foreach (HttpStatusCode status in new[] { HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.InternalServerError, HttpStatusCode.Unauthorized })
        {
            var (client, faults) = Faulty(1, status);
            OxiVecClientException error = await Assert.ThrowsAsync<OxiVecClientException>(() => client.ListCollectionsAsync());
            Assert.Equal(1, faults.Attempts);
            Assert.Equal(status, error.StatusCode);
        }
    }

    [Fact]
    public async Task Standby421_WithOxiVecPrimary_IsSurfacedAsPrimaryAddress_AndNotRetried()
    {
        string c = await CollectionAsync("r_standby");
        var (client, faults) = Faulty(1, HttpStatusCode.MisdirectedRequest, headers: new Dictionary<string, string> { ["OxiVec-Primary"] = "http://10.0.0.7:6333" });
        OxiVecClientException error = await Assert.ThrowsAsync<OxiVecClientException>(() => client.UpsertAsync(c, [new PointStruct(9, new float[] { 1, 1 })]));
        Assert.Equal(1, faults.Attempts);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, error.StatusCode);
        Assert.Equal("http://10.0.0.7:6333", error.PrimaryAddress);
        Assert.Contains("The primary is http://10.0.0.7:6333.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backoff_GrowsExponentially_IsCapped_HonoursRetryAfter_AndIsJitteredBetweenHalfAndAll()
    {
        var options = new OxiVecClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(100), RetryMaxDelay = TimeSpan.FromSeconds(1) };
        for (int i = 0; i < 200; i++)
        {
            AssertWithin(RetryDelay.For(options, 0, null), 50, 100);
            AssertWithin(RetryDelay.For(options, 2, null), 200, 400);
            AssertWithin(RetryDelay.For(options, 20, null), 500, 1000);
            AssertWithin(RetryDelay.For(options, 0, new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromMilliseconds(600))), 300, 600);
            AssertWithin(RetryDelay.For(options, 0, new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromHours(1))), 500, 1000);
        }

        static void AssertWithin(TimeSpan delay, double min, double max) =>
            Assert.InRange(delay.TotalMilliseconds, min, max);
    }
}

using System.Net;
using System.Text.Json.Nodes;
using OxiVec.Client;
using OxiVec.Server.Tests.Client;
using OxiVec.Storage;

namespace OxiVec.Server.Tests.Transactions;

/// <summary>The client's participant calls against a real server: round trip, and the retry rule (commit and rollback retried, prepare never).</summary>
public sealed class ClientTransactionTests
{
    private static async Task<ServerFixture> StartAsync()
    {
        ServerFixture server = await ServerFixture.StartAsync();
        server.Host.Database.CreateCollection("docs", new CollectionOptions(2));
        server.Host.Database.Upsert("docs", "1", new float[] { 1, 0 });
        return server;
    }

    private static OxiVecClient Client(HttpMessageHandler handler, Uri address) =>
        new(new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) },
            new OxiVecClientOptions { MaxRetries = 3, RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(2) });

    [Fact]
    public async Task PrepareListStateCommitAndRollback_RoundTrip()
    {
        await using ServerFixture server = await StartAsync();
        var client = new OxiVecClient(server.Client);
        Guid uuid = Guid.NewGuid();

        TransactionStatus prepared = await client.PrepareTransactionAsync(
            "g-1",
            [
                TransactionWrite.Upsert("docs", new PointStruct(7, new float[] { 0, 1 }, new JsonObject { ["k"] = "v" }), new PointStruct(uuid, new float[] { 1, 1 })),
                TransactionWrite.Delete("docs", 1),
            ],
            "coord-1");

        Assert.Equal((TransactionState.Prepared, "coord-1", 3), (prepared.State, prepared.Coordinator, prepared.OperationCount));
        Assert.True(prepared.PrepareLsn > 0);
        Assert.NotNull(prepared.PreparedAt);
        TransactionStatus listed = Assert.Single(await client.ListPreparedAsync());
        Assert.Equal("g-1", listed.Gid);
        Assert.NotNull(listed.Age);
        Assert.Equal(TransactionState.Prepared, await client.GetTransactionStateAsync("g-1"));
        Assert.Null(server.Host.Database.Get("docs", "7"));

        Assert.Equal(TransactionState.Committed, await client.CommitPreparedAsync("g-1"));
        Assert.Equal(TransactionState.Committed, await client.CommitPreparedAsync("g-1"));
        Assert.NotNull(server.Host.Database.Get("docs", "7"));
        Assert.NotNull(server.Host.Database.Get("docs", uuid.ToString("D")));
        Assert.Null(server.Host.Database.Get("docs", "1"));

        await client.PrepareTransactionAsync("g-2", [TransactionWrite.Insert("docs", new PointStruct(8, new float[] { 1, 2 }))]);
        Assert.Equal(TransactionState.RolledBack, await client.RollbackPreparedAsync("g-2"));
        Assert.Equal(TransactionState.RolledBack, await client.GetTransactionStateAsync("g-2"));
        Assert.Equal(TransactionState.Unknown, await client.GetTransactionStateAsync("g-3"));
        Assert.Null(server.Host.Database.Get("docs", "8"));
        Assert.Empty(await client.ListPreparedAsync());

        OxiVecClientException notPrepared = await Assert.ThrowsAsync<OxiVecClientException>(() => client.CommitPreparedAsync("never"));
        Assert.Equal(HttpStatusCode.NotFound, notPrepared.StatusCode);
        OxiVecClientException reused = await Assert.ThrowsAsync<OxiVecClientException>(() => client.PrepareTransactionAsync("g-1", [TransactionWrite.Delete("docs", 7)]));
        Assert.Equal(HttpStatusCode.Conflict, reused.StatusCode);
        await Assert.ThrowsAsync<ArgumentException>(() => client.GetTransactionStateAsync("a/b"));
    }

    [Fact]
    public async Task CommitAndRollback_WhoseAnswerIsLost_AreRetried_AndAnswerTheOutcomeOfTheFirstAttempt()
    {
        await using ServerFixture server = await StartAsync();
        var plain = new OxiVecClient(server.Client);
        await plain.PrepareTransactionAsync("c", [TransactionWrite.Upsert("docs", new PointStruct(5, new float[] { 1, 1 }))]);
        await plain.PrepareTransactionAsync("r", [TransactionWrite.Upsert("docs", new PointStruct(6, new float[] { 1, 1 }))]);

        var commitHandler = new LoseFirstAnswerHandler(new SocketsHttpHandler());
        Assert.Equal(TransactionState.Committed, await Client(commitHandler, server.Address).CommitPreparedAsync("c"));
        Assert.Equal(2, commitHandler.Attempts); // the first attempt committed; its answer was lost; the retry found it committed

        var rollbackHandler = new LoseFirstAnswerHandler(new SocketsHttpHandler());
        Assert.Equal(TransactionState.RolledBack, await Client(rollbackHandler, server.Address).RollbackPreparedAsync("r"));
        Assert.Equal(2, rollbackHandler.Attempts);
        Assert.NotNull(server.Host.Database.Get("docs", "5"));
        Assert.Null(server.Host.Database.Get("docs", "6"));
    }

    [Fact]
    public async Task Prepare_IsNeverRetried()
    {
        await using ServerFixture server = await StartAsync();
        var faults = new FaultInjectingHandler(new SocketsHttpHandler()) { Faults = 1, Status = HttpStatusCode.ServiceUnavailable };

        await Assert.ThrowsAsync<OxiVecClientException>(() => Client(faults, server.Address).PrepareTransactionAsync("p", [TransactionWrite.Delete("docs", 1)]));

        Assert.Equal(1, faults.Attempts);
        Assert.Equal(OxiVec.Transactions.PreparedTransactionState.Unknown, server.Host.Database.GetTransactionState("p"));
    }

    /// <summary>Forwards every request; the first one's answer is dropped and reported as a connection failure.</summary>
    private sealed class LoseFirstAnswerHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken);
            if (Interlocked.Increment(ref _attempts) == 1)
            {
                response.Dispose();
                throw new HttpRequestException("injected: the connection broke before the answer arrived");
            }

            return response;
        }
    }
}

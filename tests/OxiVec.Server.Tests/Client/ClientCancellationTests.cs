using OxiVec.Client;

namespace OxiVec.Server.Tests.Client;

public sealed class ClientCancellationTests(ClientServer server) : IClassFixture<ClientServer>
{
    /// <summary>Signals when a request reaches it, then waits for the request's cancellation.</summary>
    private sealed class HangingHandler : HttpMessageHandler
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    [Fact]
    public async Task ACallInFlight_IsCancelledByItsToken_AsOperationCanceled_NotRetried()
    {
        var handler = new HangingHandler();
        var client = new OxiVecClient(new HttpClient(handler) { BaseAddress = server.Server.Address }, new OxiVecClientOptions { RetryBaseDelay = TimeSpan.Zero });
        using var cts = new CancellationTokenSource();
        Task<long> call = client.CountAsync("x", cancellationToken: cts.Token);
        await handler.Entered.Task;
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task AnAlreadyCancelledToken_SendsNothing()
    {
        var faults = new FaultInjectingHandler(new SocketsHttpHandler());
        var client = new OxiVecClient(new HttpClient(faults) { BaseAddress = server.Server.Address });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ListCollectionsAsync(new CancellationToken(canceled: true)));
        Assert.Equal(0, faults.Attempts);
    }

    [Fact]
    public async Task CancellingDuringTheBackoff_StopsRetrying()
    {
        var faults = new FaultInjectingHandler(new SocketsHttpHandler()) { Faults = int.MaxValue };
        var client = new OxiVecClient(new HttpClient(faults) { BaseAddress = server.Server.Address },
            new OxiVecClientOptions { MaxRetries = 10, RetryBaseDelay = TimeSpan.FromMinutes(1), RetryMaxDelay = TimeSpan.FromMinutes(1) });
        using var cts = new CancellationTokenSource();
        Task call = client.ListCollectionsAsync(cts.Token);
        while (faults.Attempts == 0 && !call.IsCompleted)
        {
            await Task.Yield();
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(1, faults.Attempts);
    }
}

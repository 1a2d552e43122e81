using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OxiVec.Replication;
using OxiVec.Replication.Grpc;

namespace OxiVec.Benchmarks.Replication;

/// <summary>A primary's gRPC replication endpoint in this process (Kestrel, HTTP/2, 127.0.0.1, a free port): what <c>oxivec serve --grpc</c> maps.</summary>
internal sealed class PrimaryEndpoint : IReplicationRole, IAsyncDisposable
{
    private WebApplication? _app;

    private PrimaryEndpoint(WalReplicator replicator) => Replicator = replicator;

    public WalReplicator? Replicator { get; }

    public PushedStreams? PushedStreams => null;

    public string Description => "the benchmark's primary";

    public Uri Address { get; private set; } = null!;

    public static async Task<PrimaryEndpoint> StartAsync(WalReplicator replicator)
    {
        var endpoint = new PrimaryEndpoint(replicator);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            k.Limits.Http2.InitialStreamWindowSize = 2 << 20;
            k.Limits.Http2.InitialConnectionWindowSize = 4 << 20;
        });
        builder.Services.AddOxiVecReplicationService();
        builder.Services.AddSingleton<IReplicationRole>(endpoint);
        WebApplication app = builder.Build();
        app.MapOxiVecReplication();
        await app.StartAsync().ConfigureAwait(false);
        endpoint._app = app;
        endpoint.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return endpoint;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            using var now = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(now.Token).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}

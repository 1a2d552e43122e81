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

namespace OxiVec.Server.Tests.Replication;

/// <summary>
/// Only the replication gRPC service on 127.0.0.1 (a free port, HTTP/2), with a role the test controls: a standby
/// waiting for pushes (<see cref="Pushed"/>), so the transport is tested without the engine. Records the
/// <c>api-key</c> of every call.
/// </summary>
internal sealed class GrpcTestNode : IAsyncDisposable, IReplicationRole
{
    private readonly WebApplication _app;
    private readonly List<string?> _apiKeys = [];

    private GrpcTestNode(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public PushedStreams Pushed { get; } = new(TimeSpan.FromSeconds(30));

    public WalReplicator? Replicator => null;

    public PushedStreams? PushedStreams => Pushed;

    public string Description => "a test node";

    public IReadOnlyList<string?> ApiKeys
    {
        get
        {
            lock (_apiKeys)
            {
                return [.. _apiKeys];
            }
        }
    }

    public static async Task<GrpcTestNode> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddOxiVecReplicationService();
        GrpcTestNode? node = null;
        builder.Services.AddSingleton<IReplicationRole>(_ => node!);
        WebApplication app = builder.Build();
        app.Use(async (context, next) =>
        {
            lock (node!._apiKeys)
            {
                node._apiKeys.Add(context.Request.Headers.TryGetValue("api-key", out var key) ? key.ToString() : null);
            }

            await next(context);
        });
        app.MapOxiVecReplication();
        await app.StartAsync();
        node = new GrpcTestNode(app, new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()));
        return node;
    }

    /// <summary>Stops the server at once (open calls are aborted).</summary>
    public async Task StopAsync()
    {
        using var now = new CancellationTokenSource(TimeSpan.Zero);
        await _app.StopAsync(now.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}

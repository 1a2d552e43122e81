using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OxiVec.Replication.Grpc;

namespace OxiVec.Hosting.Server;

/// <summary>
/// The two Kestrel endpoints of a server that serves replication: <see cref="ServerOptions.Http"/> (REST, HTTP/1.1 and
/// HTTP/2 as before) and <see cref="ServerOptions.Grpc"/> (HTTP/2 only). A separate endpoint because cleartext Kestrel
/// endpoints that take both versions speak HTTP/1.1 only (no ALPN without TLS), while Grpc.Net.Client over
/// <c>http://</c> sends HTTP/2 with prior knowledge.
/// </summary>
internal sealed class GrpcListener
{
    private ListenOptions? _grpc;

    /// <summary>The gRPC endpoint's address once bound (<c>http://HOST:PORT</c>, the real port when 0 was asked), or null.</summary>
    public string? Address => _grpc switch
    {
        { IPEndPoint: { } ip } => $"http://{(ip.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip.Address}]" : ip.Address.ToString())}:{ip.Port}",
        null => null,
        _ => null,
    };

    /// <summary>Binds both endpoints on <paramref name="builder"/> from <paramref name="bound"/>, with HTTP/2 windows sized for ~1 MiB batches.</summary>
    public static void Configure(IWebHostBuilder builder, IServiceCollection services, ServerOptions bound)
    {
        var listener = new GrpcListener();
        services.AddSingleton(listener);
        services.AddOxiVecReplicationService();
        builder.ConfigureKestrel(kestrel =>
        {
            Listen(kestrel, bound.Http, HttpProtocols.Http1AndHttp2, null);
            Listen(kestrel, bound.Grpc!, HttpProtocols.Http2, options => listener._grpc = options);
            kestrel.Limits.Http2.InitialStreamWindowSize = 2 << 20;
            kestrel.Limits.Http2.InitialConnectionWindowSize = 4 << 20;
            kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(10);
            kestrel.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(10);
        });
    }

    // A setting that is not HOST:PORT is not bound here: the options validation stops the start naming it.
    private static void Listen(KestrelServerOptions kestrel, string address, HttpProtocols protocols, Action<ListenOptions>? keep)
    {
        if (!ServerOptions.TrySplitHttp(address, out string host, out int port))
        {
            return;
        }

        void Configure(ListenOptions options)
        {
            options.Protocols = protocols;
            keep?.Invoke(options);
        }

        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(port, Configure);
        }
        else if (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? ip))
        {
            kestrel.Listen(ip, port, Configure);
        }
        else
        {
            kestrel.ListenAnyIP(port, Configure); // a host name: every interface, as Kestrel does for such URLs
        }
    }
}

/// <summary>Cross-checks the replication settings against the server's endpoints when the server starts.</summary>
internal sealed class ReplicationServerValidator(IOptions<ServerOptions> server) : IValidateOptions<OxiVecOptions>
{
    public ValidateOptionsResult Validate(string? name, OxiVecOptions options)
    {
        var problems = new List<string>();
        Replication.ReplicationHostOptions replication = options.Replication;
        bool grpc = server.Value.Grpc is not null;
        if (replication.WaitForPush && !grpc)
        {
            problems.Add($"{Replication.ReplicationHostOptions.SectionName}:{nameof(replication.WaitForPush)} needs a gRPC endpoint for the primary to dial: set {ServerOptions.SectionName}:{nameof(ServerOptions.Grpc)} (--grpc HOST:PORT).");
        }

        if (!replication.IsStandby && !grpc && replication.Standbys.Length == 0 && !string.IsNullOrWhiteSpace(replication.SynchronousStandbys))
        {
            problems.Add($"{Replication.ReplicationHostOptions.SectionName}:{nameof(replication.SynchronousStandbys)} is set but no standby can reach this primary: set {ServerOptions.SectionName}:{nameof(ServerOptions.Grpc)} (--grpc HOST:PORT) or push to {nameof(replication.Standbys)} (--standby NAME=URL).");
        }

        if (options.Cluster.IsEnabled)
        {
            const string C = Cluster.ClusterOptions.SectionName;
            if (!grpc)
            {
                problems.Add($"{C}: a cluster member needs a gRPC replication endpoint ({ServerOptions.SectionName}:{nameof(ServerOptions.Grpc)}, --grpc HOST:PORT): standbys stream from the primary there.");
            }

            if (options.Cluster.AdvertiseHttp is null && IsWildcard(server.Value.Http))
            {
                problems.Add($"{C}:{nameof(Cluster.ClusterOptions.AdvertiseHttp)} is required when {ServerOptions.SectionName}:{nameof(ServerOptions.Http)} ({server.Value.Http}) listens on every interface: other members and clients need an address (--advertise-http URL).");
            }

            if (options.Cluster.AdvertiseGrpc is null && grpc && IsWildcard(server.Value.Grpc!))
            {
                problems.Add($"{C}:{nameof(Cluster.ClusterOptions.AdvertiseGrpc)} is required when {ServerOptions.SectionName}:{nameof(ServerOptions.Grpc)} ({server.Value.Grpc}) listens on every interface: standbys need an address (--advertise-grpc URL).");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    private static bool IsWildcard(string address) =>
        ServerOptions.TrySplitHttp(address, out string host, out _)
        && (host is "0.0.0.0" or "[::]" or "*" or "+" || (!host.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(host.Trim('[', ']'), out _)));
}

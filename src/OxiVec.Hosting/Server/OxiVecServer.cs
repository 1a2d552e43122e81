using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OxiVec.Hosting.Cluster;
using OxiVec.Hosting.Qdrant;
using OxiVec.Replication.Grpc;

namespace OxiVec.Hosting.Server;

/// <summary>Builds the server <c>oxivec serve</c> runs: Kestrel over one hosted <see cref="Storage.VectorDatabase"/>.</summary>
public static class OxiVecServer
{
    /// <summary>The configuration key of the API key's environment variable, <c>OXIVEC_API_KEY</c> (used when <c>OxiVec:Server:ApiKey</c> is not set).</summary>
    public const string ApiKeyVariable = "OXIVEC_API_KEY";

    /// <summary>
    /// Builds the server. Configuration comes from <paramref name="args"/>, the environment, an optional JSON file and
    /// <paramref name="overrides"/> (highest precedence), under the <c>OxiVec</c> and <c>OxiVec:Server</c> sections.
    /// Both sections are validated when the server starts: a bad setting stops the start with an
    /// <see cref="OptionsValidationException"/> naming it.
    /// </summary>
    /// <param name="args">Command-line style configuration.</param>
    /// <param name="configFile">A JSON configuration file, or null.</param>
    /// <param name="overrides">Settings of the highest precedence, or null.</param>
    /// <param name="configureServices">Registers or replaces services after the server's own (tests: an in-memory coordinator), or null.</param>
    public static WebApplication Build(
        string[]? args = null, string? configFile = null, IReadOnlyDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configureServices = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args ?? []);
        Observability.AddLoggingDefaults(builder.Configuration);
        if (configFile is not null)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        }

        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        ConfigurationManager configuration = builder.Configuration;
        builder.Services.AddOptions<ServerOptions>()
            .Bind(configuration.GetSection(ServerOptions.SectionName))
            .PostConfigure(options => options.ApiKey ??= NullIfEmpty(configuration[ApiKeyVariable]))
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServerOptions>, ServerOptionsValidator>());
        builder.Services.AddOxiVec(configuration);
        var bound = new ServerOptions();
        configuration.GetSection(ServerOptions.SectionName).Bind(bound);
        builder.Services.AddOptions<OxiVecOptions>().PostConfigure<IOptions<ServerOptions>>((options, server) =>
        {
            // A server with a gRPC endpoint serves standbys that dial it; its peers know it by its read-write key.
            options.Replication.AcceptStandbys |= server.Value.Grpc is not null;
            options.Replication.ApiKey ??= server.Value.ApiKey;
        });
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OxiVecOptions>, ReplicationServerValidator>());
        builder.Services.AddSingleton<IReplicationRole>(sp => sp.GetRequiredService<OxiVecDatabaseHost>());
        var cluster = new Cluster.ClusterOptions();
        configuration.GetSection(Cluster.ClusterOptions.SectionName).Bind(cluster);
        if (cluster.IsEnabled)
        {
            // After the database host: hosted services stop in reverse order, so the member resigns before the database closes.
            builder.Services.TryAddSingleton(TimeProvider.System);
            builder.Services.TryAddSingleton<Cluster.ICoordinatorFactory, Cluster.EtcdCoordinatorFactory>();
            builder.Services.AddSingleton<Cluster.ClusterNode>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<Cluster.ClusterNode>());
        }

        configureServices?.Invoke(builder.Services);
        builder.Services.AddOxiVecRequestLimits(bound);
        // A keep-alive connection waits for its next request with a receive buffer already posted, rather than with a
        // zero-byte read that must then be followed by the real one: one receive system call less per request (counted:
        // 4.1 -> 3.1 recvfrom per search at 8 clients), for one 4 KiB pool block held by each idle connection.
        builder.Services.Configure<SocketTransportOptions>(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);
        // No `Server: Kestrel` header: it names the web server to every client (and every scanner) and costs each
        // answer 16 bytes that each client parses.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel => kestrel.AddServerHeader = false);
        // Connections receive into 16 KiB blocks, not 4 KiB: a search's ~4.8 KB request arrives in one receive call
        // and one pass through the connection's pipe instead of two (ReceiveBlockPool).
        builder.Services.AddSingleton<ReceiveBlockPoolFactory>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IMemoryPoolFactory<byte>>(sp => sp.GetRequiredService<ReceiveBlockPoolFactory>()));
        builder.Services.AddOxiVecMetrics();
        builder.Services.AddConsoleFormatterChoice(configuration);
        builder.Services.Configure<JsonOptions>(json => json.SerializerOptions.PropertyNamingPolicy = QdrantResponse.Json.PropertyNamingPolicy);
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true); // bad bodies reach ErrorHandling

        if (bound.Grpc is null)
        {
            builder.WebHost.UseUrls($"http://{bound.Http}");
        }
        else
        {
            GrpcListener.Configure(builder.WebHost, builder.Services, bound);
        }

        WebApplication app = builder.Build();
        app.UseRequestIdHeader();
        app.UseQdrantErrors();
        app.UseMiddleware<ApiKeyMiddleware>();
        if (bound.RateLimitPerSecond != 0)
        {
            app.UseRateLimiter(); // without a limit it would only hand every request a no-op lease
        }

        app.UseRequestTimeouts();
        if (cluster.IsEnabled)
        {
            app.UseOxiVecClusterRouting(); // without a cluster member it would only look one up for every request
        }

        app.UseOxiVecReplication();
        app.MapOxiVecProbes();
        app.MapPrometheusScrapingEndpoint(Observability.MetricsPath);
        app.MapOxiVecEndpoints();
        app.MapTransactionEndpoints();
        app.MapQdrantApi();
        app.MapOxiVecReplicationStatus();
        app.MapOxiVecCluster();
        if (bound.Grpc is not null)
        {
            // Streams last as long as a standby follows: no request timeout, no rate limit (calls are few; the API key still applies).
            app.MapOxiVecReplication().DisableRequestTimeout().DisableRateLimiting();
        }

        return app;
    }

    /// <summary>The addresses the started server's REST API listens on (not its gRPC endpoint: <see cref="GrpcAddress"/>).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        string? grpc = GrpcAddress(app);
        return [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Where(a => grpc is null || !SamePort(a, grpc))];
    }

    /// <summary>The started server's gRPC replication endpoint (<c>http://HOST:PORT</c>), or null when it has none.</summary>
    public static string? GrpcAddress(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetService<GrpcListener>()?.Address;
    }

    private static bool SamePort(string address, string other) =>
        Uri.TryCreate(address, UriKind.Absolute, out Uri? a) && Uri.TryCreate(other, UriKind.Absolute, out Uri? b) && a.Port == b.Port;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

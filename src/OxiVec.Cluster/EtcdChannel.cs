using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace OxiVec.Cluster;

/// <summary>
/// The gRPC channel to etcd: one channel over all endpoints, round robin over the members that are reachable, and a
/// short retry of <c>Unavailable</c> answers (a dead member, or one without a raft leader) on another member, all
/// within the call's deadline.
/// </summary>
internal static class EtcdChannel
{
    public static GrpcChannel Create(EtcdCoordinatorOptions options)
    {
        var addresses = options.Endpoints.Select(uri => new BalancerAddress(uri.Host, uri.Port)).ToArray();
        var services = new ServiceCollection();
        services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => addresses));
        var retry = new MethodConfig
        {
            Names = { MethodName.Default },
            RetryPolicy = new RetryPolicy
            {
                MaxAttempts = 4,
                InitialBackoff = TimeSpan.FromMilliseconds(50),
                MaxBackoff = TimeSpan.FromMilliseconds(400),
                BackoffMultiplier = 2,
                RetryableStatusCodes = { StatusCode.Unavailable },
            },
        };
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.CallTimeout,
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(Math.Max(1, options.CallTimeout.TotalSeconds)), // the handler refuses less than 1 s
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true,
        };
        return GrpcChannel.ForAddress("static://etcd", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Insecure,
            HttpHandler = handler,
            DisposeHttpClient = true,
            ServiceProvider = services.BuildServiceProvider(),
            ServiceConfig = new ServiceConfig { MethodConfigs = { retry }, LoadBalancingConfigs = { new RoundRobinConfig() } },
        });
    }
}

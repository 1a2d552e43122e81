using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace OxiVec.Replication.Grpc;

/// <summary>Registers and maps the replication service in an ASP.NET Core host.</summary>
public static class ReplicationEndpoints
{
    /// <summary>
    /// Adds gRPC with the replication service's message limits (<see cref="GrpcReplicationOptions.DefaultMaxMessageBytes"/>).
    /// The host must register an <see cref="IReplicationRole"/>.
    /// </summary>
    public static IServiceCollection AddOxiVecReplicationService(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = GrpcReplicationOptions.DefaultMaxMessageBytes;
            grpc.MaxSendMessageSize = GrpcReplicationOptions.DefaultMaxMessageBytes;
        });
        return services;
    }

    /// <summary>Maps the replication service (<c>/oxivec.replication.v1.WalReplication/*</c>); its calls last as long as a stream does.</summary>
    public static GrpcServiceEndpointConventionBuilder MapOxiVecReplication(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGrpcService<WalReplicationService>();
    }
}

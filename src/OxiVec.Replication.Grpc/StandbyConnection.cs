using Grpc.Net.Client;

namespace OxiVec.Replication.Grpc;

/// <summary>A primary's gRPC connection to a standby in push mode (<see cref="GrpcReplication.ConnectToStandby"/>). Dispose it after the replicator.</summary>
public sealed class StandbyConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    internal StandbyConnection(GrpcChannel channel, ReplicationConnector<PrimaryMessage, StandbyMessage> connect)
    {
        _channel = channel;
        Connect = connect;
    }

    /// <summary>Opens a <c>Receive</c> stream to the standby (one per attempt).</summary>
    public ReplicationConnector<PrimaryMessage, StandbyMessage> Connect { get; }

    /// <summary>Closes the HTTP/2 connections.</summary>
    public void Dispose() => _channel.Dispose();
}

using Grpc.Net.Client;

namespace OxiVec.Replication.Grpc;

/// <summary>A standby's gRPC connection to its primary (<see cref="GrpcReplication.ConnectToPrimary"/>). Dispose it after the receiver.</summary>
public sealed class PrimaryConnection : IDisposable
{
    private readonly GrpcChannel _channel;

    internal PrimaryConnection(GrpcChannel channel, ReplicationConnector<StandbyMessage, PrimaryMessage> connect, IBaseBackupSource baseBackup)
    {
        _channel = channel;
        Connect = connect;
        BaseBackup = baseBackup;
    }

    /// <summary>Opens a <c>Follow</c> stream to the primary (one per attempt).</summary>
    public ReplicationConnector<StandbyMessage, PrimaryMessage> Connect { get; }

    /// <summary>Fetches base backups from the primary.</summary>
    public IBaseBackupSource BaseBackup { get; }

    /// <summary>Closes the HTTP/2 connections.</summary>
    public void Dispose() => _channel.Dispose();
}

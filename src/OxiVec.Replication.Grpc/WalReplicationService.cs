using Grpc.Core;
using Wire = OxiVec.Replication.Grpc.Protocol;

namespace OxiVec.Replication.Grpc;

/// <summary>
/// The gRPC service a node serves: <c>Follow</c> and <c>BaseBackup</c> on a primary (its <see cref="WalReplicator"/>),
/// <c>Receive</c> on a standby waiting for pushes (<see cref="PushedStreams"/>). A call the node's role cannot serve
/// fails with <see cref="StatusCode.FailedPrecondition"/> naming what the node is.
/// </summary>
internal sealed class WalReplicationService(IReplicationRole role) : Wire.WalReplication.WalReplicationBase
{
    public override async Task Follow(IAsyncStreamReader<Wire.StandbyFrame> requestStream, IServerStreamWriter<Wire.PrimaryFrame> responseStream, ServerCallContext context)
    {
        WalReplicator replicator = role.Replicator ?? throw NotHere("serve standbys (Follow)");
        var channel = new GrpcStreamChannel<PrimaryMessage, StandbyMessage, Wire.PrimaryFrame, Wire.StandbyFrame>(
            responseStream, requestStream, WireMapping.ToWire, WireMapping.FromWire, () => ValueTask.CompletedTask, $"the standby at {context.Peer}");
        await using (channel.ConfigureAwait(false))
        {
            try
            {
                await replicator.ServeStandbyAsync(channel, context.CancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                throw Stopping();
            }
        }
    }

    public override async Task Receive(IAsyncStreamReader<Wire.PrimaryFrame> requestStream, IServerStreamWriter<Wire.StandbyFrame> responseStream, ServerCallContext context)
    {
        PushedStreams pushed = role.PushedStreams ?? throw NotHere("take pushed WAL (Receive)");
        var channel = new GrpcStreamChannel<StandbyMessage, PrimaryMessage, Wire.StandbyFrame, Wire.PrimaryFrame>(
            responseStream, requestStream, WireMapping.ToWire, WireMapping.FromWire, () => ValueTask.CompletedTask, $"the primary at {context.Peer}");
        await using (channel.ConfigureAwait(false))
        {
            try
            {
                await pushed.ServeAsync(channel, context.CancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
            }
        }
    }

    public override async Task BaseBackup(Wire.BaseBackupRequest request, IServerStreamWriter<Wire.BaseBackupFrame> responseStream, ServerCallContext context)
    {
        WalReplicator replicator = role.Replicator ?? throw NotHere("serve base backups");
        try
        {
            await replicator.ServeBaseBackupAsync(
                (manifest, ct) => new ValueTask(responseStream.WriteAsync(WireMapping.ToWire(manifest), ct)),
                (chunk, ct) => new ValueTask(responseStream.WriteAsync(WireMapping.ToWire(chunk), ct)),
                context.CancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            throw Stopping();
        }
    }

    // The replicator was disposed under the call: the primary is stopping; the standby retries (another primary, or this one restarted).
    private static RpcException Stopping() => new(new Status(StatusCode.Unavailable, "The primary is stopping."));

    private RpcException NotHere(string what) =>
        new(new Status(StatusCode.FailedPrecondition, $"This node cannot {what}: it is {role.Description}."));
}

using Grpc.Core;
using Grpc.Net.Client;
using Wire = OxiVec.Replication.Grpc.Protocol;

namespace OxiVec.Replication.Grpc;

/// <summary>
/// Dials replication peers over gRPC (HTTP/2; <c>http://</c> speaks cleartext HTTP/2 with prior knowledge, so the
/// peer's endpoint must serve HTTP/2 only, as <c>oxivec serve --grpc</c> does).
/// </summary>
public static class GrpcReplication
{
    /// <summary>
    /// A standby's connection to its primary: <see cref="PrimaryConnection.Connect"/> opens a <c>Follow</c> stream per
    /// attempt and <see cref="PrimaryConnection.BaseBackup"/> fetches base backups; give both to a <see cref="StandbyReceiver"/>.
    /// </summary>
    /// <param name="primary">The primary's gRPC address, e.g. <c>http://10.0.0.5:6334</c>.</param>
    /// <param name="options">API key, message size, timeouts (defaults when null).</param>
    public static PrimaryConnection ConnectToPrimary(Uri primary, GrpcReplicationOptions? options = null)
    {
        (GrpcChannel channel, GrpcReplicationOptions effective) = Open(primary, options);
        var client = new Wire.WalReplication.WalReplicationClient(channel);
        string peer = $"the primary at {primary}";
        return new PrimaryConnection(
            channel,
            cancellationToken =>
            {
                AsyncDuplexStreamingCall<Wire.StandbyFrame, Wire.PrimaryFrame> call = client.Follow(Headers(effective), cancellationToken: cancellationToken);
                return ValueTask.FromResult<IReplicationChannel<StandbyMessage, PrimaryMessage>>(
                    ClientChannel<StandbyMessage, PrimaryMessage, Wire.StandbyFrame, Wire.PrimaryFrame>(call, WireMapping.ToWire, WireMapping.FromWire, peer));
            },
            new GrpcBaseBackupSource(client, Headers(effective), peer));
    }

    /// <summary>
    /// A primary's connection to a standby that waits for pushes (the guide's add_standby): the connector opens a
    /// <c>Receive</c> stream per attempt; give it to <see cref="WalReplicator.AddStandby"/>.
    /// </summary>
    /// <param name="standby">The standby's gRPC address.</param>
    /// <param name="options">API key, message size, timeouts (defaults when null).</param>
    public static StandbyConnection ConnectToStandby(Uri standby, GrpcReplicationOptions? options = null)
    {
        (GrpcChannel channel, GrpcReplicationOptions effective) = Open(standby, options);
        var client = new Wire.WalReplication.WalReplicationClient(channel);
        string peer = $"the standby at {standby}";
        return new StandbyConnection(channel, cancellationToken =>
        {
            AsyncDuplexStreamingCall<Wire.PrimaryFrame, Wire.StandbyFrame> call = client.Receive(Headers(effective), cancellationToken: cancellationToken);
            return ValueTask.FromResult<IReplicationChannel<PrimaryMessage, StandbyMessage>>(
                ClientChannel<PrimaryMessage, StandbyMessage, Wire.PrimaryFrame, Wire.StandbyFrame>(call, WireMapping.ToWire, WireMapping.FromWire, peer));
        });
    }

    /// <summary>The HTTP/2 receive window of each stream the client reads (see <see cref="Open"/>).</summary>
    internal const int StreamWindowBytes = 4 << 20;

    private static (GrpcChannel Channel, GrpcReplicationOptions Options) Open(Uri address, GrpcReplicationOptions? options)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"A replication peer's address must be an absolute http:// or https:// URL; it is '{address}'.", nameof(address));
        }

        options ??= new GrpcReplicationOptions();
        options.Validate();
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingDelay,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            EnableMultipleHttp2Connections = true,
            // The receive window of each stream this client reads (a standby's WAL batches, in pull mode). HttpClient
            // acknowledges received data (a WINDOW_UPDATE frame) once an eighth of the window was read: with the
            // default 64 KB that was one extra frame per batch of a few dozen commits, and so per synchronous commit
            // round a socket write here, a socket wake-up and two pipe hops in the primary's Kestrel on the commits'
            // path. 4 MB acknowledges every 512 KB; what it lets the primary send ahead is bounded by MaxBatchBytes-sized
            // batches the standby reads in order, as with the server's own 2 MB window in the other direction.
            InitialHttp2StreamWindowSize = StreamWindowBytes,
        };
        var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = options.MaxMessageBytes,
            MaxSendMessageSize = options.MaxMessageBytes,
        });
        return (channel, options);
    }

    private static Metadata Headers(GrpcReplicationOptions options) =>
        options.ApiKey is { } key ? new Metadata { { GrpcReplicationOptions.ApiKeyHeader, key } } : [];

    private static GrpcStreamChannel<TSend, TReceive, TSendWire, TReceiveWire> ClientChannel<TSend, TReceive, TSendWire, TReceiveWire>(
        AsyncDuplexStreamingCall<TSendWire, TReceiveWire> call, Func<TSend, TSendWire> toWire, Func<TReceiveWire, TReceive> fromWire, string peer)
        where TSend : class
        where TReceive : class =>
        new(call.RequestStream, call.ResponseStream, toWire, fromWire, async () =>
        {
            try
            {
                await call.RequestStream.CompleteAsync().ConfigureAwait(false); // a clean end of our half, when the call still stands
            }
            catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException or OperationCanceledException)
            {
                // The call already broke or ended: disposing it below releases it.
            }
            finally
            {
                call.Dispose();
            }
        }, peer);
}

using System.Runtime.CompilerServices;
using Grpc.Core;
using Wire = OxiVec.Replication.Grpc.Protocol;

namespace OxiVec.Replication.Grpc;

/// <summary>Fetches a base backup with the <c>BaseBackup</c> call: the first frame must be the manifest, every later one a chunk.</summary>
internal sealed class GrpcBaseBackupSource(Wire.WalReplication.WalReplicationClient client, Metadata headers, string peer) : IBaseBackupSource
{
    /// <inheritdoc />
    public async ValueTask<(BaseBackupManifest Manifest, IAsyncEnumerable<BaseBackupChunk> Chunks)> StartAsync(CancellationToken cancellationToken)
    {
        AsyncServerStreamingCall<Wire.BaseBackupFrame> call = client.BaseBackup(new Wire.BaseBackupRequest(), headers, cancellationToken: cancellationToken);
        try
        {
            if (!await Next(call, cancellationToken).ConfigureAwait(false))
            {
                throw new IOException($"The base backup from {peer} ended before its manifest.");
            }

            if (call.ResponseStream.Current.KindCase != Wire.BaseBackupFrame.KindOneofCase.Manifest)
            {
                throw new IOException($"The base backup from {peer} did not start with its manifest (it sent a {call.ResponseStream.Current.KindCase}).");
            }

            return (WireMapping.FromWire(call.ResponseStream.Current.Manifest), Chunks(call, cancellationToken));
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    private async IAsyncEnumerable<BaseBackupChunk> Chunks(AsyncServerStreamingCall<Wire.BaseBackupFrame> call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (call)
        {
            while (await Next(call, cancellationToken).ConfigureAwait(false))
            {
                Wire.BaseBackupFrame frame = call.ResponseStream.Current;
                if (frame.KindCase != Wire.BaseBackupFrame.KindOneofCase.Chunk)
                {
                    throw new IOException($"The base backup from {peer} sent a second {frame.KindCase} among its chunks.");
                }

                yield return WireMapping.FromWire(frame.Chunk);
            }
        }
    }

    private async Task<bool> Next(AsyncServerStreamingCall<Wire.BaseBackupFrame> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"The base backup from {peer} failed: {ex.StatusCode}: {ex.Status.Detail}", ex);
        }
    }
}

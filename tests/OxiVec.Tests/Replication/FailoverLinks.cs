using System.Runtime.CompilerServices;
using System.Threading.Channels;
using OxiVec.Replication;
using OxiVec.Storage;

namespace OxiVec.Tests.Replication;

/// <summary>Connects standbys to any replicator over in-memory links (pull mode), for tests that change which node is the primary.</summary>
internal sealed class FailoverLinks(CancellationToken stop)
{
    /// <summary>Starts a standby in <paramref name="directory"/> pulling from whatever <paramref name="primary"/> returns at each connection.</summary>
    public async Task<StandbyReceiver> StartStandbyAsync(string directory, string name, Func<WalReplicator> primary, VectorDatabaseOptions? options = null, Action<StandbyReceiver>? beforeStart = null)
    {
        var receiver = new StandbyReceiver(directory, options ?? ReplicationHarness.Options(), name, Connector(primary), new BackupSource(primary))
        {
            MinReconnectDelay = TimeSpan.Zero,
            MaxReconnectDelay = TimeSpan.FromMilliseconds(50),
        };
        beforeStart?.Invoke(receiver);
        await receiver.StartAsync(stop).WaitAsync(ReplicationHarness.Timeout);
        return receiver;
    }

    /// <summary>Waits until <paramref name="standby"/> has applied <paramref name="lsn"/>.</summary>
    public static async Task CaughtUpAsync(StandbyReceiver standby, long lsn)
    {
        if (!await standby.WaitForAppliedAsync(lsn, ReplicationHarness.Timeout, CancellationToken.None))
        {
            throw new TimeoutException($"the standby did not apply LSN {lsn} (it is at {standby.Database.AppliedLsn}; {standby.Status})");
        }
    }

    private ReplicationConnector<StandbyMessage, PrimaryMessage> Connector(Func<WalReplicator> primary) => cancellationToken =>
    {
        var link = new InMemoryLink(new LinkFaults());
        WalReplicator replicator = primary();
        _ = Task.Run(async () =>
        {
            try
            {
                await replicator.ServeStandbyAsync(link.Primary, stop);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidDataException)
            {
                // The test ended or switched primaries.
            }
            finally
            {
                await link.Primary.DisposeAsync();
            }
        }, CancellationToken.None);
        return ValueTask.FromResult(link.Standby);
    };

    private sealed class BackupSource(Func<WalReplicator> primary) : IBaseBackupSource
    {
        public async ValueTask<(BaseBackupManifest Manifest, IAsyncEnumerable<BaseBackupChunk> Chunks)> StartAsync(CancellationToken cancellationToken)
        {
            var manifest = new TaskCompletionSource<BaseBackupManifest>(TaskCreationOptions.RunContinuationsAsynchronously);
            Channel<BaseBackupChunk> chunks = Channel.CreateBounded<BaseBackupChunk>(2);
            WalReplicator replicator = primary();
            _ = Task.Run(async () =>
            {
                try
                {
                    await replicator.ServeBaseBackupAsync(
                        (m, _) => { manifest.TrySetResult(m); return ValueTask.CompletedTask; },
                        (c, ct) => chunks.Writer.WriteAsync(c, ct),
                        cancellationToken);
                    chunks.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    manifest.TrySetException(ex);
                    chunks.Writer.TryComplete(ex);
                }
            }, CancellationToken.None);
            return (await manifest.Task.WaitAsync(cancellationToken), Read(chunks.Reader, cancellationToken));
        }

        private static async IAsyncEnumerable<BaseBackupChunk> Read(ChannelReader<BaseBackupChunk> reader, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await foreach (BaseBackupChunk chunk in reader.ReadAllAsync(cancellationToken))
            {
                yield return chunk;
            }
        }
    }
}

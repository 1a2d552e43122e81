using System.Runtime.CompilerServices;
using System.Threading.Channels;
using OxiVec.Replication;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Replication;

/// <summary>A primary with a replicator, and standbys that pull from it over in-memory links (pull mode, as the server does).</summary>
internal sealed class ReplicationHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _temp = new();
    private readonly List<StandbyReceiver> _receivers = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly ReplicationOptions _replicationOptions;
    private readonly long _epoch;

    /// <param name="options">The replicator's options.</param>
    /// <param name="primaryOptions">The primary's options (<see cref="Options"/> by default).</param>
    /// <param name="epoch">The primary's epoch.</param>
    /// <param name="primaryWal">Where the primary keeps its WAL (a simulated disk that fails fsyncs, say); its data directory by default.</param>
    public ReplicationHarness(ReplicationOptions? options = null, VectorDatabaseOptions? primaryOptions = null, long epoch = 1, IWalStorage? primaryWal = null)
    {
        PrimaryOptions = primaryOptions ?? Options();
        _replicationOptions = options ?? new ReplicationOptions();
        _epoch = epoch;
        Primary = VectorDatabase.Open(_temp.Sub("primary"), PrimaryOptions, primaryWal);
        Replicator = new WalReplicator(Primary, _replicationOptions, epoch);
    }

    public VectorDatabaseOptions PrimaryOptions { get; }

    /// <summary>The primary's data directory.</summary>
    public string PrimaryDirectory => _temp.Sub("primary");

    /// <summary>
    /// Restarts the primary: stops its replicator, closes it, runs <paramref name="whileClosed"/> on its data directory
    /// (a test simulating what a crash lost), reopens it with a new replicator (same options and epoch). Standbys that
    /// reconnect from then on reach the new one.
    /// </summary>
    public async Task RestartPrimaryAsync(Action<string> whileClosed)
    {
        await Replicator.DisposeAsync().AsTask().WaitAsync(Timeout);
        Primary.Dispose();
        whileClosed(PrimaryDirectory);
        Primary = VectorDatabase.Open(PrimaryDirectory, PrimaryOptions);
        Replicator = new WalReplicator(Primary, _replicationOptions, _epoch);
    }

    public VectorDatabase Primary { get; private set; }

    public WalReplicator Replicator { get; private set; }

    public string StandbyDirectory(string name) => _temp.Sub("standby-" + name);

    public static VectorDatabaseOptions Options(int syncIntervalMs = 0, long segmentBytes = 256 << 10) => new()
    {
        Wal = WalConfig.MaximumDurability with { SyncIntervalMs = syncIntervalMs, SegmentSizeBytes = segmentBytes, MaxWalSize = 64 << 20, EnableReplication = true, CheckpointInterval = 1_000_000 },
    };

    /// <summary>
    /// Starts a standby that pulls from the primary; each stream it opens gets a new link with <paramref name="faults"/>
    /// and <paramref name="linkCapacity"/> (messages in flight to the standby); <paramref name="created"/> sees it before it starts;
    /// <paramref name="wrap"/> wraps the standby's end of each stream (a test holding its receives back); with
    /// <paramref name="copyOnSend"/> the primary's end copies each batch as it sends it and says so (as gRPC).
    /// </summary>
    public async Task<StandbyReceiver> StartStandbyAsync(
        string name, LinkFaults? faults = null, VectorDatabaseOptions? options = null, Action<InMemoryLink>? opened = null, Action<StandbyReceiver>? created = null,
        int linkCapacity = 4, Func<IReplicationChannel<StandbyMessage, PrimaryMessage>, IReplicationChannel<StandbyMessage, PrimaryMessage>>? wrap = null,
        bool copyOnSend = false)
    {
        faults ??= new LinkFaults();
        var receiver = new StandbyReceiver(StandbyDirectory(name), options ?? Options(), name, Connect, new BaseBackupSource(this))
        {
            MinReconnectDelay = TimeSpan.Zero,
            MaxReconnectDelay = TimeSpan.Zero,
        };
        _receivers.Add(receiver);
        created?.Invoke(receiver); // before it starts: a test subscribes to its events here
        await receiver.StartAsync(_stop.Token).WaitAsync(Timeout);
        return receiver;

        ValueTask<IReplicationChannel<StandbyMessage, PrimaryMessage>> Connect(CancellationToken cancellationToken)
        {
            var link = new InMemoryLink(faults, linkCapacity, copyOnSend);
            opened?.Invoke(link);
            _ = Task.Run(async () =>
            {
                try
                {
                    await Replicator.ServeStandbyAsync(link.Primary, _stop.Token);
                }
                catch (Exception ex) when (ex is ObjectDisposedException or InvalidDataException)
                {
                    // The test ended, or a test made the standby break the protocol.
                }
                finally
                {
                    await link.Primary.DisposeAsync();
                }
            }, CancellationToken.None);
            return ValueTask.FromResult(wrap is null ? link.Standby : wrap(link.Standby));
        }
    }

    /// <summary>Stops a standby's receiver (its database closes); its directory stays for a restart.</summary>
    public async Task StopStandbyAsync(StandbyReceiver receiver)
    {
        _receivers.Remove(receiver);
        await receiver.DisposeAsync().AsTask().WaitAsync(Timeout);
    }

    /// <summary>Waits until the standby has applied the primary's last LSN.</summary>
    public async Task CaughtUpAsync(StandbyReceiver standby)
    {
        long target = Primary.Wal.LastLsn;
        while (!await standby.WaitForAppliedAsync(target, Timeout, CancellationToken.None))
        {
            throw new TimeoutException($"the standby did not apply LSN {target} in {Timeout} (it is at {standby.Database.AppliedLsn}; {standby.Status})");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (StandbyReceiver receiver in _receivers)
        {
            await receiver.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        await Replicator.DisposeAsync().AsTask().WaitAsync(Timeout);
        Primary.Dispose();
        _stop.Dispose();
        _temp.Dispose();
    }

    /// <summary>Record identity (LSN, timestamp, type, flags, payload) of a WAL from <paramref name="from"/> on.</summary>
    public static List<(long, DateTimeOffset, WalRecordType, WalRecordFlags, string)> Stream(VectorDatabase db, long from, long to) =>
        [.. db.Wal.ReadRecords(from).TakeWhile(r => r.Lsn <= to).Select(r => (r.Lsn, r.Timestamp, r.Type, r.Flags, Convert.ToHexString(r.Payload.Span)))];

    /// <summary>Every collection's export, as comparable text.</summary>
    public static List<string> Export(VectorDatabase db) =>
        [.. db.ListCollections().SelectMany(c => db.Export(c.Name).Select(r =>
            $"{c.Name}/{r.Id}:{string.Join(',', r.Vector.ToArray())}:{string.Join(';', r.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value}"))}"))];

    private sealed class BaseBackupSource(ReplicationHarness harness) : IBaseBackupSource
    {
        public async ValueTask<(BaseBackupManifest Manifest, IAsyncEnumerable<BaseBackupChunk> Chunks)> StartAsync(CancellationToken cancellationToken)
        {
            var manifest = new TaskCompletionSource<BaseBackupManifest>(TaskCreationOptions.RunContinuationsAsynchronously);
            Channel<BaseBackupChunk> chunks = Channel.CreateBounded<BaseBackupChunk>(2);
            _ = Task.Run(async () =>
            {
                try
                {
                    await harness.Replicator.ServeBaseBackupAsync(
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

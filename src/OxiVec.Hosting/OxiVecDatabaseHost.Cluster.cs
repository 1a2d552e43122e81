using Microsoft.Extensions.Logging;
using OxiVec.Replication;
using OxiVec.Replication.Grpc;
using OxiVec.Storage;

namespace OxiVec.Hosting;

/// <summary>
/// Role switches of a cluster member (<see cref="Cluster.ClusterNode"/> drives them): the host starts with no role
/// (<see cref="DatabaseState.SwitchingRole"/>) and becomes a primary or a standby, and back, at run time. Each switch
/// first publishes <see cref="DatabaseState.SwitchingRole"/> (requests answer 503 from then on), closes the old role,
/// then publishes the new one as one snapshot.
/// </summary>
public sealed partial class OxiVecDatabaseHost
{
    private readonly SemaphoreSlim _roleSwitch = new(1, 1);

    /// <summary>The role this host serves now.</summary>
    public NodeRole Role
    {
        get
        {
            Snapshot s = Volatile.Read(ref _snapshot);
            return s.State != DatabaseState.Ready ? NodeRole.None : s.Standby is not null ? NodeRole.Standby : NodeRole.Primary;
        }
    }

    private string ClusterDescription => Role switch
    {
        NodeRole.Primary => $"the cluster's primary ('{_options.Cluster.NodeId}')",
        NodeRole.Standby => $"a standby ('{_options.Cluster.NodeId}') of the cluster's primary",
        _ => $"a cluster member ('{_options.Cluster.NodeId}') between roles",
    };

    /// <summary>
    /// Becomes a primary at <paramref name="epoch"/>: closes the current role, turns the directory into a primary's
    /// (<see cref="StandbyPromotion.Promote"/> for a standby's; a primary's is raised to the epoch by its replicator,
    /// which records it in its epoch history; an empty one is created), opens the database with
    /// <paramref name="fence"/> as its write fence and a <see cref="WalReplicator"/> with <paramref name="replication"/>.
    /// </summary>
    internal async Task BecomePrimaryAsync(long epoch, ReplicationOptions replication, IWriteFence fence, CancellationToken cancellationToken)
    {
        await _roleSwitch.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CloseRoleLockedAsync().ConfigureAwait(false);
            string data = _options.DataDirectory;
            ILogger promotion = _loggers.CreateLogger(typeof(StandbyPromotion).FullName!);
            if (Cluster.LocalData.Of(data) == Cluster.DataDirectoryKind.Standby)
            {
                StandbyPromotion.Promote(data, epoch, promotion);
            }

            // A primary's directory (this node led before) is opened as it is: the replicator raises its epoch and its
            // epoch history records where the new one begins.

            VectorDatabase database = VectorDatabase.Open(data, _options.ToDatabaseOptions(_loggers, _meters));
            database.WriteFence = fence; // before anything can reach it: the snapshot is published below
            WalReplicator replicator;
            try
            {
                replicator = new WalReplicator(database, replication, epoch, _loggers);
            }
            catch
            {
                await database.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            await PublishRoleLockedAsync(new Snapshot(DatabaseState.Ready, database, null, Replicator: replicator)).ConfigureAwait(false);
            _logger.LogWarning("This node is now the cluster's primary at epoch {Epoch} ({Policy})", replicator.Epoch, replication.SynchronousStandbys ?? "asynchronous");
        }
        finally
        {
            _roleSwitch.Release();
        }
    }

    /// <summary>
    /// On a primary: replaces its replicator with one of <paramref name="replication"/> (a new synchronous set). The
    /// caller holds the write fence closed meanwhile: a commit logged while no gate is attached is not acknowledged.
    /// </summary>
    internal async Task ReplaceReplicatorAsync(ReplicationOptions replication, long epoch, CancellationToken cancellationToken)
    {
        await _roleSwitch.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Snapshot s = Volatile.Read(ref _snapshot);
            if (s.State != DatabaseState.Ready || s.Replicator is not { } old || s.Database is not { } database)
            {
                throw new InvalidOperationException("This node is not a primary: it has no replicator to replace.");
            }

            await old.DisposeAsync().ConfigureAwait(false);
            var replicator = new WalReplicator(database, replication, epoch, _loggers);
            lock (_transition)
            {
                if (_snapshot == s)
                {
                    Volatile.Write(ref _snapshot, s with { Replicator = replicator });
                    replicator = null;
                }
            }

            if (replicator is not null)
            {
                await replicator.DisposeAsync().ConfigureAwait(false); // the host stopped meanwhile
                throw new OperationCanceledException("The host stopped while the replicator was replaced.");
            }
        }
        finally
        {
            _roleSwitch.Release();
        }
    }

    /// <summary>
    /// Becomes (or stays) a standby of the primary at <paramref name="primaryGrpc"/>: closes the current role; a
    /// primary's directory is demoted first (<see cref="StandbyPromotion.Demote"/>: its divergent tail, if any, is
    /// rewound and quarantined when the receiver connects); an empty one takes a base backup.
    /// </summary>
    internal async Task BecomeStandbyAsync(string nodeName, Uri primaryGrpc, string primaryHttp, CancellationToken cancellationToken)
    {
        await _roleSwitch.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CloseRoleLockedAsync().ConfigureAwait(false);
            string data = _options.DataDirectory;
            if (Cluster.LocalData.Of(data) == Cluster.DataDirectoryKind.Primary)
            {
                StandbyPromotion.Demote(data, _loggers.CreateLogger(typeof(StandbyPromotion).FullName!));
            }

            var dial = new GrpcReplicationOptions { ApiKey = _options.Replication.ApiKey };
            PrimaryConnection primary = GrpcReplication.ConnectToPrimary(primaryGrpc, dial);
            StandbyReceiver? receiver = null;
            try
            {
                receiver = new StandbyReceiver(data, _options.ToDatabaseOptions(_loggers, _meters), nodeName, primary.Connect, primary.BaseBackup, _loggers)
                {
                    PrimaryAddress = primaryHttp,
                    MaxReconnectDelay = TimeSpan.FromMilliseconds(Math.Min(_options.Replication.MaxReconnectDelayMs, 1_000)),
                };
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
                await receiver.StartAsync(linked.Token).ConfigureAwait(false);
                await PublishRoleLockedAsync(new Snapshot(DatabaseState.Ready, null, null, Standby: receiver, Peers: new Connections([primary]))).ConfigureAwait(false);
                _logger.LogWarning("This node is now a standby of {Primary}", primaryGrpc);
            }
            catch
            {
                if (receiver is not null && Role != NodeRole.Standby)
                {
                    await receiver.DisposeAsync().ConfigureAwait(false);
                    primary.Dispose();
                }

                throw;
            }
        }
        finally
        {
            _roleSwitch.Release();
        }
    }

    /// <summary>
    /// On a primary that resigned and is stopping: disposes its replicator, ending the standbys' streams (the database
    /// stays open for the requests still running; its fence refuses their writes). Closing the role later disposes nothing twice.
    /// </summary>
    internal async Task StopReplicatorAsync()
    {
        if (Volatile.Read(ref _snapshot) is { State: DatabaseState.Ready, Replicator: { } replicator })
        {
            await replicator.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes the current role (a primary that lost its lease, a standby whose primary changed); requests answer 503 until the next role.</summary>
    internal async Task CloseRoleAsync(CancellationToken cancellationToken)
    {
        await _roleSwitch.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CloseRoleLockedAsync().ConfigureAwait(false);
        }
        finally
        {
            _roleSwitch.Release();
        }
    }

    private async Task CloseRoleLockedAsync()
    {
        Snapshot previous;
        lock (_transition)
        {
            previous = _snapshot;
            if (previous.State is DatabaseState.Stopped)
            {
                throw new OperationCanceledException("The host is stopping.");
            }

            Volatile.Write(ref _snapshot, new Snapshot(DatabaseState.SwitchingRole, null, null));
        }

        await CloseAsync(previous, checkpoint: false).ConfigureAwait(false);
    }

    private async Task PublishRoleLockedAsync(Snapshot next)
    {
        bool published = false;
        lock (_transition)
        {
            if (_snapshot.State == DatabaseState.SwitchingRole)
            {
                Volatile.Write(ref _snapshot, next);
                published = true;
            }
        }

        if (!published)
        {
            await CloseAsync(next, checkpoint: false).ConfigureAwait(false); // the host stopped while the role opened
            throw new OperationCanceledException("The host stopped while the role opened.");
        }

        _ready.TrySetResult(Database);
    }
}

/// <summary>The role a host serves.</summary>
public enum NodeRole
{
    /// <summary>No database open (recovering, between roles, failed or stopped).</summary>
    None,

    /// <summary>A primary: it takes writes.</summary>
    Primary,

    /// <summary>A standby: it reads, following its primary.</summary>
    Standby,
}

using Microsoft.Extensions.Logging;
using OxiVec.Hosting.Replication;
using OxiVec.Replication;
using OxiVec.Replication.Grpc;
using OxiVec.Storage;

namespace OxiVec.Hosting;

/// <summary>The replication roles: a primary's replicator, a standby's receiver, and the gRPC connections they dial.</summary>
public sealed partial class OxiVecDatabaseHost
{
    /// <summary>The gRPC connections a role dials (to its primary, or to its push standbys), disposed after the role.</summary>
    private sealed record Connections(IReadOnlyList<IDisposable> Channels);

    /// <summary>The primary's replicator, once the database is open (null on a standby or a primary that does not replicate).</summary>
    public WalReplicator? Replicator
    {
        get
        {
            Snapshot s = Volatile.Read(ref _snapshot);
            return s.State == DatabaseState.Ready ? s.Replicator : null;
        }
    }

    /// <summary>The standby's receiver, once its database is open (null on a primary).</summary>
    public StandbyReceiver? Standby
    {
        get
        {
            Snapshot s = Volatile.Read(ref _snapshot);
            return s.State == DatabaseState.Ready ? s.Standby : null;
        }
    }

    /// <summary>On a standby waiting for pushes: where the primary's incoming streams are handed to the receiver.</summary>
    public PushedStreams? PushedStreams { get; }

    /// <summary>This node's role, for messages: "a primary", "a standby of URL".</summary>
    public string Description => _options.Cluster.IsEnabled ? ClusterDescription
        : _options.Replication.IsStandby
        ? $"a standby ('{_options.Replication.NodeName}') of {_options.Replication.StandbyOf}"
        : _options.Replication.ReplicatesAsPrimary ? "a replicating primary" : "a primary without replication";

    /// <summary>Opens the database in the configured role; the snapshot to publish as ready.</summary>
    private async Task<Snapshot> OpenRoleAsync(CancellationToken cancellationToken)
    {
        ReplicationHostOptions replication = _options.Replication;
        var dial = new GrpcReplicationOptions { ApiKey = replication.ApiKey };
        VectorDatabaseOptions databaseOptions = _options.ToDatabaseOptions(_loggers, _meters);
        if (replication.IsStandby)
        {
            PrimaryConnection primary = GrpcReplication.ConnectToPrimary(new Uri(replication.StandbyOf!), dial);
            StandbyReceiver? receiver = null;
            try
            {
                receiver = new StandbyReceiver(
                    _options.DataDirectory, databaseOptions, replication.NodeName!, PushedStreams?.Connector ?? primary.Connect, primary.BaseBackup, _loggers)
                {
                    PrimaryAddress = replication.PrimaryForClients,
                    MaxReconnectDelay = TimeSpan.FromMilliseconds(replication.MaxReconnectDelayMs),
                };
                await receiver.StartAsync(cancellationToken).ConfigureAwait(false);
                return new Snapshot(DatabaseState.Ready, null, null, Standby: receiver, Peers: new Connections([primary]));
            }
            catch
            {
                if (receiver is not null)
                {
                    await receiver.DisposeAsync().ConfigureAwait(false);
                }

                primary.Dispose();
                throw;
            }
        }

        VectorDatabase database = VectorDatabase.Open(_options.DataDirectory, databaseOptions);
        if (!replication.ReplicatesAsPrimary)
        {
            return new Snapshot(DatabaseState.Ready, database, null);
        }

        var pushes = new List<IDisposable>();
        try
        {
            var replicator = new WalReplicator(database, replication.ToReplicationOptions(), replication.Epoch, _loggers);
            foreach ((string name, Uri address) in replication.PushStandbys())
            {
                StandbyConnection standby = GrpcReplication.ConnectToStandby(address, dial);
                pushes.Add(standby);
                replicator.AddStandby(name, standby.Connect);
            }

            return new Snapshot(DatabaseState.Ready, database, null, Replicator: replicator, Peers: new Connections(pushes));
        }
        catch
        {
            pushes.ForEach(p => p.Dispose());
            await database.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Closes what <paramref name="s"/> holds: checkpoint (a primary's, when asked), replicator or receiver, database, connections.</summary>
    private async Task CloseAsync(Snapshot s, bool checkpoint)
    {
        try
        {
            if (s.Database is { } database)
            {
                if (checkpoint)
                {
                    Checkpoint(database);
                }

                if (s.Replicator is { } replicator)
                {
                    await replicator.DisposeAsync().ConfigureAwait(false); // commits still waiting for standbys fail; they stay committed locally
                }

                await database.DisposeAsync().ConfigureAwait(false);
                _logger.LogInformation("Database closed");
            }
            else if (s.Standby is { } standby)
            {
                await standby.DisposeAsync().ConfigureAwait(false); // stops streaming and closes the standby's database
                _logger.LogInformation("Standby stopped and its database closed");
            }
        }
        finally
        {
            foreach (IDisposable peer in s.Peers?.Channels ?? [])
            {
                peer.Dispose();
            }
        }
    }

    private void Checkpoint(VectorDatabase database)
    {
        try
        {
            CheckpointInfo info = database.Checkpoint();
            _logger.LogInformation("Checkpoint {Sequence} written on stop (covers LSN {Lsn})", info.Sequence, info.CoveredLsn);
        }
        catch (Exception ex)
        {
            // The WAL still holds everything acknowledged: the next start replays it.
            _logger.LogError(ex, "The checkpoint on stop failed; the WAL keeps every acknowledged write for the next start");
        }
    }
}

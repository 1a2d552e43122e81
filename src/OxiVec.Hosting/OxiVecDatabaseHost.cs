using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OxiVec.Replication;
using OxiVec.Replication.Grpc;
using OxiVec.Storage;

namespace OxiVec.Hosting;

/// <summary>
/// Owns the one long-lived <see cref="VectorDatabase"/> of a host: opens (and recovers) it in the background when the
/// host starts, so a server can answer <c>/readyz</c> with 503 while recovery runs; checkpoints (when
/// <see cref="OxiVecOptions.CheckpointOnStop"/>) and closes it when the host stops. With replication configured
/// (<see cref="OxiVecOptions.Replication"/>) a primary runs a <see cref="WalReplicator"/> over its database, and a
/// standby runs a <see cref="StandbyReceiver"/>, which owns the database (a base backup replaces it): the
/// <see cref="Database"/> property reads the receiver's current one.
/// </summary>
/// <remarks>
/// <see cref="State"/>, <see cref="Failure"/>, the database and the replication role are published together as one
/// immutable <see cref="Snapshot"/>, swapped atomically: a reader never sees a state without its database.
/// </remarks>
public sealed partial class OxiVecDatabaseHost : IHostedService, IAsyncDisposable, IReplicationRole
{
    private readonly OxiVecOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly IMeterFactory _meters;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<VectorDatabase> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _transition = new();
    private readonly CancellationTokenSource _stopping = new();
    private Snapshot _snapshot = new(DatabaseState.NotStarted, null, null);
    private Task? _opening;
    private int _disposed;

    /// <summary>Creates the host of the database the options describe.</summary>
    public OxiVecDatabaseHost(IOptions<OxiVecOptions> options, ILoggerFactory loggers, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _loggers = loggers ?? throw new ArgumentNullException(nameof(loggers));
        _meters = meters ?? throw new ArgumentNullException(nameof(meters));
        _logger = loggers.CreateLogger<OxiVecDatabaseHost>();
        DatabaseGauges.Create(meters, this, _options.DataDirectory);
        PushedStreams = _options.Replication.IsStandby && _options.Replication.WaitForPush ? new PushedStreams() : null;
    }

    /// <summary>The state, its failure, its database (or the standby receiver that owns it) and its replicator, published as one value.</summary>
    private sealed record Snapshot(
        DatabaseState State, VectorDatabase? Database, Exception? Failure, StandbyReceiver? Standby = null, WalReplicator? Replicator = null, Connections? Peers = null);

    /// <summary>Where the database is in its life.</summary>
    public DatabaseState State => Volatile.Read(ref _snapshot).State;

    /// <summary>Why opening failed, when <see cref="State"/> is <see cref="DatabaseState.Failed"/>.</summary>
    public Exception? Failure => Volatile.Read(ref _snapshot).Failure;

    /// <summary>The options the database was opened with.</summary>
    public OxiVecOptions Options => _options;

    /// <summary>The open database (on a standby, the receiver's current one: read it per use, a base backup replaces it).</summary>
    /// <exception cref="DatabaseUnavailableException">It is not open (recovering, failed or stopped).</exception>
    public VectorDatabase Database
    {
        get
        {
            Snapshot s = Volatile.Read(ref _snapshot);
            return s.State != DatabaseState.Ready ? throw new DatabaseUnavailableException(s.State, s.Failure)
                : s.Standby is { } standby ? standby.Database
                : s.Database!;
        }
    }

    /// <summary>Waits until the database is open and returns it.</summary>
    /// <exception cref="DatabaseUnavailableException">Opening failed or the host stopped first.</exception>
    public Task<VectorDatabase> WhenReadyAsync(CancellationToken cancellationToken = default) => _ready.Task.WaitAsync(cancellationToken);

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_opening is not null)
        {
            throw new InvalidOperationException("The database host was started twice.");
        }

        if (_options.Cluster.IsEnabled)
        {
            // A cluster member opens its database when the cluster gives it a role (ClusterNode): primary or standby.
            Volatile.Write(ref _snapshot, new Snapshot(DatabaseState.SwitchingRole, null, null));
            _opening = Task.CompletedTask;
            return Task.CompletedTask;
        }

        Volatile.Write(ref _snapshot, new Snapshot(DatabaseState.Recovering, null, null));
        _opening = Task.Run(OpenAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OpenAsync()
    {
        Snapshot? opened = null;
        try
        {
            _logger.LogInformation("Opening the database in {DataDirectory}", _options.DataDirectory);
            opened = await OpenRoleAsync(_stopping.Token).ConfigureAwait(false);
            lock (_transition)
            {
                if (_snapshot.State == DatabaseState.Recovering)
                {
                    Volatile.Write(ref _snapshot, opened);
                    opened = null;
                }
            }

            if (opened is not null)
            {
                await CloseAsync(opened, checkpoint: false).ConfigureAwait(false); // the host stopped while recovery ran
                _ready.TrySetException(new DatabaseUnavailableException(DatabaseState.Stopped));
                return;
            }

            VectorDatabase database = Database;
            RecoveryStats stats = database.Recovery;
            _logger.LogInformation(
                "Database ready ({Role}): {Entries} WAL entries applied in {Ms} ms, {Collections} collections",
                Description, stats.AppliedEntries, stats.RecoveryTimeMs, database.ListCollections().Count);
            _ready.TrySetResult(database);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            _ready.TrySetException(new DatabaseUnavailableException(DatabaseState.Stopped));
        }
        catch (Exception ex)
        {
            _logger.LogCritical(ex, "The database in {DataDirectory} failed to open", _options.DataDirectory);
            lock (_transition)
            {
                if (_snapshot.State == DatabaseState.Recovering)
                {
                    Volatile.Write(ref _snapshot, new Snapshot(DatabaseState.Failed, null, ex));
                }
            }

            _ready.TrySetException(new DatabaseUnavailableException(DatabaseState.Failed, ex));
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if ((_options.Replication.IsStandby || _options.Cluster.IsEnabled) && Volatile.Read(ref _disposed) == 0)
        {
            await _stopping.CancelAsync().ConfigureAwait(false); // a standby may wait for its primary (a base backup, a push) forever
        }

        if (_opening is { } opening)
        {
            await opening.ConfigureAwait(false); // recovery cannot be interrupted half-way; it ends, then closes
        }

        Snapshot s = Stop();
        _ready.TrySetException(new DatabaseUnavailableException(DatabaseState.Stopped));
        await CloseAsync(s, _options.CheckpointOnStop).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return; // the container and an owner may both dispose it
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Snapshot s = Stop();
        await CloseAsync(s, checkpoint: false).ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>Publishes <see cref="DatabaseState.Stopped"/> and returns what was published before.</summary>
    private Snapshot Stop()
    {
        lock (_transition)
        {
            Snapshot previous = _snapshot;
            Volatile.Write(ref _snapshot, new Snapshot(DatabaseState.Stopped, null, null));
            return previous;
        }
    }
}

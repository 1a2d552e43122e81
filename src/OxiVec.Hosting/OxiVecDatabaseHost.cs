using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OxiVec.Storage;

namespace OxiVec.Hosting;

/// <summary>
/// Owns the one long-lived <see cref="VectorDatabase"/> of a host: opens (and recovers) it in the background when the
/// host starts, so a server can answer <c>/readyz</c> with 503 while recovery runs; checkpoints (when
/// <see cref="OxiVecOptions.CheckpointOnStop"/>) and closes it when the host stops.
/// </summary>
/// <remarks>
/// <see cref="State"/>, <see cref="Failure"/> and the database are published together as one immutable
/// <see cref="Snapshot"/>, swapped atomically: a reader never sees a state without its database.
/// </remarks>
public sealed class OxiVecDatabaseHost : IHostedService, IAsyncDisposable
{
    private readonly OxiVecOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly IMeterFactory _meters;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<VectorDatabase> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _transition = new();
    private Snapshot _snapshot = new(DatabaseState.NotStarted, null, null);
    private Task? _opening;

    /// <summary>Creates the host of the database the options describe.</summary>
    public OxiVecDatabaseHost(IOptions<OxiVecOptions> options, ILoggerFactory loggers, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _loggers = loggers ?? throw new ArgumentNullException(nameof(loggers));
        _meters = meters ?? throw new ArgumentNullException(nameof(meters));
        _logger = loggers.CreateLogger<OxiVecDatabaseHost>();
        DatabaseGauges.Create(meters, this, _options.DataDirectory);
    }

    /// <summary>The state, its failure and its database, published as one value.</summary>
    private sealed record Snapshot(DatabaseState State, VectorDatabase? Database, Exception? Failure);

    /// <summary>Where the database is in its life.</summary>
    public DatabaseState State => Volatile.Read(ref _snapshot).State;

    /// <summary>Why opening failed, when <see cref="State"/> is <see cref="DatabaseState.Failed"/>.</summary>
    public Exception? Failure => Volatile.Read(ref _snapshot).Failure;

    /// <summary>The options the database was opened with.</summary>
    public OxiVecOptions Options => _options;

    /// <summary>The open database.</summary>
    /// <exception cref="DatabaseUnavailableException">It is not open (recovering, failed or stopped).</exception>
    public VectorDatabase Database
    {
        get
        {
            Snapshot s = Volatile.Read(ref _snapshot);
            return s.State == DatabaseState.Ready ? s.Database! : throw new DatabaseUnavailableException(s.State, s.Failure);
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

        Volatile.Write(ref _snapshot, new Snapshot(DatabaseState.Recovering, null, null));
        _opening = Task.Run(Open, CancellationToken.None);
        return Task.CompletedTask;
    }

    private void Open()
    {
        try
        {
            _logger.LogInformation("Opening the database in {DataDirectory}", _options.DataDirectory);
            VectorDatabase database = VectorDatabase.Open(_options.DataDirectory, _options.ToDatabaseOptions(_loggers, _meters));
            lock (_transition)
            {
                if (_snapshot.State != DatabaseState.Recovering)
                {
                    database.Dispose(); // the host stopped while recovery ran
                    _ready.TrySetException(new DatabaseUnavailableException(DatabaseState.Stopped));
                    return;
                }

                Volatile.Write(ref _snapshot, new Snapshot(DatabaseState.Ready, database, null));
            }

            RecoveryStats stats = database.Recovery;
            _logger.LogInformation(
                "Database ready: {Entries} WAL entries applied in {Ms} ms, {Collections} collections",
                stats.AppliedEntries, stats.RecoveryTimeMs, database.ListCollections().Count);
            _ready.TrySetResult(database);
        }
        catch (Exception ex)
        {
            _logger.LogCritical(ex, "The database in {DataDirectory} failed to open", _options.DataDirectory);
            lock (_transition)
            {
                Volatile.Write(ref _snapshot, new Snapshot(DatabaseState.Failed, null, ex));
            }

            _ready.TrySetException(new DatabaseUnavailableException(DatabaseState.Failed, ex));
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_opening is { } opening)
        {
            await opening.ConfigureAwait(false); // recovery cannot be interrupted half-way; it ends, then closes
        }

        Snapshot s = Stop();
        _ready.TrySetException(new DatabaseUnavailableException(DatabaseState.Stopped));
        if (s.Database is not { } database)
        {
            return;
        }

        try
        {
            if (_options.CheckpointOnStop)
            {
                CheckpointInfo info = database.Checkpoint();
                _logger.LogInformation("Checkpoint {Sequence} written on stop (covers LSN {Lsn})", info.Sequence, info.CoveredLsn);
            }
        }
        catch (Exception ex)
        {
            // The WAL still holds everything acknowledged: the next start replays it.
            _logger.LogError(ex, "The checkpoint on stop failed; the WAL keeps every acknowledged write for the next start");
        }
        finally
        {
            await database.DisposeAsync().ConfigureAwait(false);
            _logger.LogInformation("Database closed");
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Snapshot s = Stop();
        if (s.Database is { } database)
        {
            await database.DisposeAsync().ConfigureAwait(false);
        }
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

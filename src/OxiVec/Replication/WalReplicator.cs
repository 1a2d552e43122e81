using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Replication;

/// <summary>
/// Ships a primary database's WAL to its standbys (the guide's <c>WalReplicator</c>): one sender per standby
/// stream, slots that keep the WAL a standby still needs, and the commit gate that holds acknowledgements until
/// the synchronous standbys have confirmed them (<see cref="ReplicationOptions.SynchronousStandbys"/>).
/// </summary>
/// <remarks>
/// <para>The database must be opened with <see cref="WalConfig.EnableReplication"/>; one replicator per database.</para>
/// <para>A commit waits first for its local sync policy, then for the synchronous set. Cancelling that wait (or the
/// replicator stopping) never un-commits the write: it is logged and durable locally, and it becomes visible once
/// the set confirms it (or at once when the replicator stops).</para>
/// </remarks>
public sealed partial class WalReplicator : IAsyncDisposable
{
    private readonly VectorDatabase _database;
    private readonly WalManager _wal;
    private readonly ReplicationOptions _options;
    private readonly SynchronousStandbyPolicy? _policy;
    private readonly SyncCommitGate? _gate;
    private readonly bool _applyAwaited; // whether a commit may wait for a standby's applied LSN: told to the standbys in every batch
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ReplicationInstrumentation _metrics;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _stateLock = new();
    private readonly List<Task> _pushLoops = [];
    private readonly IReadOnlyList<EpochHistoryEntry> _history;
    private ReplicatorState _state;
    private long _connectionIds;
    private int _disposed;

    /// <summary>Starts replicating <paramref name="database"/>, which must be a primary (not opened as a standby).</summary>
    /// <param name="database">The primary database; its commits wait on this replicator from now on.</param>
    /// <param name="options">Synchronous set, ack level, slot cap, batch size.</param>
    /// <param name="epoch">The primary's epoch (only grows; persisted in the data directory: the largest of this, the stored one and
    /// the last of the epoch history is used, so a promoted primary keeps its promotion epoch). Raising the epoch of a directory that
    /// had one appends (epoch, last LSN + 1) to its epoch history.</param>
    /// <param name="loggerFactory">Logging.</param>
    /// <exception cref="InvalidOperationException">The database is a standby, was not opened with <see cref="WalConfig.EnableReplication"/>, or has a replicator already.</exception>
    /// <exception cref="ArgumentException">The options are invalid (the message names the property).</exception>
    public WalReplicator(VectorDatabase database, ReplicationOptions options, long epoch = 1, ILoggerFactory? loggerFactory = null)
        : this(database, options, epoch, loggerFactory, timeProvider: null, meterFactory: null)
    {
    }

    /// <summary>As the public constructor, with a clock (keepalives, lag, reconnect delays) and a meter factory.</summary>
    internal WalReplicator(
        VectorDatabase database, ReplicationOptions options, long epoch, ILoggerFactory? loggerFactory, TimeProvider? timeProvider, System.Diagnostics.Metrics.IMeterFactory? meterFactory)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(epoch, 1);
        options.Validate();
        if (database.IsStandby)
        {
            throw new InvalidOperationException($"The database in '{database.DataDirectory}' is a standby; only a primary ships its WAL.");
        }

        if (!database.Wal.Config.EnableReplication)
        {
            throw new InvalidOperationException(
                $"The database in '{database.DataDirectory}' was opened without WalConfig.EnableReplication: set it to attach a WalReplicator.");
        }

        _database = database;
        _wal = database.Wal;
        _options = options;
        _policy = SynchronousStandbyPolicy.Parse(options.SynchronousStandbys);
        _applyAwaited = _policy is not null && options.AckLevel == ReplicationAckLevel.RemoteApply;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<WalReplicator>();
        _time = timeProvider ?? TimeProvider.System;

        (Epoch, _history) = ResolveEpoch(database, epoch);

        var standbys = ImmutableSortedDictionary.CreateBuilder<string, StandbyEntry>(StringComparer.Ordinal);
        foreach (Slot slot in ReplicationFiles.ReadSlots(database.DataDirectory))
        {
            long flushed = Math.Max(0, slot.RetainFromLsn - 1);
            standbys[slot.Name] = new StandbyEntry(slot.Name, 0, flushed, flushed, 0, slot.RetainFromLsn, 0, []);
        }

        _state = new ReplicatorState(standbys.ToImmutable(), new HashSet<string>(), Degraded: false);
        _metrics = new ReplicationInstrumentation(meterFactory, database.DataDirectory, GetStatus);
        if (_policy is not null)
        {
            _gate = new SyncCommitGate(_policy, options.WhenTooFewStandbys, _logger, _metrics.Degraded, () => _wal.DurableLsn);
            lock (_stateLock)
            {
                Publish(_state);
            }
        }

        lock (_stateLock)
        {
            if (database.CommitGate is not null || database.Wal.RetentionFloor is not null)
            {
                _metrics.Dispose();
                throw new InvalidOperationException($"The database in '{database.DataDirectory}' has a WalReplicator already.");
            }

            _wal.RetentionFloor = RetentionFloor;
            if (_gate is not null)
            {
                // Before commits can wait at the gate: a wait reads the durable LSN when it registers, later rises come here.
                _wal.DurableAdvanced = _gate.LocalDurable;
            }

            database.CommitGate = _gate;
        }

        if (_gate is not null)
        {
            // Commits wait at the gate before their local acknowledgement: a WAL failure must end those waits too.
            _ = _wal.Failed().ContinueWith(
                static (_, state) => ((WalReplicator)state!).FailCommitWaits(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>The epoch stamped on every batch.</summary>
    public long Epoch { get; }

    /// <summary>Slots dropped so far because their standby fell more than <see cref="ReplicationOptions.MaxSlotWalKeepBytes"/> behind.</summary>
    public long SlotsInvalidated => _metrics.SlotsInvalidated;

    /// <summary>Times so far that synchronous commits started being acknowledged without enough standbys.</summary>
    public long DegradedTransitions => _metrics.DegradedTransitions;

    /// <summary>WAL batches sent to standbys so far, over every stream (tests, benchmarks).</summary>
    internal long BatchesSent => _metrics.BatchesSent;

    /// <summary>The synchronous commit gate (tests), or null for asynchronous replication.</summary>
    internal SyncCommitGate? Gate => _gate;

    /// <summary>
    /// Push mode (the guide's add_standby): the primary dials the standby with <paramref name="connect"/> and keeps
    /// streaming to it, reconnecting with backoff (<see cref="ReplicationOptions.MinReconnectDelay"/> doubling up to
    /// <see cref="ReplicationOptions.MaxReconnectDelay"/>), until disposed.
    /// </summary>
    public void AddStandby(string name, ReplicationConnector<PrimaryMessage, StandbyMessage> connect)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(connect);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_pushLoops)
        {
            _pushLoops.Add(Task.Run(() => PushLoopAsync(name, connect, _stopping.Token)));
        }
    }

    /// <summary>
    /// Pull mode: serves one stream a standby opened (the server calls it per incoming stream); returns when it ends
    /// (the standby closed it, it broke, the standby was told to take a base backup, or the replicator stopped).
    /// </summary>
    /// <exception cref="InvalidDataException">The standby broke the protocol (its first message was not a hello, say).</exception>
    public async Task ServeStandbyAsync(IReplicationChannel<PrimaryMessage, StandbyMessage> channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        CancellationToken token = linked.Token;
        try
        {
            StandbyMessage? first = await channel.ReceiveAsync(token).ConfigureAwait(false);
            if (first is null)
            {
                return;
            }

            if (first is not StandbyHello hello || string.IsNullOrWhiteSpace(hello.Name))
            {
                throw new InvalidDataException($"A replication stream must start with a StandbyHello naming the standby; it started with {first.GetType().Name}.");
            }

            if (hello.Epoch > Epoch)
            {
                _logger.LogCritical(
                    "Replication: standby '{Name}' has seen epoch {StandbyEpoch}, newer than this primary's {Epoch}: this primary is STALE (another primary took over?). The stream is refused.",
                    hello.Name, hello.Epoch, Epoch);
                return;
            }

            if (Diverged(hello) is { } diverged)
            {
                _logger.LogWarning(
                    "Replication: standby '{Name}' (epoch {StandbyEpoch}) has records through LSN {Lsn}, past LSN {Keep} where epoch {Epoch} of this primary's history began: its records after LSN {Keep} diverged; it must rewind.",
                    hello.Name, hello.Epoch, hello.LastLsn, diverged.KeepThroughLsn, diverged.Epoch, diverged.KeepThroughLsn);
                await channel.SendAsync(diverged, token).ConfigureAwait(false);
                return;
            }

            if (CheckHello(hello) is { } refusal)
            {
                _logger.LogWarning("Replication: standby '{Name}' needs a base backup: {Reason}", hello.Name, refusal);
                await channel.SendAsync(new BaseBackupRequired(refusal), token).ConfigureAwait(false);
                return;
            }

            if (_history.Count > 0)
            {
                // Its log is a prefix of this primary's: it takes this history as its own (chained promotions, elections).
                await channel.SendAsync(new EpochHistory(Epoch, [.. _history.Select(e => new EpochBranch(e.Epoch, e.StartLsn))]), token).ConfigureAwait(false);
            }

            await StreamAsync(hello, channel, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The caller or the replicator stopped the stream.
        }
        catch (IOException ex)
        {
            _logger.LogInformation("Replication: a standby stream ended: {Reason}", ex.Message);
        }
    }

    /// <summary>Every standby's state and lag, as one consistent value.</summary>
    public ReplicationStatus GetStatus()
    {
        ReplicatorState state = Volatile.Read(ref _state);
        long last = _wal.LastLsn;
        WalSegmentSet segments = _wal.Segments;
        long now = WalRecord.ToMicros(_time.GetUtcNow());
        List<StandbyStatus> standbys = [.. state.Standbys.Values.Select(e => new StandbyStatus(
            e.Name, e.Connected, state.SyncSet.Contains(e.Name), e.WrittenLsn, e.FlushedLsn, e.AppliedLsn, e.SlotRetainFromLsn,
            LagBytes(e, segments, last), LagMs(e, last, now)))];
        return new ReplicationStatus(Epoch, last, _wal.DurableLsn, state.Degraded, standbys);
    }

    /// <summary>Stops every stream; commits waiting for standbys fail with <see cref="ObjectDisposedException"/> (they stay committed locally).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        lock (_stateLock)
        {
            _database.CommitGate = null;
            _gate?.Close();
            _wal.DurableAdvanced = null;
        }

        Task[] loops;
        lock (_pushLoops)
        {
            loops = [.. _pushLoops];
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
        lock (_stateLock)
        {
            PersistSlotsLocked();
            _wal.RetentionFloor = null;
        }

        _metrics.Dispose();
        _stopping.Dispose();
    }

    private void FailCommitWaits()
    {
        if (_wal.Failure is { } failure)
        {
            _logger.LogError(failure, "Replication: the WAL failed; commits waiting for the synchronous standbys fail with it.");
            _gate!.WalFailed(failure);
        }
    }

    /// <summary>
    /// The divergence the epoch history shows (PostgreSQL's timeline check): the first history entry of an epoch newer
    /// than the standby's began at a start LSN; a standby whose log reaches it wrote records there under an older epoch.
    /// </summary>
    private WalDiverged? Diverged(StandbyHello hello) =>
        _history.FirstOrDefault(e => e.Epoch > hello.Epoch) is { } branch && hello.LastLsn >= branch.StartLsn
            ? new WalDiverged(branch.Epoch, branch.StartLsn - 1)
            : null;

    /// <summary>
    /// The epoch: the largest of <paramref name="requested"/>, the stored one and the history's last. It is persisted
    /// before any batch carries it; when it rises above an epoch the directory already had, the history records where.
    /// </summary>
    private static (long Epoch, IReadOnlyList<EpochHistoryEntry> History) ResolveEpoch(VectorDatabase database, long requested)
    {
        string data = database.DataDirectory;
        long stored = ReplicationFiles.ReadEpoch(data, ReplicationFiles.EpochFile) ?? 0;
        List<EpochHistoryEntry> history = [.. ReplicationFiles.ReadHistory(data)];
        long known = Math.Max(stored, history.Count > 0 ? history[^1].Epoch : 0);
        long epoch = Math.Max(known, requested);
        if (epoch > known && known > 0)
        {
            history.Add(new EpochHistoryEntry(epoch, database.Wal.LastLsn + 1));
            ReplicationFiles.WriteHistory(data, history);
        }

        if (epoch != stored)
        {
            ReplicationFiles.WriteEpoch(data, ReplicationFiles.EpochFile, epoch); // durable before any batch carries it
        }

        return (epoch, history);
    }

    /// <summary>Why the standby cannot stream from where it is (it needs a base backup), or null.</summary>
    private string? CheckHello(StandbyHello hello)
    {
        long last = _wal.LastLsn;
        if (hello.LastLsn > last)
        {
            return $"the standby's log ends at LSN {hello.LastLsn}, beyond this primary's last LSN {last}: the logs diverged";
        }

        if (hello.LastLsn + 1 < _wal.FirstLsn)
        {
            return $"the standby needs WAL from LSN {hello.LastLsn + 1}, but this primary's WAL now starts at LSN {_wal.FirstLsn} (removed, or its slot was invalidated)";
        }

        if (hello.LastLsn > 0 && hello.LastRecordDigest != 0 && _wal.TryReadRecord(hello.LastLsn) is { } record && RecordDigest.Of(record) != hello.LastRecordDigest)
        {
            return $"the standby's record at LSN {hello.LastLsn} differs from this primary's: the logs diverged at or before LSN {hello.LastLsn}";
        }

        return null;
    }

    private async Task StreamAsync(StandbyHello hello, IReplicationChannel<PrimaryMessage, StandbyMessage> channel, CancellationToken cancellationToken)
    {
        long id = Interlocked.Increment(ref _connectionIds);
        Connect(hello, id);
        _logger.LogInformation("Replication: standby '{Name}' connected at LSN {Lsn}.", hello.Name, hello.LastLsn);
        try
        {
            using var stream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using WalTailReader reader = _wal.OpenTailReader(hello.LastLsn + 1);
            Task send = SendLoopAsync(hello.Name, id, reader, channel, stream.Token);
            Task receive = ReceiveLoopAsync(hello.Name, id, channel, stream.Token);
            Task ended = await Task.WhenAny(send, receive).ConfigureAwait(false);
            await stream.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(send, receive).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stream.IsCancellationRequested && !ended.IsFaulted)
            {
                // The other loop was stopped because this one ended.
            }
            catch when (ended.IsFaulted)
            {
                await ended.ConfigureAwait(false); // the failure that ended the stream, not the cancellation it caused
            }
        }
        finally
        {
            Disconnect(hello.Name, id);
            _logger.LogInformation("Replication: standby '{Name}' disconnected.", hello.Name);
        }
    }

    private async Task PushLoopAsync(string name, ReplicationConnector<PrimaryMessage, StandbyMessage> connect, CancellationToken cancellationToken)
    {
        int failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                IReplicationChannel<PrimaryMessage, StandbyMessage> channel = await connect(cancellationToken).ConfigureAwait(false);
                await using (channel.ConfigureAwait(false))
                {
                    failures = 0;
                    await ServeStandbyAsync(channel, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or TimeoutException or InvalidOperationException)
            {
                failures++;
                _logger.LogWarning("Replication: streaming to standby '{Name}' failed ({Failures} in a row): {Reason}", name, failures, ex.Message);
            }

            try
            {
                await Task.Delay(ReplicationOptions.Backoff(_options.MinReconnectDelay, _options.MaxReconnectDelay, Math.Max(1, failures)), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

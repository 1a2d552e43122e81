using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Replication;

/// <summary>
/// The standby side: owns a standby database in a data directory, takes a base backup when the directory is empty
/// or the primary says so, then streams the primary's WAL into its own WAL (same LSNs, checksums verified),
/// fsyncs per its policy, applies, and reports progress; reconnects with backoff.
/// </summary>
/// <remarks>
/// <para>Every batch is verified whole (each record's CRC-32C with its primary segment's salt, and the LSNs
/// continuing this log) before anything of it is written; a bad batch closes the stream and the receiver reconnects
/// and resumes after its last record.</para>
/// <para>Epochs (fencing): the highest epoch seen is persisted (fsynced) before a batch of a newer epoch is
/// accepted; a message of an older epoch closes the stream.</para>
/// </remarks>
public sealed class StandbyReceiver : IAsyncDisposable
{
    private readonly string _dataDirectory;
    private readonly VectorDatabaseOptions _options;
    private readonly string _name;
    private readonly ReplicationConnector<StandbyMessage, PrimaryMessage> _connect;
    private readonly IBaseBackupSource _baseBackup;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1); // the receive loop and the flush reporter both send
    private (object? Channel, StandbyProgress? Progress) _reported; // the last report sent, and on which stream; under _sendLock
    private readonly Lock _statusLock = new();
    private VectorDatabase? _database;
    private StandbyReceiverStatus _status = new(false, 0, 0, 0, 0, 0, null);
    private Task _loop = Task.CompletedTask;
    private TaskCompletionSource _replaced = new(TaskCreationOptions.RunContinuationsAsynchronously); // completed (and renewed) at each replacement
    private int _disposed;
    private int _closedForRewind; // 1 while the database is closed for a rewind (StreamOnceAsync reopens it after a failure)
    private long _coalescedBatches;

    /// <summary>How many bytes of frames one group receive (<see cref="Coalesce"/>) gathers at most: a bound on the memory of one append.</summary>
    private const long MaxCoalescedBytes = 8 << 20;

    /// <summary>Prepares a standby in <paramref name="dataDirectory"/>; nothing is opened until <see cref="StartAsync"/>.</summary>
    /// <param name="dataDirectory">The standby's data directory (empty or a standby's; a primary's is refused).</param>
    /// <param name="options">Database options (the WAL's sync policy applies to replicated records; <see cref="VectorDatabaseOptions.WalDirectory"/> must be null).</param>
    /// <param name="name">This standby's name.</param>
    /// <param name="connect">Opens a replication stream to the primary.</param>
    /// <param name="baseBackup">Fetches a base backup from the primary.</param>
    /// <param name="loggerFactory">Logging.</param>
    public StandbyReceiver(
        string dataDirectory, VectorDatabaseOptions options, string name, ReplicationConnector<StandbyMessage, PrimaryMessage> connect,
        IBaseBackupSource baseBackup, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(connect);
        ArgumentNullException.ThrowIfNull(baseBackup);
        if (options.WalDirectory is not null)
        {
            throw new ArgumentException("A standby keeps its WAL in its data directory: WalDirectory must be null.", nameof(options));
        }

        _dataDirectory = Path.GetFullPath(dataDirectory);
        _options = options;
        _name = name;
        _connect = connect;
        _baseBackup = baseBackup;
        _logger = (loggerFactory ?? options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<StandbyReceiver>();
        _time = options.TimeProvider ?? TimeProvider.System;
    }

    /// <summary>The primary's address, for the message of <see cref="StandbyWriteException"/> (null when unknown).</summary>
    public string? PrimaryAddress { get; init; }

    /// <summary>The first delay before reconnecting; it doubles per failure. The default is 100 ms (0 reconnects at once: tests).</summary>
    public TimeSpan MinReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay before reconnecting. The default is 10 s.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Raised (on the receiver's task) after a base backup replaced <see cref="Database"/> with a new instance; the old one is closed.</summary>
    public event EventHandler<VectorDatabase>? DatabaseReplaced;

    /// <summary>The open standby database (read-only for callers). A base backup replaces it: read it per use.</summary>
    /// <exception cref="InvalidOperationException"><see cref="StartAsync"/> has not completed.</exception>
    public VectorDatabase Database => Volatile.Read(ref _database) ?? throw new InvalidOperationException("The standby is not started.");

    /// <summary>The highest epoch seen (persisted), the primary's positions, and this standby's written, flushed and applied LSNs.</summary>
    public StandbyReceiverStatus Status => Volatile.Read(ref _status);

    /// <summary>
    /// Batches that arrived while an earlier one was being written and fsynced, and were then written, fsynced and
    /// reported together with the batch before them (one fsync and one report for the group) since this receiver started.
    /// </summary>
    public long CoalescedBatches => Interlocked.Read(ref _coalescedBatches);

    /// <summary>Base backups installed since this receiver started (the first one included).</summary>
    public int BaseBackups { get; private set; }

    /// <summary>
    /// Opens the standby database (after a base backup when the directory is empty), then streams in the background
    /// until disposed. Completes once the database is open and readable.
    /// </summary>
    /// <exception cref="InvalidOperationException">The directory holds a database that is not a standby's.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (StandbyBaseBackup.IsEmpty(_dataDirectory))
        {
            await StandbyBaseBackup.InstallAsync(_dataDirectory, _options, _baseBackup, 0, _logger, cancellationToken).ConfigureAwait(false);
            BaseBackups++;
        }
        else if (!StandbyBaseBackup.IsStandbyDirectory(_dataDirectory))
        {
            throw new InvalidOperationException(
                $"'{_dataDirectory}' holds data but is not a standby's (no {ReplicationFiles.DirectoryName}/{ReplicationFiles.StandbyFile}): a primary's directory is never turned into a standby. Use an empty directory.");
        }

        OpenDatabase();
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>
    /// Waits until the standby has applied <paramref name="lsn"/> (read-your-writes); false on timeout. A base backup
    /// that replaces <see cref="Database"/> meanwhile is followed: the wait goes on on the new database.
    /// </summary>
    public async ValueTask<bool> WaitForAppliedAsync(long lsn, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        while (true)
        {
            Task replaced = Volatile.Read(ref _replaced).Task; // before the database: a replacement after this completes it
            VectorDatabase database = Database;
            TimeSpan remaining = TimeSpan.FromSeconds(Math.Max(0, (deadline - _time.GetTimestamp()) / (double)_time.TimestampFrequency));
            try
            {
                return await database.WaitForAppliedAsync(lsn, remaining, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException) when (Volatile.Read(ref _disposed) == 0)
            {
                // Closed for a base backup: wait for its replacement, then wait on that.
                try
                {
                    await replaced.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    return false;
                }
            }
        }
    }

    /// <summary>Stops streaming and closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        finally
        {
            if (Volatile.Read(ref _database) is { } database)
            {
                await database.DisposeAsync().ConfigureAwait(false);
            }

            _stopping.Dispose();
            _sendLock.Dispose();
        }
    }

    private void OpenDatabase()
    {
        long finished = StandbyRewind.FinishPending(_dataDirectory, _options, _logger);
        if (finished > 0)
        {
            SetStatus(s => s with { Rewinds = s.Rewinds + 1, RecordsQuarantined = s.RecordsQuarantined + finished });
        }

        VectorDatabase database = VectorDatabase.OpenStandby(_dataDirectory, _options, PrimaryAddress);
        long epoch = ReplicationFiles.ReadEpoch(_dataDirectory, ReplicationFiles.StandbyFile) ?? 0;
        Volatile.Write(ref _database, database);
        SetStatus(s => s with { Epoch = epoch });
        _ = PublishPositions(database);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        int failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await StreamOnceAsync(cancellationToken).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (BaseBackupNeededException ex)
            {
                failures = 0;
                try
                {
                    await ReplaceByBaseBackupAsync(ex.Message, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception backup) when (backup is IOException or InvalidDataException or UnauthorizedAccessException or InvalidOperationException)
                {
                    failures++;
                    Failed($"the base backup failed: {backup.Message}", backup);
                }
            }
            catch (RewindNeededException ex)
            {
                try
                {
                    await RewindAsync(ex.Diverged, cancellationToken).ConfigureAwait(false);
                    failures = 0;
                    continue;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception rewind) when (rewind is IOException or InvalidDataException or UnauthorizedAccessException or InvalidOperationException)
                {
                    failures++;
                    Failed($"the rewind to LSN {ex.Diverged.KeepThroughLsn} failed: {rewind.Message}", rewind);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or TimeoutException or InvalidOperationException)
            {
                failures++;
                Failed(ex.Message, ex);
            }

            try
            {
                await Task.Delay(ReplicationOptions.Backoff(MinReconnectDelay, MaxReconnectDelay, Math.Max(1, failures)), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Failed(string reason, Exception ex)
    {
        SetStatus(s => s with { Connected = false, LastError = reason });
        _logger.LogWarning(ex, "Standby '{Name}': the stream from the primary ended: {Reason}", _name, reason);
    }

    private async Task StreamOnceAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _closedForRewind) != 0)
        {
            ReopenAfterRewind(); // a rewind failed midway: finishing it is the open's first step
        }

        VectorDatabase database = Database;
        WalManager wal = database.Wal;
        IReplicationChannel<StandbyMessage, PrimaryMessage> channel = await _connect(cancellationToken).ConfigureAwait(false);
        await using (channel.ConfigureAwait(false))
        {
            using var stream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // The primary counts the hello's last LSN as written and flushed here: with an interval policy the tail may
            // not be fsynced yet (a reconnect in this process), so make it durable before claiming it.
            await wal.FlushAsync(stream.Token).ConfigureAwait(false);
            long last = wal.LastLsn;
            ulong digest = last > 0 && wal.TryReadRecord(last) is { } record ? RecordDigest.Of(record) : 0;
            await SendAsync(channel, new StandbyHello(_name, last, digest, Status.Epoch), stream.Token).ConfigureAwait(false);
            SetStatus(s => s with { Connected = true });
            // With an fsync per batch (SyncIntervalMs = 0) every flush is reported by its batch's own report: no
            // reporter waking at each position change (a thread-pool dispatch per write and per fsync) to find nothing new.
            Task reporter = wal.Config.SyncIntervalMs == 0 ? Task.CompletedTask : ReportFlushesAsync(channel, database, stream.Token);
            try
            {
                await ReceiveLoopAsync(channel, database, stream.Token).ConfigureAwait(false);
            }
            finally
            {
                await stream.CancelAsync().ConfigureAwait(false);
                try
                {
                    await reporter.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
                {
                    // The stream ended; its progress reports end with it.
                }

                SetStatus(s => s with { Connected = false });
            }
        }
    }

    private async Task ReceiveLoopAsync(IReplicationChannel<StandbyMessage, PrimaryMessage> channel, VectorDatabase database, CancellationToken cancellationToken)
    {
        Task<PrimaryMessage?>? next = null;
        try
        {
            await ReceiveMessagesAsync().ConfigureAwait(false);
        }
        finally
        {
            // A receive started by a group receive and left behind by a failure (of the write, the fsync or the report) is
            // observed here: its own failure (the stream breaking) says nothing the failure thrown does not.
            _ = next?.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        async Task ReceiveMessagesAsync()
        {
            while (true)
            {
                PrimaryMessage? message = await (next ?? channel.ReceiveAsync(cancellationToken).AsTask()).ConfigureAwait(false);
                next = null;
                switch (message)
                {
                    case null:
                        return;
                    case WalBatch batch:
                        AcceptEpoch(batch.Epoch);
                        List<WalReplicatedRecord> records = WalReplicationFrames.Verify(batch.Frames, database.Wal.LastLsn + 1, batch.FirstLsn, batch.LastLsn);
                        (batch, next, Exception? refused) = Coalesce(channel, batch, records, cancellationToken);
                        await ReceiveBatchAsync(channel, database, batch, records, cancellationToken).ConfigureAwait(false);
                        if (refused is not null)
                        {
                            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(refused);
                        }

                        break;
                    case PrimaryKeepalive keepalive:
                        AcceptEpoch(keepalive.Epoch);
                        SetStatus(s => s with { PrimaryLastLsn = Math.Max(s.PrimaryLastLsn, keepalive.PrimaryLastLsn) });
                        await ReportAsync(channel, database, cancellationToken, always: true).ConfigureAwait(false); // a keepalive is answered
                        break;
                    case EpochHistory history:
                        AcceptHistory(history);
                        break;
                    case BaseBackupRequired required:
                        throw new BaseBackupNeededException(required.Reason);
                    case WalDiverged diverged:
                        throw new RewindNeededException(diverged);
                    default:
                        throw new InvalidDataException($"The primary sent an unexpected {message.GetType().Name}.");
                }
            }
        }
    }

    /// <summary>
    /// Group receive: the batches of the same epoch that have already arrived behind <paramref name="batch"/> (their
    /// receive completes at once) join it, verified, in <paramref name="records"/>: one append, one fsync and one report
    /// for all of them, as the primary's group commit covers the commits that queued during its last fsync. Stops at the
    /// first receive still pending (returned, to await next), at a message of another kind or epoch (returned as the
    /// next message), or at <see cref="MaxCoalescedBytes"/>.
    /// </summary>
    /// <returns>
    /// The batch to write (its last LSN, the primary's newest positions, and whether the apply is awaited: all of the
    /// joined batches'); the next receive, already started (null: none started); and the failure of a joined batch that failed its checks (nothing of it is
    /// in <paramref name="records"/>: the batches before it are written and reported, then the stream is refused).
    /// </returns>
    private (WalBatch Batch, Task<PrimaryMessage?>? Next, Exception? Refused) Coalesce(
        IReplicationChannel<StandbyMessage, PrimaryMessage> channel, WalBatch batch, List<WalReplicatedRecord> records, CancellationToken cancellationToken)
    {
        long bytes = batch.Frames.Length;
        int joined = 0;
        while (bytes < MaxCoalescedBytes)
        {
            Task<PrimaryMessage?> next = channel.ReceiveAsync(cancellationToken).AsTask();
            if (!next.IsCompleted)
            {
                return (Joined(batch, joined), next, null);
            }

            PrimaryMessage? message;
            try
            {
                message = next.GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidDataException)
            {
                return (Joined(batch, joined), Task.FromException<PrimaryMessage?>(ex), null); // thrown after this group is written
            }

            if (message is not WalBatch more || more.Epoch != batch.Epoch)
            {
                return (Joined(batch, joined), Task.FromResult(message), null);
            }

            try
            {
                records.AddRange(WalReplicationFrames.Verify(more.Frames, batch.LastLsn + 1, more.FirstLsn, more.LastLsn));
            }
            catch (WalFrameException ex)
            {
                return (Joined(batch, joined), null, ex);
            }

            bytes += more.Frames.Length;
            joined++;
            batch = batch with
            {
                LastLsn = more.LastLsn,
                PrimaryFlushedLsn = Math.Max(batch.PrimaryFlushedLsn, more.PrimaryFlushedLsn),
                PrimaryLastLsn = Math.Max(batch.PrimaryLastLsn, more.PrimaryLastLsn),
                SentUnixMicros = more.SentUnixMicros,
                ApplyAwaited = batch.ApplyAwaited || more.ApplyAwaited,
            };
        }

        return (Joined(batch, joined), null, null);
    }

    private WalBatch Joined(WalBatch batch, int joined)
    {
        if (joined > 0)
        {
            Interlocked.Add(ref _coalescedBatches, joined);
        }

        return batch;
    }

    /// <summary>
    /// Writes a verified batch into the WAL (fsynced per this WAL's policy), applies it, and reports: one report per
    /// batch when that is enough, sent as early as the primary's commits can use it.
    /// </summary>
    /// <remarks>
    /// <para>With an interval policy, written is reported before the apply: it is on the primary's commit path (remote
    /// write) and no fsync delays it; the flush reporter reports the fsyncs, and a report after the apply says applied.</para>
    /// <para>With an fsync per batch, one report per batch says written and flushed together. When the primary awaits
    /// no applied LSN (<see cref="WalBatch.ApplyAwaited"/> false: remote flush or write, or asynchronous), it goes
    /// out right after the fsync, before the apply, which is then off the path of the primary's commits; the applied
    /// LSN reaches the primary with the next report (the next batch's, or the answer to the next keepalive when the
    /// stream goes idle). When the primary awaits it (remote apply), the report follows the apply and says all three.
    /// A second report per batch would cost the commits more CPU, on a small machine, than it would save them.</para>
    /// </remarks>
    private async Task ReceiveBatchAsync(
        IReplicationChannel<StandbyMessage, PrimaryMessage> channel, VectorDatabase database, WalBatch batch, List<WalReplicatedRecord> records, CancellationToken cancellationToken)
    {
        bool fsyncPerBatch = database.Wal.Config.SyncIntervalMs == 0;
        Func<CancellationToken, ValueTask>? logged = !fsyncPerBatch || !batch.ApplyAwaited ? ct => ReportAsync(channel, database, ct) : null;
        SetStatus(s => s with { PrimaryLastLsn = Math.Max(s.PrimaryLastLsn, batch.PrimaryLastLsn) });
        await database.ReceiveReplicatedAsync(records, cancellationToken, logged).ConfigureAwait(false);
        if (!fsyncPerBatch || batch.ApplyAwaited)
        {
            await ReportAsync(channel, database, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            _ = PublishPositions(database); // this standby's own status shows the apply at once
        }
    }

    /// <summary>An older epoch closes the stream; a newer one is persisted (fsynced) before anything of its batch is accepted.</summary>
    private void AcceptEpoch(long epoch)
    {
        long seen = Status.Epoch;
        if (epoch < seen)
        {
            _logger.LogError("Standby '{Name}': the primary sent epoch {Epoch}, older than epoch {Seen} already seen: it is a stale primary; the stream is refused.", _name, epoch, seen);
            throw new InvalidDataException($"the primary's epoch {epoch} is older than epoch {seen} this standby has seen (a stale primary)");
        }

        if (epoch > seen)
        {
            ReplicationFiles.WriteEpoch(_dataDirectory, ReplicationFiles.StandbyFile, epoch);
            SetStatus(s => s with { Epoch = epoch });
        }
    }

    /// <summary>The primary's epoch history replaces this standby's (persisted, fsynced) before any batch of the stream is written.</summary>
    private void AcceptHistory(EpochHistory history)
    {
        AcceptEpoch(history.Epoch);
        ReplicationFiles.WriteHistory(_dataDirectory, [.. history.Branches.Select(b => new EpochHistoryEntry(b.Epoch, b.StartLsn))]);
    }

    /// <summary>With an interval sync policy, flushes happen after the batch: report each as it happens (no polling).</summary>
    private async Task ReportFlushesAsync(IReplicationChannel<StandbyMessage, PrimaryMessage> channel, VectorDatabase database, CancellationToken cancellationToken)
    {
        long reported = database.Wal.DurableLsn;
        while (true)
        {
            Task changed = database.Wal.PositionsChanged();
            long durable = database.Wal.DurableLsn;
            if (durable > reported)
            {
                reported = durable;
                await ReportAsync(channel, database, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (database.Wal.IsClosedOrFailed)
            {
                return;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reports this standby's positions unless the last report on <paramref name="channel"/> already said as much
    /// (<paramref name="always"/>: even then, as the answer to a keepalive). The
    /// positions are read under the send lock, so reports go out in the order of their positions (never an older
    /// one after a newer), and the receive loop and the flush reporter, which both report, do not send the same twice.
    /// </summary>
    private async ValueTask ReportAsync(
        IReplicationChannel<StandbyMessage, PrimaryMessage> channel, VectorDatabase database, CancellationToken cancellationToken, bool always = false)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The positions read here are sent, never the shared status: a report that read the status after the other
            // reporter overwrote it with older positions sent those and lost the fsync it was sent for.
            (long written, long flushed, long applied) = PublishPositions(database);
            var progress = new StandbyProgress(written, flushed, applied);
            if (!always && ReferenceEquals(_reported.Channel, channel) && _reported.Progress == progress)
            {
                return;
            }

            await channel.SendAsync(progress, cancellationToken).ConfigureAwait(false);
            _reported = (channel, progress);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendAsync(IReplicationChannel<StandbyMessage, PrimaryMessage> channel, StandbyMessage message, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await channel.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReplaceByBaseBackupAsync(string reason, CancellationToken cancellationToken)
    {
        _logger.LogWarning("Standby '{Name}': the primary requires a base backup ({Reason}); replacing the data in '{Directory}'.", _name, reason, _dataDirectory);
        VectorDatabase old = Database;
        await old.DisposeAsync().ConfigureAwait(false);
        await StandbyBaseBackup.InstallAsync(_dataDirectory, _options, _baseBackup, Status.Epoch, _logger, cancellationToken).ConfigureAwait(false);
        BaseBackups++;
        OpenDatabase();
        Interlocked.Exchange(ref _replaced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        DatabaseReplaced?.Invoke(this, Database);
    }

    /// <summary>
    /// The primary's history shows this standby's log diverged after <see cref="WalDiverged.KeepThroughLsn"/>: close the
    /// database, quarantine what follows that LSN (<see cref="StandbyRewind"/>), reopen, reconnect. When the directory
    /// cannot be rewound that far, a base backup replaces it and the old content is kept in its quarantine.
    /// </summary>
    private async Task RewindAsync(WalDiverged diverged, CancellationToken cancellationToken)
    {
        string reason = $"the primary of epoch {diverged.Epoch} began that epoch at LSN {diverged.KeepThroughLsn + 1}; this standby (epoch {Status.Epoch}) has records past it written under an older epoch";
        _logger.LogError(
            "Standby '{Name}': its log DIVERGED from the primary's after LSN {Keep} ({Reason}); rewinding: every record after LSN {Keep} is moved to the quarantine.",
            _name, diverged.KeepThroughLsn, reason, diverged.KeepThroughLsn);
        VectorDatabase old = Database;
        Volatile.Write(ref _closedForRewind, 1);
        await old.DisposeAsync().ConfigureAwait(false);
        if (StandbyRewind.CannotRewind(_dataDirectory, diverged.KeepThroughLsn) is { } why)
        {
            _logger.LogError("Standby '{Name}': it cannot be rewound ({Why}); taking a base backup, keeping the old data in the quarantine.", _name, why);
            string keep = Path.Combine(StandbyRewind.QuarantineDirectory, Path.GetFileName(StandbyRewind.QuarantineOf(_dataDirectory, diverged.Epoch, diverged.KeepThroughLsn)), "previous-data");
            await StandbyBaseBackup.InstallAsync(_dataDirectory, _options, _baseBackup, Status.Epoch, _logger, cancellationToken, keepOldIn: keep).ConfigureAwait(false);
            BaseBackups++;
            SetStatus(s => s with { Rewinds = s.Rewinds + 1 });
        }
        else
        {
            long records = StandbyRewind.Run(_dataDirectory, _options, diverged.Epoch, diverged.KeepThroughLsn, reason, _logger);
            SetStatus(s => s with { Rewinds = s.Rewinds + 1, RecordsQuarantined = s.RecordsQuarantined + records });
        }

        ReopenAfterRewind();
    }

    private void ReopenAfterRewind()
    {
        OpenDatabase();
        Volatile.Write(ref _closedForRewind, 0);
        Interlocked.Exchange(ref _replaced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        DatabaseReplaced?.Invoke(this, Database);
    }

    private (long Written, long Flushed, long Applied) PublishPositions(VectorDatabase database)
    {
        WalManager wal = database.Wal;
        long applied = database.AppliedLsn, durable = wal.DurableLsn, written = wal.WrittenLsn;
        long flushed = Math.Min(durable, written);
        SetStatus(s => s with { WrittenLsn = written, FlushedLsn = flushed, AppliedLsn = applied });
        return (written, flushed, applied);
    }

    private void SetStatus(Func<StandbyReceiverStatus, StandbyReceiverStatus> change)
    {
        lock (_statusLock)
        {
            Volatile.Write(ref _status, change(_status));
        }
    }

    /// <summary>The primary told this standby to take a base backup.</summary>
    private sealed class BaseBackupNeededException(string reason) : Exception(reason);

    /// <summary>The primary told this standby that its log diverged.</summary>
    private sealed class RewindNeededException(WalDiverged diverged) : Exception($"the log diverged after LSN {diverged.KeepThroughLsn}")
    {
        public WalDiverged Diverged { get; } = diverged;
    }
}

/// <summary>A standby's state, as one consistent value.</summary>
/// <param name="Connected">Whether a stream to the primary is open.</param>
/// <param name="Epoch">The highest epoch seen (persisted).</param>
/// <param name="WrittenLsn">Written to this standby's WAL.</param>
/// <param name="FlushedLsn">Durable in this standby's WAL.</param>
/// <param name="AppliedLsn">Visible to reads here.</param>
/// <param name="PrimaryLastLsn">The primary's newest LSN, as last reported.</param>
/// <param name="LastError">The last stream failure, or null.</param>
public sealed record StandbyReceiverStatus(bool Connected, long Epoch, long WrittenLsn, long FlushedLsn, long AppliedLsn, long PrimaryLastLsn, string? LastError)
{
    /// <summary>Rewinds done since the receiver started (its log diverged from its primary's; see docs/replication.md).</summary>
    public long Rewinds { get; init; }

    /// <summary>WAL records the rewinds moved to the quarantine.</summary>
    public long RecordsQuarantined { get; init; }
}

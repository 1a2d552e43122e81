using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OxiVec.Wal;

/// <summary>
/// A write-ahead log: the guide's <c>WalManager</c> (and <c>AsyncWalManager</c>). Appends entries, makes them
/// durable as <see cref="WalConfig.SyncIntervalMs"/> says, groups concurrent commits into one fsync, rotates
/// segments, and reads the log back. One process per directory (an exclusive lock).
/// </summary>
/// <remarks>
/// <para>Opening scans the newest segment for its tail. A torn last write (a crash mid-append; never
/// acknowledged) is zeroed out and reported in <see cref="OpenReport"/>; anything else invalid throws
/// <see cref="WalCorruptionException"/> naming the file and offset, and nothing is changed.</para>
/// <para>With <c>SyncIntervalMs = 0</c> an append returns only after an fsync covers it. With a positive
/// interval it returns once the operating system has the bytes (a process crash loses nothing) and a background
/// flusher fsyncs every interval (a power loss loses at most one interval).</para>
/// <para>Thread safe. Every method throws <see cref="WalFailedException"/> after a write or fsync failed.</para>
/// </remarks>
public sealed partial class WalManager : IDisposable, IAsyncDisposable
{
    private readonly IWalStorage _storage;
    private readonly IDisposable _directoryLock;
    private readonly WalWriter _writer;

    /// <summary>Segments created from zero-filled spares so far (tests).</summary>
    internal int SparesUsed => _writer.SparesUsed;

    /// <summary>The segments as they are now, without waiting for pending writes (what a live read works from).</summary>
    internal WalSegmentSet Segments => _writer.Segments;

    /// <summary>Commit waiters woken before an fsync covered them (tests: group commit wakes only the batch an fsync covered).</summary>
    internal long UncoveredWakeups => _writer.UncoveredWakeups;

    /// <summary>Commits counted in the running fsync's batch and the next one, the syncer's own included (tests).</summary>
    internal int WaitingCommits => _writer.WaitingCommits;

    /// <summary>Whether a small write into the active segment would be a copy into its mapping (tests).</summary>
    internal bool ActiveSegmentIsMapped => _writer.ActiveSegmentIsMapped;

    /// <summary>Single-entry appends written at once, as they were appended (tests).</summary>
    internal long SingleAppendsWritten => _writer.SingleAppendsWritten;

    /// <summary>Waits until the pages asked for ahead of the written end are faulted in (tests).</summary>
    internal void WaitPrefaulted() => _writer.WaitPrefaulted();

    /// <summary>Whether a filled spare waits for the next rotation (tests).</summary>
    internal bool SpareReady => _writer.SpareReady;

    private readonly WalInstrumentation _instrumentation;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _intervalFlusher;
    private readonly WalCheckpointLag _checkpointLag;
    private int _disposed;

    private WalManager(
        WalConfig config, IWalStorage storage, IDisposable directoryLock, WalWriter writer, WalInstrumentation instrumentation,
        TimeProvider time, ILogger logger, WalOpenReport report, long? lastCheckpointTimestamp)
    {
        Config = config;
        _storage = storage;
        _directoryLock = directoryLock;
        _writer = writer;
        _instrumentation = instrumentation;
        _time = time;
        _logger = logger;
        OpenReport = report;
        _checkpointLag = new WalCheckpointLag(time, writer.AppendedLsn, lastCheckpointTimestamp);
        _intervalFlusher = config.SyncIntervalMs > 0 ? RunIntervalFlusherAsync(_stopping.Token) : Task.CompletedTask;
    }

    /// <summary>The configuration the WAL was opened with.</summary>
    public WalConfig Config { get; }

    /// <summary>What opening found: segments, last LSN, a torn tail that was cut, a transaction that was aborted.</summary>
    public WalOpenReport OpenReport { get; }

    /// <summary>The full path of the WAL directory.</summary>
    public string Directory => _storage.Directory;

    /// <summary>The newest LSN appended (0 when the WAL is empty).</summary>
    public long LastLsn => _writer.AppendedLsn;

    /// <summary>The newest LSN known to be on stable storage.</summary>
    public long DurableLsn => _writer.DurableLsn;

    /// <summary>The largest payload one entry may encode to (a record must fit in one segment).</summary>
    public int MaxEntryPayloadBytes => _writer.MaxPayload;

    /// <summary>Opens the WAL in <see cref="WalConfig.WalDir"/>, creating it when the directory holds none.</summary>
    /// <param name="config">The settings; validated here.</param>
    /// <param name="logger">Receives repairs, slow fsyncs and failures; none by default.</param>
    /// <param name="timeProvider">The clock for timestamps and the sync interval; the system clock by default.</param>
    /// <param name="meterFactory">Creates the <c>OxiVec.Wal</c> meter (dependency injection); a standalone meter by default.</param>
    /// <exception cref="ArgumentException">The configuration is invalid; the message names the property.</exception>
    /// <exception cref="WalLockedException">Another process has the WAL open.</exception>
    /// <exception cref="WalCorruptionException">The WAL is damaged other than by a torn last write.</exception>
    public static WalManager Open(
        WalConfig config, ILogger? logger = null, TimeProvider? timeProvider = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        return Open(new FileSystemWalStorage(config.WalDir, config.MemoryMappedSegments), config, logger, timeProvider, meterFactory);
    }

    /// <summary>
    /// Opens the WAL on <paramref name="storage"/>. With <paramref name="skipCorrupted"/> (recovery that passes over
    /// damage, losing data), corruption in the newest segment is skipped to the real tail instead of thrown, reported
    /// in <see cref="WalOpenReport.SkippedRanges"/>, and the next record starts a new segment so the damaged one is sealed.
    /// </summary>
    /// <remarks>
    /// <paramref name="coveredLsn"/> is the newest checkpoint's LSN, when there is one: a hole between segments whose
    /// missing records all lie at or below it (a retention a power loss interrupted) is accepted, and the segments
    /// before the hole are deleted as leftovers. Any other hole is corruption.
    /// </remarks>
    internal static WalManager Open(
        IWalStorage storage, WalConfig config, ILogger? logger = null, TimeProvider? timeProvider = null, IMeterFactory? meterFactory = null,
        bool skipCorrupted = false, long? coveredLsn = null, bool standby = false, long firstLsn = 1)
    {
        config.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(firstLsn, 1);
        logger ??= NullLogger.Instance;
        TimeProvider time = timeProvider ?? TimeProvider.System;
        IDisposable directoryLock = storage.AcquireLock();
        WalInstrumentation? instrumentation = null;
        try
        {
            instrumentation = new WalInstrumentation(logger, time, meterFactory, storage.Directory);
            return WalOpener.Open(storage, config, time, logger, instrumentation, skipCorrupted, (writer, report, checkpointTimestamp) =>
                new WalManager(config, storage, directoryLock, writer, instrumentation, time, logger, report, checkpointTimestamp), coveredLsn, standby, firstLsn);
        }
        catch
        {
            instrumentation?.Dispose();
            directoryLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Appends one entry and waits as the sync policy says. Returns its LSN.
    /// </summary>
    /// <exception cref="ArgumentException">The entry cannot be logged (too large, a field too long); nothing is written.</exception>
    /// <exception cref="WalFailedException">The WAL has failed.</exception>
    public long Append(WalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        long start = Stopwatch.GetTimestamp();
        long lsn = AppendSingleUnacknowledged(entry);
        WaitAcknowledged(lsn, entry.Type == WalRecordType.Checkpoint, start);
        return lsn;
    }

    /// <summary>Asynchronous <see cref="Append"/>; cancellation abandons the wait for durability, not the write.</summary>
    public ValueTask<long> AppendAsync(WalEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return AppendBatchAsync([entry], transactional: false, cancellationToken);
    }

    /// <summary>Appends an insert (the guide's <c>log_insert</c>). Returns its LSN.</summary>
    public long LogInsert(string collection, string id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> metadata = default) =>
        Append(new WalEntry.Insert(collection, id, vector, metadata));

    /// <summary>Appends an update. Returns its LSN.</summary>
    public long LogUpdate(string collection, string id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> metadata = default) =>
        Append(new WalEntry.Update(collection, id, vector, metadata));

    /// <summary>Appends a delete. Returns its LSN.</summary>
    public long LogDelete(string collection, string id) => Append(new WalEntry.Delete(collection, id));

    /// <summary>Appends an application-defined operation (the guide's custom entries). Returns its LSN.</summary>
    public long LogEntry(string operation, ReadOnlyMemory<byte> payload) => Append(new WalEntry.Custom(operation, payload));

    /// <summary>Starts a transaction: its entries are written together, atomically, with one fsync.</summary>
    public WalTransaction BeginTransaction()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new WalTransaction(this);
    }

    /// <summary>Writes and fsyncs everything appended so far.</summary>
    /// <exception cref="WalFailedException">A write or fsync failed.</exception>
    public void Sync() => _writer.WaitFor(_writer.AppendedLsn, durable: true);

    /// <summary>Asynchronous <see cref="Sync"/> (the guide's <c>flush().await</c>).</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) =>
        _writer.WaitForAsync(_writer.AppendedLsn, durable: true, cancellationToken);

    /// <summary>
    /// Streams the records with LSN ≥ <paramref name="fromLsn"/> (transaction markers included), one segment in memory
    /// at a time; 0 (the default) starts at the oldest record retained.
    /// </summary>
    /// <exception cref="WalCorruptionException">Damaged data, or <paramref name="fromLsn"/> (1 or more) is no longer retained.</exception>
    public IEnumerable<WalRecord> ReadRecords(long fromLsn = 0) => Reader().ReadRecords(fromLsn);

    /// <summary>
    /// Streams records like <see cref="ReadRecords(long)"/>, reading and checksumming up to
    /// <paramref name="parallelism"/> segments ahead on worker threads (parallel recovery).
    /// </summary>
    public IEnumerable<WalRecord> ReadRecords(long fromLsn, int parallelism) => Reader().ReadRecords(fromLsn, parallelism);

    /// <summary>Streams the decoded entries with LSN ≥ <paramref name="fromLsn"/> (the guide's <c>read_all_entries</c>; 0, the default: from the oldest retained).</summary>
    /// <exception cref="WalCorruptionException">Damaged data, or <paramref name="fromLsn"/> (1 or more) is no longer retained.</exception>
    public IEnumerable<WalEntry> ReadAllEntries(long fromLsn = 0) => Reader().ReadAllEntries(fromLsn);

    /// <summary>
    /// Streams records like <see cref="ReadRecords(long)"/> but passes over damage, reporting each lost range to
    /// <paramref name="skipped"/> (recovery with <c>SkipCorruptedEntries</c>).
    /// </summary>
    /// <remarks>Each skipped range is first copied into the quarantine (see <see cref="WalQuarantine"/>); the range passed on names the copy.</remarks>
    internal IEnumerable<WalRecord> ReadRecordsSkippingCorruption(long fromLsn, Action<WalSkippedRange> skipped) =>
        Reader().ReadRecords(fromLsn, range =>
        {
            string? copy = WalQuarantine.Keep(_storage, range);
            _logger.LogError(
                "WAL: skipping LSN {From}-{To} ({Bytes} bytes at offset {Offset} of '{File}'); the bytes are kept in '{Copy}'.",
                range.FromLsn, range.ToLsn, range.Bytes, range.Offset, range.SegmentFile, copy is null ? "(none: nothing but zeros)" : Path.Combine(Directory, copy));
            skipped(range with { QuarantineFile = copy });
        });

    /// <summary>Checks every record's framing and checksum (the guide's <c>verify_wal</c>).</summary>
    public WalVerifyReport Verify() => Reader().Verify();

    /// <summary>
    /// The guide's WAL metrics, plus percentiles, sync count and positions. Latencies and the current entry rate cover
    /// the last minute; lifetime averages and an hour's rate baseline are kept beside them.
    /// </summary>
    /// <remarks>The first call after an open reads the last record the WAL held then, to learn whether a checkpoint ended it.</remarks>
    public WalMetrics GetMetrics()
    {
        (int segments, long bytes, long firstLsn) = _writer.Footprint();
        // Damage an open with skipCorrupted passed over is reported there; this lookup only needs the last record.
        // A record the WAL no longer holds (dropped by retention, or before a standby's base backup) was covered by a checkpoint.
        (TimeSpan checkpointAge, TimeSpan? uncoveredAge) = _checkpointLag.Read(lsn =>
            lsn < firstLsn || Reader().ReadRecords(lsn, skipped: static _ => { }).FirstOrDefault() is { Type: WalRecordType.Checkpoint } last && last.Lsn == lsn);
        long last = _writer.AppendedLsn;
        return _instrumentation.Describe(new WalMetrics
        {
            CurrentSizeBytes = bytes,
            MaxSizeBytes = Config.MaxWalSize,
            TotalEntries = Math.Max(0, last - firstLsn + 1),
            LastCheckpointAge = checkpointAge,
            OldestUncoveredRecordAge = uncoveredAge,
            LastLsn = last,
            DurableLsn = _writer.DurableLsn,
            SegmentCount = segments,
            IsFailed = _writer.IsFailed,
            MaintenanceFailures = _instrumentation.MaintenanceFailures,
            ClockSteps = _instrumentation.ClockSteps,
        });
    }

    /// <summary>Applies the guide's health thresholds to the current metrics.</summary>
    public WalHealthReport CheckHealth() => WalHealthReport.Evaluate(GetMetrics());

    /// <summary>
    /// Deletes the sealed segments that hold only records with LSN ≤ <paramref name="lsn"/> (the active segment is
    /// never deleted). Call it only for LSNs covered by a durable checkpoint: the records are gone for good.
    /// Returns how many segment files were deleted.
    /// </summary>
    /// <exception cref="IOException">A deletion failed; the segments before it are gone, none after it.</exception>
    /// <exception cref="WalFailedException">The directory fsync failed: the WAL has failed, as for any fsync.</exception>
    public int RemoveSegmentsThrough(long lsn)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _writer.RemoveSegmentsThrough(lsn);
    }

    /// <summary>
    /// Compresses (zstd) the sealed segments older than <paramref name="olderThan"/> (default:
    /// <see cref="WalConfig.CompressionThresholdAgeHours"/>). Compressed segments stay readable for reads,
    /// verification, recovery and point-in-time recovery. Returns how many segments were compressed and the bytes saved.
    /// A segment that cannot be compressed (a full disk, say) ends the step without an exception: it is logged,
    /// counted in <see cref="WalMetrics.MaintenanceFailures"/>, and tried again by the next call.
    /// </summary>
    /// <exception cref="WalFailedException">An fsync failed: the WAL has failed, as for any fsync.</exception>
    public (int Segments, long BytesSaved) CompressSealedSegments(TimeSpan? olderThan = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        TimeSpan age = olderThan ?? TimeSpan.FromHours(Config.CompressionThresholdAgeHours);
        return _writer.CompressSealed(age);
    }

    /// <summary>Bytes of records in the live segments (cheap; <see cref="GetMetrics"/> has the rest).</summary>
    public long CurrentSizeBytes => _writer.Footprint().Bytes;

    /// <summary>
    /// Tells the WAL when the newest checkpoint was written, for <see cref="WalMetrics.LastCheckpointAge"/> after a
    /// reopen whose scanned tail holds no checkpoint record (the segment rotated since). Ignored when the WAL knows a
    /// newer one.
    /// </summary>
    internal void NoteCheckpointWritten(DateTimeOffset created) => _checkpointLag.CheckpointWrittenAt(TimestampOf(_time, created));

    /// <summary>The <see cref="TimeProvider"/> timestamp of a past UTC time.</summary>
    internal static long TimestampOf(TimeProvider time, DateTimeOffset when) =>
        time.GetTimestamp() - (long)((time.GetUtcNow() - when).TotalSeconds * time.TimestampFrequency);

    /// <summary>Bytes of records written to the segment files by this process (a monotonic count, not lowered by retention).</summary>
    internal long BytesAppended => _instrumentation.ByteCount;

    /// <summary>The name of the oldest segment file, for messages.</summary>
    internal string? FirstSegmentName => Reader().Segments() is { Count: > 0 } segments ? segments[0].Name : null;

    /// <summary>The oldest LSN the WAL still holds (1 until segments are removed).</summary>
    public long FirstLsn => _writer.Footprint().FirstLsn;

    /// <summary>Stops the interval flusher, writes and fsyncs what is pending, and releases the directory.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        try
        {
            _intervalFlusher.GetAwaiter().GetResult();
            _writer.Dispose();
        }
        finally
        {
            _instrumentation.Dispose();
            _directoryLock.Dispose();
            _stopping.Dispose();
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _intervalFlusher.ConfigureAwait(false);
        Dispose();
    }

    internal long AppendBatch(IReadOnlyList<WalEntry> entries, bool transactional)
    {
        long start = Stopwatch.GetTimestamp();
        long lsn = AppendUnacknowledged(entries, transactional);
        WaitAcknowledged(lsn, entries, start);
        return lsn;
    }

    internal async ValueTask<long> AppendBatchAsync(IReadOnlyList<WalEntry> entries, bool transactional, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        long lsn = AppendUnacknowledged(entries, transactional);
        await WaitAcknowledgedAsync(lsn, entries, start, cancellationToken).ConfigureAwait(false);
        return lsn;
    }

    /// <summary>
    /// First half of an append, for callers that must order their own state by LSN (the store): encodes and
    /// buffers the entries, returns the last LSN, and does no I/O. Finish with <see cref="WaitAcknowledged(long, IReadOnlyList{WalEntry}, long, bool)"/>.
    /// </summary>
    internal long AppendUnacknowledged(IReadOnlyList<WalEntry> entries, bool transactional)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        long lsn = _writer.Append(entries, transactional);
        _checkpointLag.Logged(lsn, entries.Count > 0 && entries[^1].Type == WalRecordType.Checkpoint);
        return lsn;
    }

    /// <summary>
    /// <see cref="AppendUnacknowledged"/> of one entry, not transactional, without the arrays of a batch. When the
    /// record can be written without a system call (a mapped segment, nothing else pending) it is written before this
    /// returns, so that with an interval policy <see cref="WaitAcknowledged(long, bool, long, bool, long)"/> has nothing left to do.
    /// </summary>
    internal long AppendSingleUnacknowledged(WalEntry entry)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        long lsn = _writer.AppendSingle(entry, out long now);
        _checkpointLag.Logged(lsn, entry.Type == WalRecordType.Checkpoint, now); // the append's clock read: the lag and the writer share the time provider
        return lsn;
    }

    /// <summary>
    /// <see cref="AppendSingleUnacknowledged(WalEntry)"/> of an insert or update given by its fields (the store's
    /// single writes): the same record, with no entry object per write. Gives the <see cref="Stopwatch"/> timestamp the
    /// append read (<paramref name="appendedAt"/>; 0 when this WAL runs on another time provider) for
    /// <see cref="WaitAcknowledged(long, bool, long, bool, long)"/>: an acknowledgement that waits for nothing is
    /// timed at the append, with no clock read of its own.
    /// </summary>
    internal long AppendSingleUnacknowledged(in VectorPayload record, out long appendedAt)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        long lsn = _writer.AppendSingle(record, out long now);
        _checkpointLag.Logged(lsn, checkpoint: false, now); // the append's clock read: the lag and the writer share the time provider
        appendedAt = ReferenceEquals(_time, TimeProvider.System) ? now : 0; // the system provider's timestamps are Stopwatch's
        return lsn;
    }

    /// <summary>
    /// Second half of an append: waits until <paramref name="lsn"/> is as durable as the policy requires, or fsynced
    /// whatever the policy when <paramref name="forceDurable"/> (prepared-transaction records).
    /// </summary>
    internal void WaitAcknowledged(long lsn, IReadOnlyList<WalEntry> entries, long startTimestamp, bool forceDurable = false) =>
        WaitAcknowledged(lsn, entries.Count > 0 && entries[^1].Type == WalRecordType.Checkpoint, startTimestamp, forceDurable);

    /// <summary>
    /// <see cref="WaitAcknowledged(long, IReadOnlyList{WalEntry}, long, bool)"/> for a commit whose last record is a
    /// checkpoint record when <paramref name="endsWithCheckpoint"/>. With an interval policy a record already written
    /// (in the page cache: it survives a process crash) is acknowledged without entering the writer, unless the WAL has failed.
    /// </summary>
    /// <param name="lsn">The commit's last LSN.</param>
    /// <param name="endsWithCheckpoint">Whether its last record is a checkpoint record.</param>
    /// <param name="startTimestamp">When the write began (<see cref="Stopwatch.GetTimestamp"/>), for the commit latency.</param>
    /// <param name="forceDurable">Fsynced whatever the policy.</param>
    /// <param name="appendedAt">
    /// The append's <see cref="Stopwatch"/> timestamp (<see cref="AppendSingleUnacknowledged(in VectorPayload, out long)"/>),
    /// or 0: when nothing is waited for, the commit is acknowledged as of its append.
    /// </param>
    internal void WaitAcknowledged(long lsn, bool endsWithCheckpoint, long startTimestamp, bool forceDurable = false, long appendedAt = 0)
    {
        bool durable = forceDurable || Config.SyncIntervalMs == 0;
        if (durable || _writer.WrittenLsn < lsn || _writer.IsFailed)
        {
            _writer.WaitFor(lsn, durable);
            appendedAt = 0; // it waited: acknowledged now
        }

        Acknowledged(endsWithCheckpoint, startTimestamp, appendedAt);
    }

    /// <summary>Asynchronous <see cref="WaitAcknowledged(long, IReadOnlyList{WalEntry}, long, bool)"/>.</summary>
    internal ValueTask WaitAcknowledgedAsync(
        long lsn, IReadOnlyList<WalEntry> entries, long startTimestamp, CancellationToken cancellationToken, bool forceDurable = false) =>
        WaitAcknowledgedAsync(lsn, entries.Count > 0 && entries[^1].Type == WalRecordType.Checkpoint, startTimestamp, cancellationToken, forceDurable);

    /// <summary>Asynchronous <see cref="WaitAcknowledged(long, bool, long, bool, long)"/>.</summary>
    internal async ValueTask WaitAcknowledgedAsync(
        long lsn, bool endsWithCheckpoint, long startTimestamp, CancellationToken cancellationToken, bool forceDurable = false)
    {
        bool durable = forceDurable || Config.SyncIntervalMs == 0;
        if (durable || _writer.WrittenLsn < lsn || _writer.IsFailed)
        {
            await _writer.WaitForAsync(lsn, durable, cancellationToken).ConfigureAwait(false);
        }

        Acknowledged(endsWithCheckpoint, startTimestamp);
    }

    private void Acknowledged(bool endsWithCheckpoint, long startTimestamp, long acknowledgedAt = 0)
    {
        long now = acknowledgedAt != 0 ? acknowledgedAt : Stopwatch.GetTimestamp(); // one clock read (at most) for the latency and its sample's stamp
        _instrumentation.Committed(Stopwatch.GetElapsedTime(startTimestamp, now), now);
        if (endsWithCheckpoint)
        {
            _writer.RecordDurablePointNow(); // every checkpoint record updates the control file, whatever the rate limit
        }
    }

    private WalReader Reader()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        WalDurablePoint? durable = _writer.ControlPoint; // before the snapshot, which then reaches at least as far
        return new WalReader(_storage, _writer.SnapshotSegments(), durable);
    }

    private async Task RunIntervalFlusherAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Config.SyncIntervalMs), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                long target = _writer.AppendedLsn;
                if (_writer.DurableLsn < target)
                {
                    await _writer.WaitForAsync(target, durable: true, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposal: the final fsync happens in Dispose.
        }
        catch (WalFailedException ex)
        {
            _logger.LogError(ex, "The WAL interval flusher stopped: the WAL has failed.");
        }
    }
}

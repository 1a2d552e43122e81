using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace OxiVec.Wal;

/// <summary>
/// Appends records and makes them durable with group commit.
/// </summary>
/// <remarks>
/// <para>Appending (under <c>_appendLock</c>) assigns LSNs, encodes records into an in-memory pending buffer and
/// decides segment boundaries; it never does I/O. Writing and fsync happen in <see cref="WaitFor"/>, in two
/// independent roles. The writer (whoever holds <c>_writeLock</c>) writes everything pending in one write per
/// segment, so committers queued behind it usually find their records written. The syncer (one at a time) writes
/// what is pending, fsyncs it, then wakes the commits it covered; the next batch is handed on (see
/// WalWriter.GroupCommit.cs). So concurrent committers share one write and one fsync, and an fsync never blocks a
/// write: with an interval policy, acknowledgements (which need only the write) never wait for the flusher's fsync.</para>
/// <para>A segment is fsynced before the next one is named, so every segment but the newest is wholly durable; with
/// an interval policy a background fsync starts whenever 8 MiB are unsynced, which keeps that fsync short. The next
/// segment comes from a spare made in the background: a rotation writes into it at once, and a background sealer
/// fsyncs the sealed segment and the spare, renames it, fsyncs the directory and cuts the sealed segment to its
/// records (see <see cref="StartSegment"/>). Never two fsyncs are in flight on one file: a seal that meets the
/// syncer's fsync of the same segment waits for it (see <see cref="SyncFileOnly"/>).</para>
/// <para>The segments are published as one immutable <see cref="WalSegmentSet"/> (sealed list, active segment, its
/// written end), replaced in one swap at every seal, removal and compression; a write only advances the written end
/// kept beside it (<see cref="LiveSegments"/>), and <see cref="Segments"/> hands out a set that includes it.</para>
/// <para>Every record carries its durable distance: its LSN minus the newest LSN known durable when it was
/// appended. The reader uses it to tell a torn, never-acknowledged tail from lost durable data.</para>
/// <para>A failed write or fsync is final: the writer enters the failed state and every later call throws
/// <see cref="WalFailedException"/>.</para>
/// </remarks>
internal sealed partial class WalWriter : IDisposable
{
    private readonly IWalStorage _storage;
    private readonly WalConfig _config;
    private readonly TimeProvider _time;
    private readonly WalInstrumentation _instrumentation;
    private readonly int _maxPayload;

    /// <summary>With an interval sync policy, unsynced bytes that start a background fsync (PostgreSQL's wal_writer_flush_after, larger).</summary>
    private const long BackgroundSyncBytes = 8 << 20;

    /// <summary>The largest pending buffer kept between writes (a larger one, grown for a big batch, goes back to the pool).</summary>
    private const int MaxReusableChunkBytes = 1 << 20;

    // Append state, guarded by _appendLock.
    private readonly Lock _appendLock = new();
    private SegmentState _appendSegment;
    private long _appendOffset;
    private long _nextLsn;
    private readonly WalClock _clock;
    private List<PendingChunk> _pending = [];
    private List<PendingChunk> _spare = [];
    private PendingChunk? _reusableChunk; // a written chunk kept with its buffer for the next append
    private bool _rotationRequested;

    // Write state, guarded by _writeLock: whoever holds it writes every pending record (group write). Committers
    // that need a write elect one writer at a time through _writeGate and follow its epoch.
    private readonly Lock _writeLock = new();
    private readonly Lock _writeGate = new();
    private bool _writeBusy;
    private TaskCompletionSource? _writeEpoch; // made by the first committer that follows the running write, if any
    private SegmentState _activeSegment;
    [SuppressMessage("Performance", "CA1859", Justification = "Used through IWalFile everywhere; a SharedWalFile only so that a rotation can share it with a running fsync and the sealer.")]
    private IWalFile _activeFile; // always a SharedWalFile
    private long _unsyncedBytes;
    private bool _backgroundSyncQueued;
    private IWalFile? _fileBeingSynced;

    // Published positions.
    private long _appendedLsn;
    private long _writtenLsn;
    private long _durableLsn;
    private volatile Exception? _failure;

    // The segments: an immutable set replaced (read, changed, written back) under _segmentsLock at every seal,
    // removal and compression, with the active segment's written end beside it in a cell that every set of the same
    // active segment shares, advanced by the writer (under _writeLock, no other lock) at every write without a new
    // set (see LiveSegments). Only the write path (under _writeLock) changes the active segment, only maintenance the
    // sealed list.
    private readonly Lock _segmentsLock = new();
    private LiveSegments _segments;
    private readonly Dictionary<ulong, long> _segmentStarted = []; // segment id -> Started, for segments begun in this process

    // Rotation's background half. _sealer: the thread that seals each segment rotated away from (posted to under _writeLock, waited
    // for there, by retention, compression and at close). _pendingSeal: the rotation from a spare whose sealed-segment fsync,
    // rename and directory fsync are not all done yet (guarded by _nameLock, which also orders those steps).
    private readonly WalBackgroundWorker _sealer = new("OxiVec WAL segment sealer");
    private volatile string? _sealingName; // the segment the sealer is cutting, which compression leaves alone until it is done
    private readonly Lock _nameLock = new();
    private PendingSeal? _pendingSeal;

    /// <summary>Takes over an open segment file positioned after its last valid record (see <see cref="WalManager"/>'s open).</summary>
    public WalWriter(
        IWalStorage storage, WalConfig config, TimeProvider time, WalInstrumentation instrumentation,
        List<SegmentBound> sealedSegments, IWalFile activeFile, WalSegmentHeader activeHeader, long activeEnd, long lastLsn, long lastTimestampMicros)
    {
        _storage = storage;
        _config = config;
        _time = time;
        _instrumentation = instrumentation;
        _maxPayload = (int)Math.Min(WalFormat.MaxPayloadLength, config.SegmentSizeBytes - WalFormat.SegmentHeaderSize - WalFormat.RecordHeaderSize);
        _activeFile = new SharedWalFile(activeFile);
        // The reopened segment's age so far comes from the wall clock once (never negative); from here on it is monotonic.
        long ageMicros = Math.Max(0, WalRecord.ToMicros(time.GetUtcNow()) - activeHeader.CreatedUnixMicros);
        long started = time.GetTimestamp() - (long)(ageMicros / 1e6 * time.TimestampFrequency);
        _activeSegment = new SegmentState(activeHeader.SegmentId, activeHeader.FirstLsn, activeHeader.Salt, activeHeader.CreatedUnixMicros, activeFile.Name, started);
        _segmentStarted[activeHeader.SegmentId] = started;
        _segments = new LiveSegments(new WalSegmentSet([.. sealedSegments], new SegmentBound(activeFile.Name, activeHeader.SegmentId, activeHeader.FirstLsn, activeEnd)));
        _appendSegment = _activeSegment;
        _appendOffset = activeEnd;
        _nextLsn = lastLsn + 1;
        _appendedLsn = _writtenLsn = _durableLsn = lastLsn;
        _clock = new WalClock(time, instrumentation, lastTimestampMicros);
    }

    public long AppendedLsn => Volatile.Read(ref _appendedLsn);

    public long DurableLsn => Volatile.Read(ref _durableLsn);

    public bool IsFailed => _failure is not null;

    /// <summary>The largest payload one record may have: a record must fit in one segment.</summary>
    public int MaxPayload => _maxPayload;

    /// <summary>
    /// Encodes and buffers <paramref name="entries"/> as consecutive records, framed by begin and commit records
    /// when <paramref name="transactional"/>. Returns the LSN of the last record written (the commit record for a
    /// transaction). Does no I/O; call <see cref="WaitFor"/> for the record to be written or made durable.
    /// </summary>
    /// <exception cref="ArgumentException">An entry cannot be encoded or is larger than a segment allows; nothing is appended.</exception>
    public long Append(IReadOnlyList<WalEntry> entries, bool transactional)
    {
        int[] sizes = ArrayPool<int>.Shared.Rent(entries.Count);
        try
        {
            for (int i = 0; i < entries.Count; i++)
            {
                WalEntry entry = entries[i] ?? throw new ArgumentException($"Entry {i} is null.", nameof(entries));
                if (transactional && entry.Type is WalRecordType.TransactionBegin or WalRecordType.TransactionCommit or WalRecordType.TransactionAbort)
                {
                    throw new ArgumentException($"Entry {i} is a {entry.Type} record; transactions add their own markers.", nameof(entries));
                }

                sizes[i] = WalEntryCodec.GetPayloadSize(entry);
                ThrowIfTooLarge(i, entry.Type, sizes[i], nameof(entries));
            }

            return AppendGuarded(new BatchAppend(entries, sizes, transactional));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(sizes);
        }
    }

    /// <summary>
    /// Runs <paramref name="append"/> under the append lock, as every append of the primary does: refused once the WAL
    /// has failed or on a standby; an exception half-way fails the WAL, since a half-encoded record may sit in the
    /// pending buffer or the segment and nothing after it could be trusted. Generic over a struct: no delegate, no allocation.
    /// </summary>
    private long AppendGuarded<TAppend>(TAppend append)
        where TAppend : struct, IAppendLocked =>
        AppendGuarded(append, out _);

    /// <summary>
    /// <see cref="AppendGuarded{TAppend}(TAppend)"/>, giving the monotonic timestamp (<see cref="TimeProvider.GetTimestamp"/>
    /// of this writer's clock) the append read, for a caller that would read the clock again at once.
    /// </summary>
    private long AppendGuarded<TAppend>(TAppend append, out long timestamp)
        where TAppend : struct, IAppendLocked
    {
        lock (_appendLock)
        {
            ThrowIfFailed();
            if (Standby)
            {
                throw new InvalidOperationException($"The WAL in '{_storage.Directory}' is a standby's: it takes only records replicated from its primary.");
            }

            try
            {
                long last = append.AppendLocked(this);
                timestamp = _clock.LastMonotonic;
                return last;
            }
            catch (Exception ex)
            {
                Fail(ex);
                throw;
            }
        }
    }

    /// <summary>Refuses entry <paramref name="index"/> when its payload of <paramref name="payloadSize"/> bytes cannot fit in one segment.</summary>
    private void ThrowIfTooLarge(int index, WalRecordType type, int payloadSize, string paramName)
    {
        if (payloadSize > _maxPayload)
        {
            throw new ArgumentException(
                $"Entry {index} ({type}) is {payloadSize} bytes; a record must fit in one segment, so at most {_maxPayload} bytes " +
                $"with SegmentSizeBytes = {_config.SegmentSizeBytes}.", paramName);
        }
    }

    /// <summary>The segments and how far each holds records, after writing everything appended so far.</summary>
    public IReadOnlyList<SegmentBound> SnapshotSegments()
    {
        WaitFor(AppendedLsn, durable: false);
        return Segments.All;
    }

    /// <summary>The segments as they are now: one consistent value, never a list of one moment with the active segment of another.</summary>
    public WalSegmentSet Segments => Volatile.Read(ref _segments).Current();

    /// <summary>Makes the next record start a new segment (when the current one holds any record).</summary>
    public void RequestRotation()
    {
        lock (_appendLock)
        {
            _rotationRequested = true;
        }
    }

    /// <summary>Segment count, bytes of records on disk, and the oldest LSN retained.</summary>
    public (int Segments, long Bytes, long FirstLsn) Footprint()
    {
        WalSegmentSet segments = Segments;
        return (segments.Count, segments.Bytes, segments.FirstLsn);
    }

    /// <summary>Writes and fsyncs what is pending, unless the writer has failed; then closes the segment.</summary>
    public void Dispose()
    {
        try
        {
            if (_failure is null)
            {
                WaitFor(AppendedLsn, durable: true);
            }
        }
        finally
        {
            CloseGroupCommit(); // waits for a running fsync; a background fsync queued later finds the writer closed

            WaitForSealer();
            _sealer.Dispose();
            _prefaulter.Dispose();
            StopSpares();
            try
            {
                Control?.Close(FinalDurablePoint()); // after the final fsync: everything written is known durable
            }
            finally
            {
                _activeFile.Dispose();
                SignalPositions();
            }
        }
    }

    private long AppendLocked(IReadOnlyList<WalEntry> entries, int[] sizes, bool transactional)
    {
        long now = _clock.Next(out WalClockStep? freeze);
        long durable = Volatile.Read(ref _durableLsn);
        long firstLsn = _nextLsn;
        if (freeze is not null)
        {
            // Marks where timestamps start to repeat, so recovery by time can say its target falls in that window.
            WalEntry.Custom step = freeze.ToEntry();
            WriteRecordLocked(step, WalEntryCodec.GetPayloadSize(step), WalRecordFlags.None, now, durable);
        }

        long beginLsn = _nextLsn;
        if (transactional)
        {
            var begin = new WalEntry.TransactionBegin(entries.Count);
            WriteRecordLocked(begin, WalEntryCodec.GetPayloadSize(begin), WalRecordFlags.None, now, durable);
        }

        WalRecordFlags flags = transactional ? WalRecordFlags.TransactionMember : WalRecordFlags.None;
        for (int i = 0; i < entries.Count; i++)
        {
            WriteRecordLocked(entries[i], sizes[i], flags, now, durable);
        }

        if (transactional)
        {
            var commit = new WalEntry.TransactionCommit(beginLsn, entries.Count);
            WriteRecordLocked(commit, WalEntryCodec.GetPayloadSize(commit), WalRecordFlags.None, now, durable);
        }

        long last = _nextLsn - 1;
        Volatile.Write(ref _appendedLsn, last);
        _instrumentation.RecordsAppended(last - firstLsn + 1, _clock.LastMonotonic); // the clock and the meters share the time provider
        return last;
    }

    private void WriteRecordLocked(WalEntry entry, int payloadSize, WalRecordFlags flags, long timestampMicros, long durableLsn) =>
        WriteRecordLocked(new EntryPayload(entry), payloadSize, flags, timestampMicros, durableLsn);

    private void WriteRecordLocked<TPayload>(TPayload payload, int payloadSize, WalRecordFlags flags, long timestampMicros, long durableLsn)
        where TPayload : struct, IWalPayload
    {
        Debug.Assert(_appendLock.IsHeldByCurrentThread, "appends are serialised by _appendLock");
        int size = WalFormat.RecordSize(payloadSize);
        if (NeedsRotationLocked(size))
        {
            _appendSegment = new SegmentState(
                _appendSegment.Id + 1, _nextLsn, (uint)Random.Shared.Next(int.MinValue, int.MaxValue), timestampMicros,
                WalSegmentName.Format(_appendSegment.Id + 1, _nextLsn), _time.GetTimestamp());
            _appendOffset = WalFormat.SegmentHeaderSize;
        }

        Span<byte> record = Reserve(size);
        long lsn = _nextLsn;
        payload.Encode(record.Slice(WalFormat.RecordHeaderSize, payloadSize));
        uint distance = (uint)Math.Min(uint.MaxValue, lsn - durableLsn);
        WalFormat.WriteRecordHeader(record, _appendSegment.Salt, lsn, timestampMicros, payload.Type, flags, distance, payloadSize);
        _appendOffset += size;
        _nextLsn = lsn + 1;
    }

    private bool NeedsRotationLocked(int recordSize)
    {
        if (_appendOffset == WalFormat.SegmentHeaderSize)
        {
            return false;
        }

        if (_appendOffset + recordSize > _config.SegmentSizeBytes || _rotationRequested)
        {
            _rotationRequested = false;
            return true;
        }

        return _config.RotationPolicy is RotationPolicy.TimeBasedRotation time
            && _time.GetElapsedTime(_appendSegment.Started) >= time.Interval;
    }

    private Span<byte> Reserve(int size)
    {
        PendingChunk? chunk = _pending.Count > 0 ? _pending[^1] : null;
        if (chunk is null || chunk.Segment != _appendSegment)
        {
            chunk = _reusableChunk is { } reused && reused.Buffer.Length >= size
                ? reused.Reuse(_appendSegment, _appendOffset)
                : new PendingChunk(_appendSegment, _appendOffset, ArrayPool<byte>.Shared.Rent(Math.Max(size, 64 << 10)));
            if (ReferenceEquals(chunk, _reusableChunk))
            {
                _reusableChunk = null;
            }

            _pending.Add(chunk);
        }

        if (chunk.Length + size > chunk.Buffer.Length)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(chunk.Length + size, chunk.Buffer.Length * 2));
            chunk.Buffer.AsSpan(0, chunk.Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
            chunk.Buffer = bigger;
        }

        Span<byte> span = chunk.Buffer.AsSpan(chunk.Length, size);
        chunk.Length += size;
        return span;
    }

    /// <summary>
    /// Writes everything appended so far unless <paramref name="lsn"/> is already written. One committer at a time
    /// writes for everyone (group write); the others follow its epoch instead of queueing on the write lock, which
    /// with more threads than cores would make a convoy.
    /// </summary>
    private void WriteThrough(long lsn)
    {
        while (true)
        {
            Task? follow;
            lock (_writeGate)
            {
                ThrowIfFailed();
                if (Volatile.Read(ref _writtenLsn) >= lsn)
                {
                    return;
                }

                if (_writeBusy)
                {
                    _writeEpoch ??= NewEpoch();
                    follow = _writeEpoch.Task;
                }
                else
                {
                    _writeBusy = true;
                    follow = null;
                }
            }

            if (follow is not null)
            {
                follow.GetAwaiter().GetResult();
                continue;
            }

            bool syncInBackground = false;
            try
            {
                lock (_writeLock)
                {
                    ThrowIfFailed();
                    if (Volatile.Read(ref _writtenLsn) < lsn)
                    {
                        syncInBackground = WritePendingLocked();
                    }
                }
            }
            finally
            {
                TaskCompletionSource? finished;
                lock (_writeGate)
                {
                    _writeBusy = false;
                    finished = _writeEpoch;
                    _writeEpoch = null;
                }

                finished?.SetResult();
            }

            if (syncInBackground)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static writer => writer.TrySyncInBackground(), this, preferLocal: false);
            }

            return;
        }
    }

    /// <summary>
    /// Writes the pending records. Returns true when, with an interval sync policy, enough bytes have piled up
    /// unsynced that a background fsync should start (so the fsync that seals a segment stays short).
    /// </summary>
    private bool WritePendingLocked()
    {
        Debug.Assert(_writeLock.IsHeldByCurrentThread, "one writer at a time");
        List<PendingChunk> chunks;
        long target;
        lock (_appendLock)
        {
            chunks = _pending;
            _pending = _spare;
            target = _appendedLsn;
        }

        try
        {
            foreach (PendingChunk chunk in chunks)
            {
                if (chunk.Segment != _activeSegment)
                {
                    StartSegment(chunk.Segment);
                }

                _activeFile.Write(chunk.FileOffset, chunk.Buffer.AsSpan(0, chunk.Length));
                _unsyncedBytes += chunk.Length;
                _instrumentation.BytesWritten(chunk.Length);
                PublishWrittenEnd(chunk.FileOffset + chunk.Length);
            }

            Volatile.Write(ref _writtenLsn, Math.Max(Volatile.Read(ref _writtenLsn), target));
            SignalPositions();
        }
        catch (Exception ex) when (ex is not WalFailedException)
        {
            throw Fail(ex);
        }

        finally
        {
            // One buffer is kept for the next append (writes usually come one chunk at a time); the rest go back.
            PendingChunk? keep = chunks.Count > 0 && chunks[0].Buffer.Length <= MaxReusableChunkBytes ? chunks[0] : null;
            foreach (PendingChunk chunk in chunks)
            {
                if (!ReferenceEquals(chunk, keep))
                {
                    ArrayPool<byte>.Shared.Return(chunk.Buffer);
                }
            }

            chunks.Clear();
            lock (_appendLock)
            {
                _spare = chunks;
                if (keep is not null)
                {
                    if (_reusableChunk is { } unused)
                    {
                        ArrayPool<byte>.Shared.Return(unused.Buffer);
                    }

                    _reusableChunk = keep;
                }
            }
        }

        if (Volatile.Read(ref _segments).WrittenEnd >= _config.SegmentSizeBytes / 4)
        {
            // A quarter full: time to have the next segment's file ready (WALs that never get this far make none).
            PrepareSpare();
        }

        if (_config.SyncIntervalMs > 0 && _unsyncedBytes >= BackgroundSyncBytes && !_backgroundSyncQueued)
        {
            _backgroundSyncQueued = true;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Seals the active segment and starts the next. From a spare (made in the background) the write path does no
    /// fsync at all: the new header is written into the spare, which becomes the active file under its temporary name,
    /// so records can be written into it at once (an acknowledgement under an interval policy needs only the write,
    /// and a process crash keeps them: opening adopts a spare that continues the log exactly). The ordering the
    /// reader relies on is kept by the background sealer (<see cref="CompleteSealLocked"/>): the sealed segment is
    /// fsynced before the new file gets its name (a later segment proves every earlier one complete), the new file is
    /// fsynced before it is renamed (a segment name never points at a file without a durable header), then the
    /// directory. No record of the new segment is published durable before all of that: the first fsync of the new file
    /// that would publish one finishes the sequence itself if the sealer has not (<see cref="EnsureNameDurable"/>).
    /// Then the sealer cuts the sealed file to its records (which removes its 64 MiB mapping) and closes it. Without a
    /// spare, the rotation creates the segment as before: the sealed segment fsynced, then the new one made whole.
    /// </summary>
    private void StartSegment(SegmentState next)
    {
        Debug.Assert(_writeLock.IsHeldByCurrentThread, "segments change under the write lock");
        long rotationStart = Stopwatch.GetTimestamp();
        WaitForSealer(); // one seal at a time (the previous one finished long ago unless segments are tiny)
        ThrowIfFailed();
        var sealedFile = (SharedWalFile)_activeFile;
        long sealedLimit = Segments.Active.Limit;
        _unsyncedBytes = 0;
        var header = new WalSegmentHeader(WalFormat.FormatVersion, 0, next.Id, next.FirstLsn, next.CreatedMicros, next.Salt);
        PendingSeal? seal = null;
        SharedWalFile file;
        if (TakeSpare() is { } spare)
        {
            SparesUsed++;
            try
            {
                Span<byte> bytes = stackalloc byte[WalFormat.SegmentHeaderSize];
                WalFormat.WriteSegmentHeader(bytes, header);
                spare.File.Write(0, bytes); // made durable by the sealer's fsync of the file, before its rename
            }
            catch
            {
                spare.File.Dispose();
                throw;
            }

            file = new SharedWalFile(spare.File);
            seal = new PendingSeal(sealedFile, file, spare.Name, next.Name, next.Id, next.FirstLsn);
            lock (_nameLock)
            {
                _pendingSeal = seal;
            }
        }
        else
        {
            SyncFile(sealedFile); // before the next segment's name exists
            AdvanceDurable(next.FirstLsn - 1);
            file = new SharedWalFile(WalSegmentFiles.Create(_storage, next.Name, header, _config.PreallocateSegments ? _config.SegmentSizeBytes : 0));
        }

        _sealingName = _activeSegment.Name; // before the set shows it sealed: compression leaves it to the sealer
        _activeFile = file;
        _activeSegment = next;

        // One swap seals the old segment at its end and makes the new one active: no reader can see the old
        // segment both sealed and active (retention once took it for the active one and deleted it).
        PublishSegments(s =>
        {
            _segmentStarted[next.Id] = next.Started;
            return s.Rotated(new SegmentBound(next.Name, next.Id, next.FirstLsn, WalFormat.SegmentHeaderSize) { PendingName = seal?.SpareName });
        });
        if (ReferenceEquals(sealedFile, _fileBeingSynced))
        {
            sealedFile.AddOwner(); // the running fsync closes its handle when it returns; the sealer closes its own
        }

        _sealer.Post(() => SealInBackground(seal, sealedFile, sealedLimit)); // never waits: no thread is started here
        _instrumentation.SegmentRotated(Stopwatch.GetElapsedTime(rotationStart), fromSpare: seal is not null);
    }

    /// <summary>
    /// The background half of a rotation: finishes <paramref name="seal"/> (when the rotation took a spare) unless the
    /// first fsync of the new segment did, then cuts the sealed segment to its records (dropping the unused
    /// preallocated space and the mapping) and closes it. The cut needs no fsync of its own: until it is durable, a
    /// power loss leaves zeros after the last record, which the reader takes for the clean end they are. A failure
    /// fails the WAL, as on the write path.
    /// </summary>
    private void SealInBackground(PendingSeal? seal, SharedWalFile sealedFile, long limit)
    {
        try
        {
            if (seal is not null)
            {
                lock (_nameLock)
                {
                    CompleteSealLocked(seal, nextSynced: false);
                }
            }

            if (_failure is null)
            {
                sealedFile.SetLength(limit);
            }
        }
        catch (WalFailedException)
        {
            // Already failed: every waiter and every later call sees it.
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
        finally
        {
            _sealingName = null;
            sealedFile.Dispose();
        }
    }

    /// <summary>
    /// The ordered steps that make a segment begun in a spare part of the log, each durable before the next: the
    /// sealed segment's fsync (everything before the new segment is durable: published at once), the new file's fsync
    /// (its header, and the records written so far, unless the caller's fsync just did it: <paramref name="nextSynced"/>),
    /// the rename to its name, the directory's fsync. Whoever comes first (the sealer, or an fsync of the new file
    /// that would publish its records durable) does them; the other finds them done.
    /// </summary>
    private void CompleteSealLocked(PendingSeal seal, bool nextSynced)
    {
        Debug.Assert(_nameLock.IsHeldByCurrentThread, "one seal sequence at a time");
        if (seal.Completed)
        {
            return;
        }

        SyncFileOnly(seal.Sealed);
        AdvanceDurable(seal.NextFirstLsn - 1);
        if (!nextSynced)
        {
            SyncFileOnly(seal.Next);
        }

        ThrowIfFailed();
        try
        {
            _storage.Rename(seal.SpareName, seal.Name);
        }
        catch (Exception ex) when (ex is not WalFailedException)
        {
            throw Fail(ex);
        }

        SyncDirectory(); // the new name survives a power loss
        seal.Completed = true;
        _pendingSeal = null;
        PublishSegments(s => s.Active.SegmentId == seal.NextId ? s with { Active = s.Active with { PendingName = null } } : s);
    }

    /// <summary>Waits for the background seal of the previous rotation, if one runs.</summary>
    private void WaitForSealer() => _sealer.WaitIdle();

    /// <summary>
    /// Called after every fsync of a segment (<see cref="SyncFile"/>) before anything in it is published durable: when
    /// <paramref name="file"/> is a segment begun in a spare whose seal is still pending, finishes that seal (the sealed
    /// segment's fsync, the rename, the directory fsync), so the records the caller fsynced are durable by name too.
    /// </summary>
    private void EnsureNameDurable(IWalFile file)
    {
        lock (_nameLock)
        {
            if (_pendingSeal is { } seal && ReferenceEquals(seal.Next, file))
            {
                CompleteSealLocked(seal, nextSynced: true);
            }
        }
    }

    /// <summary>Replaces the segment set with <paramref name="change"/> of the current one (the only way it changes).</summary>
    private void PublishSegments(Func<WalSegmentSet, WalSegmentSet> change)
    {
        lock (_segmentsLock)
        {
            ReplaceSegmentsLocked(change(_segments.Current()));
        }
    }

    /// <summary>The segment set as it is now, its active segment written as far as published (under _segmentsLock).</summary>
    private WalSegmentSet CurrentSegmentsLocked()
    {
        Debug.Assert(_segmentsLock.IsHeldByCurrentThread, "the set is replaced under _segmentsLock");
        return _segments.Current();
    }

    /// <summary>Publishes <paramref name="set"/> (made from <see cref="CurrentSegmentsLocked"/>) as the segment set (under _segmentsLock).</summary>
    private void ReplaceSegmentsLocked(WalSegmentSet set)
    {
        Debug.Assert(_segmentsLock.IsHeldByCurrentThread, "the set is replaced under _segmentsLock");
        LiveSegments current = _segments;
        Debug.Assert(
            current.IsSameActive(set) || _writeLock.IsHeldByCurrentThread,
            "only a rotation, by the writer under _writeLock, changes the active segment: no write advances the old cell meanwhile");
        Volatile.Write(ref _segments, current.With(set));
    }

    /// <summary>
    /// The active segment is written through <paramref name="end"/> (every write, under _writeLock). Allocates
    /// nothing and takes no lock: the written end advances in a cell beside the set, which every set replaced for the
    /// same active segment (a seal, removal or compression, under _segmentsLock) shares (see <see cref="LiveSegments"/>),
    /// so no end is lost with a set replaced at the same moment.
    /// </summary>
    private void PublishWrittenEnd(long end)
    {
        Debug.Assert(_writeLock.IsHeldByCurrentThread, "the written end advances under the write lock (one writer at a time)");
        Volatile.Read(ref _segments).Advance(end);
    }

    /// <summary>
    /// The published segment set and the active segment's written end, which advances beside it with no new set per
    /// write (a set and a bound per write were most of what an interval-mode insert allocated). The end lives in a
    /// <see cref="WrittenEnd"/> cell shared by every <see cref="LiveSegments"/> made for the same active segment
    /// (<see cref="With"/>): a seal, removal or compression that replaces the set while a write advances the end
    /// cannot drop that advance, whichever comes first, so the writer advances it without a lock. A set of another
    /// active segment (a rotation, by the writer itself under _writeLock) gets a cell of its own. A reader takes one
    /// with one Volatile.Read and gets one consistent value from <see cref="Current"/>: the set, its active segment at
    /// the end read once.
    /// </summary>
    private sealed class LiveSegments
    {
        private readonly WalSegmentSet _set;
        private readonly EndCell _end;

        public LiveSegments(WalSegmentSet set)
            : this(set, new EndCell(set.Active.Limit))
        {
        }

        private LiveSegments(WalSegmentSet set, EndCell end)
        {
            _set = set;
            _end = end;
        }

        /// <summary>How far the active segment is written (monotonic).</summary>
        public long WrittenEnd => _end.Read();

        /// <summary>The set with its active segment written through <see cref="WrittenEnd"/> as read now (a new set only when it moved).</summary>
        public WalSegmentSet Current()
        {
            long end = _end.Read();
            return end <= _set.Active.Limit ? _set : _set.WrittenTo(end);
        }

        /// <summary>
        /// <paramref name="set"/> (made from <see cref="Current"/>) in place of this one: sharing the written end when
        /// its active segment is this one's (a seal, removal or compression changes only the sealed list and the
        /// active segment's name), with an end of its own otherwise (a rotation).
        /// </summary>
        public LiveSegments With(WalSegmentSet set)
        {
            if (!IsSameActive(set))
            {
                return new LiveSegments(set);
            }

            // Always the same cell for the same active segment: a fresh one would drop an advance made meanwhile.
            Debug.Assert(set.Active.Limit <= WrittenEnd, "a set made from Current() holds the active segment at no further end than written");
            return new LiveSegments(set, _end);
        }

        /// <summary>True when <paramref name="set"/>'s active segment is this one's (a seal, removal or compression), false at a rotation.</summary>
        public bool IsSameActive(WalSegmentSet set) =>
            set.Active.SegmentId == _set.Active.SegmentId && set.Active.FirstLsn == _set.Active.FirstLsn;

        /// <summary>The active segment is written through <paramref name="end"/> (never moves back; one writer at a time).</summary>
        public void Advance(long end)
        {
            Debug.Assert(end >= _end.Read(), "the written end only grows");
            _end.Write(end);
        }

        /// <summary>The active segment's written end, shared by the sets of one active segment.</summary>
        private sealed class EndCell(long initial)
        {
            private long _value = initial;

            public long Read() => Volatile.Read(ref _value);

            public void Write(long value) => Volatile.Write(ref _value, value);
        }
    }

    /// <summary>
    /// fsyncs <paramref name="file"/> (<see cref="SyncFileOnly"/>), then makes sure a segment begun in a spare is named
    /// durably before the caller publishes anything in it durable (<see cref="EnsureNameDurable"/>).
    /// </summary>
    private void SyncFile(IWalFile file)
    {
        SyncFileOnly(file);
        EnsureNameDurable(file); // a segment's records are durable only once its name is
    }

    /// <summary>
    /// fsyncs <paramref name="file"/>; a failure fails the WAL. The handle is its own fsync lock: never two fsyncs in
    /// flight on one descriptor (a segment seal and the syncer's fsync can meet), because Linux reports a writeback
    /// error to only one of them and the other would publish durability for bytes that never reached the disk. The
    /// second caller waits, then sees the failure the first one recorded.
    /// </summary>
    private void SyncFileOnly(IWalFile file)
    {
        lock (file)
        {
            ThrowIfFailed();
            long start = Stopwatch.GetTimestamp();
            try
            {
                file.Sync();
            }
            catch (Exception ex) when (ex is not WalFailedException)
            {
                Control?.RecordSyncFailure(); // a reopen in this boot must not trust page-cache bytes past the durable point
                throw Fail(ex);
            }

            _instrumentation.Synced(Stopwatch.GetElapsedTime(start));
        }
    }

    /// <summary>fsyncs the WAL directory; a failure fails the WAL like any fsync.</summary>
    private void SyncDirectory()
    {
        ThrowIfFailed();
        try
        {
            _storage.SyncDirectory();
        }
        catch (Exception ex) when (ex is not WalFailedException)
        {
            throw Fail(ex);
        }
    }

    private WalFailedException Fail(Exception cause)
    {
        var failure = cause as WalFailedException ?? new WalFailedException(_storage.Directory, cause);
        _failure ??= failure;
        _instrumentation.Failed(cause);
        SignalPositions();
        WakeGatheringSyncer();
        return failure;
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            throw new WalFailedException(_storage.Directory, failure.InnerException ?? failure);
        }
    }

    private static TaskCompletionSource NewEpoch() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>An append as <see cref="AppendGuarded{TAppend}(TAppend)"/> runs it, with the append lock held.</summary>
    private interface IAppendLocked
    {
        long AppendLocked(WalWriter writer);
    }

    /// <summary>The list append (<see cref="Append"/>) as <see cref="AppendGuarded{TAppend}(TAppend)"/> runs it.</summary>
    private readonly struct BatchAppend(IReadOnlyList<WalEntry> entries, int[] sizes, bool transactional) : IAppendLocked
    {
        public long AppendLocked(WalWriter writer) => writer.AppendLocked(entries, sizes, transactional);
    }

    // Started: when the segment was begun, on the monotonic clock (TimeProvider.GetTimestamp), so ages and
    // intervals never wait out a wall-clock step.
    private sealed record SegmentState(ulong Id, long FirstLsn, uint Salt, long CreatedMicros, string Name, long Started);

    /// <summary>
    /// A rotation that took a spare: the segment it sealed, the new segment's file (active, still named
    /// <paramref name="SpareName"/>), the name it gets, its id and its first LSN. <see cref="Completed"/> is set under
    /// <c>_nameLock</c> once the sealed segment and the new file are fsynced, the rename done and the directory fsynced.
    /// </summary>
    private sealed record PendingSeal(SharedWalFile Sealed, SharedWalFile Next, string SpareName, string Name, ulong NextId, long NextFirstLsn)
    {
        public bool Completed { get; set; }
    }

    private sealed class PendingChunk(SegmentState segment, long fileOffset, byte[] buffer)
    {
        public SegmentState Segment { get; private set; } = segment;

        public long FileOffset { get; private set; } = fileOffset;

        public byte[] Buffer { get; set; } = buffer;

        public int Length { get; set; }

        /// <summary>Starts the chunk again, empty, at <paramref name="fileOffset"/> of <paramref name="segment"/>, keeping its buffer.</summary>
        public PendingChunk Reuse(SegmentState segment, long fileOffset)
        {
            Segment = segment;
            FileOffset = fileOffset;
            Length = 0;
            return this;
        }
    }
}

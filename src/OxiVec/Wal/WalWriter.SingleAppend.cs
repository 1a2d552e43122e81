using System.Diagnostics;

namespace OxiVec.Wal;

/// <summary>
/// The single-entry append (every single write of the store): one record, no arrays, and, when nothing else is
/// pending and the active segment is written by a copy into its shared mapping, written to the page cache at once,
/// under the same locks as the append, instead of being buffered and written by a later <see cref="WaitFor"/>.
/// </summary>
/// <remarks>
/// <para>Writing at once is as safe as the group write: the record lands in the same page cache at the same offset,
/// after every record before it (nothing is pending), and is published as written only once it is there. A process
/// killed in the middle of the copy leaves a torn, unacknowledged record, as a kill in the middle of a group write
/// does. Only the write lock is tried, never waited for: when a group write, a seal or a syncer's write holds it, the
/// record is buffered as before and the caller's wait writes it.</para>
/// <para>What it saves per write with an interval sync policy: the pending buffer and its copy (the record is encoded
/// in place, in the mapping), the wait's write gate (taken twice), the append lock taken twice more by the group
/// write, and the arrays of the list append. The page faults of the stores are taken ahead, off the write path
/// (<see cref="PrefaultAheadLocked"/>).</para>
/// </remarks>
internal sealed partial class WalWriter
{
    /// <summary>How far ahead of the written end single appends have the active segment's pages faulted in (see <see cref="PrefaultAheadLocked"/>).</summary>
    private const long PrefaultBytes = 1 << 20;

    private readonly WalBackgroundWorker _prefaulter = new("OxiVec WAL prefault");

    // The segment file whose pages are being faulted in ahead of the writes, and how far; guarded by _writeLock.
    private IWalFile? _prefaultFile;
    private long _prefaultedTo;

    /// <summary>Waits until every prefault asked for so far has run (tests).</summary>
    internal void WaitPrefaulted() => _prefaulter.WaitIdle();

    /// <summary>Single-entry appends written at once, at their append (tests).</summary>
    internal long SingleAppendsWritten { get; private set; }

    /// <summary>Whether a small write at the active segment's end would be a copy into its mapping (tests).</summary>
    internal bool ActiveSegmentIsMapped
    {
        get
        {
            lock (_writeLock)
            {
                return _activeFile.WritesInMemory(Segments.Active.Limit, 64);
            }
        }
    }

    /// <summary>
    /// Appends <paramref name="entry"/> as one record (like <see cref="Append"/> with one entry, not transactional)
    /// and returns its LSN. When it can be written without a system call it is written before this returns
    /// (<see cref="WrittenLsn"/> covers it); otherwise it is buffered and <see cref="WaitFor"/> writes it.
    /// <paramref name="timestamp"/> is the monotonic timestamp the append read from this writer's clock
    /// (<see cref="TimeProvider.GetTimestamp"/>): a caller that needs "now" after the append reads no clock of its own.
    /// </summary>
    /// <exception cref="ArgumentException">The entry cannot be encoded or is larger than a segment allows; nothing is appended.</exception>
    public long AppendSingle(WalEntry entry, out long timestamp)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return AppendSingle(new EntryPayload(entry), out timestamp);
    }

    /// <summary>
    /// <see cref="AppendSingle(WalEntry, out long)"/> of a record given as a payload struct (the store's inserts and
    /// updates: <see cref="VectorPayload"/>), encoded from its fields with no entry object.
    /// </summary>
    /// <exception cref="ArgumentException">The record cannot be encoded or is larger than a segment allows; nothing is appended.</exception>
    public long AppendSingle<TPayload>(TPayload payload, out long timestamp)
        where TPayload : struct, IWalPayload
    {
        int payloadSize = payload.GetPayloadSize();
        ThrowIfTooLarge(0, payload.Type, payloadSize, "entry");

        // Lock order as in the group write: _writeLock, then _appendLock. Never waited for (see the remarks).
        bool writing = _writeLock.TryEnter();
        try
        {
            return AppendGuarded(new SingleAppend<TPayload>(payload, payloadSize, writing), out timestamp);
        }
        finally
        {
            if (writing)
            {
                _writeLock.Exit();
            }
        }
    }

    private long AppendSingleLocked<TPayload>(TPayload payload, int payloadSize, bool writing)
        where TPayload : struct, IWalPayload
    {
        long now = _clock.Next(out WalClockStep? freeze);
        long durable = Volatile.Read(ref _durableLsn);
        long firstLsn = _nextLsn;
        int size = WalFormat.RecordSize(payloadSize);
        if (freeze is null && writing && CanWriteAtOnceLocked(size))
        {
            WriteAtOnceLocked(payload, payloadSize, size, now, durable);
        }
        else
        {
            if (freeze is not null)
            {
                // Marks where timestamps start to repeat (see AppendLocked).
                WalEntry.Custom step = freeze.ToEntry();
                WriteRecordLocked(step, WalEntryCodec.GetPayloadSize(step), WalRecordFlags.None, now, durable);
            }

            WriteRecordLocked(payload, payloadSize, WalRecordFlags.None, now, durable);
            Volatile.Write(ref _appendedLsn, _nextLsn - 1);
        }

        long last = _nextLsn - 1;
        _instrumentation.RecordsAppended(last - firstLsn + 1, _clock.LastMonotonic); // the clock and the meters share the time provider
        return last;
    }

    /// <summary>
    /// True when a record of <paramref name="size"/> bytes goes next into the active segment, right after what is
    /// written (nothing pending, no rotation due), by a copy into its mapping. Both locks are held.
    /// </summary>
    private bool CanWriteAtOnceLocked(int size)
    {
        // Only under an interval policy. With SyncIntervalMs = 0 every commit waits for an fsync anyway, and records
        // written one at a time as they arrive publish the written LSN per record: a synchronous standby's sender then
        // ships one-record batches and the standby fsyncs each (sync remote flush fell from ~50 % to 5 % of local-only
        // throughput at 32 writers). There the group commit's leader writes the pending records in one batch.
        if (_config.SyncIntervalMs == 0 || _pending.Count != 0 || !ReferenceEquals(_appendSegment, _activeSegment) || Volatile.Read(ref _writtenLsn) != _nextLsn - 1)
        {
            return false;
        }

        if (NeedsRotationLocked(size))
        {
            _rotationRequested = true; // the buffered append that follows must rotate as this check said
            return false;
        }

        return _activeFile.WritesInMemory(_appendOffset, size);
    }

    /// <summary>
    /// Encodes the record in place, in the active segment's mapping at its end, checksumming the payload as it is
    /// stored (the header's fields first, in a buffer of their own), then publishes it as appended and written. The
    /// header (length, checksum) is stored last: a process killed half-way leaves the header's bytes as they were
    /// (zeros in a fresh segment), a torn tail to the reader, and nothing is published before the record is whole.
    /// </summary>
    private void WriteAtOnceLocked<TPayload>(TPayload payload, int payloadSize, int size, long timestampMicros, long durableLsn)
        where TPayload : struct, IWalPayload
    {
        long lsn = _nextLsn;
        long offset = _appendOffset;
        try
        {
            Span<byte> record = _activeFile.MemoryAt(offset, size);
            Span<byte> header = stackalloc byte[WalFormat.RecordHeaderSize];
            uint distance = (uint)Math.Min(uint.MaxValue, lsn - durableLsn);
            WalFormat.WriteRecordHeaderFields(header, lsn, timestampMicros, payload.Type, WalRecordFlags.None, distance, payloadSize);
            uint crc = WalFormat.HeaderChecksum(_appendSegment.Salt, header);
            crc = payload.EncodeChecksummed(record.Slice(WalFormat.RecordHeaderSize, payloadSize), crc);
            record[(WalFormat.RecordHeaderSize + payloadSize)..].Clear(); // the alignment padding
            WalFormat.SetRecordChecksum(header, crc);
            header.CopyTo(record);
        }
        catch (Exception ex) when (ex is not WalFailedException)
        {
            throw Fail(ex);
        }

        // Written: from here on the record is what the group write would have made it.
        _appendOffset = offset + size;
        _nextLsn = lsn + 1;
        Volatile.Write(ref _appendedLsn, lsn);
        _unsyncedBytes += size;
        _instrumentation.BytesWritten(size);
        PublishWrittenEnd(offset + size);
        Volatile.Write(ref _writtenLsn, lsn);
        SignalPositions();
        SingleAppendsWritten++;
        PrefaultAheadLocked(offset + size);
        if (UsesSpares && offset + size >= _config.SegmentSizeBytes / 4)
        {
            PrepareSpare(); // as the group write does once the segment is a quarter full
        }

        if (_config.SyncIntervalMs > 0 && _unsyncedBytes >= BackgroundSyncBytes && !_backgroundSyncQueued)
        {
            _backgroundSyncQueued = true;
            ThreadPool.UnsafeQueueUserWorkItem(static writer => writer.TrySyncInBackground(), this, preferLocal: false);
        }
    }

    /// <summary>
    /// Keeps the pages of the active segment up to <see cref="PrefaultBytes"/> past <paramref name="end"/> faulted in,
    /// by a job of the WAL's own prefault thread (<see cref="IWalFile.Prefault"/>) posted once per half of that: a store
    /// into a page of the mapping touched for the first time otherwise takes a fault on the write path (the page
    /// allocated and zeroed, ext4's page_mkwrite), about one in every 7 records of 128 floats. A thread of its own, not
    /// the thread pool: queued behind a pool's background fsync or checkpoint the job started late, and a writer at
    /// 300k inserts/s overtook it and took the faults itself (a sixth of its CPU under perf). Not further ahead: every
    /// fsync writes back the pages faulted in ahead (as zeros) and write-protects them, so the stores fault again and
    /// those blocks are written twice (with 4 MiB the writer faulted more than with 2; 0.5, 1 and 2 MiB measured the
    /// same). Under the write lock.
    /// </summary>
    private void PrefaultAheadLocked(long end)
    {
        Debug.Assert(_writeLock.IsHeldByCurrentThread, "the prefault position follows the writes");
        if (!ReferenceEquals(_prefaultFile, _activeFile))
        {
            _prefaultFile = _activeFile; // a new segment (or the first write since the open): start at its end
            _prefaultedTo = end;
        }

        if (end + (PrefaultBytes / 2) < _prefaultedTo || _prefaultedTo >= _config.SegmentSizeBytes)
        {
            return;
        }

        long from = Math.Max(_prefaultedTo, end);
        long to = Math.Min(_config.SegmentSizeBytes, from + PrefaultBytes);
        _prefaultedTo = to;
        IWalFile file = _activeFile;
        _prefaulter.Post(() => file.Prefault(from, to - from));
    }

    /// <summary>The single append as <see cref="AppendGuarded{TAppend}(TAppend)"/> runs it.</summary>
    private readonly struct SingleAppend<TPayload>(TPayload payload, int payloadSize, bool writing) : IAppendLocked
        where TPayload : struct, IWalPayload
    {
        public long AppendLocked(WalWriter writer) => writer.AppendSingleLocked(payload, payloadSize, writing);
    }
}

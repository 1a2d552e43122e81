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
/// <para>What it saves per write with an interval sync policy: the pending buffer's copy, the wait's write gate (taken
/// twice), the append lock taken twice more by the group write, and the arrays of the list append.</para>
/// </remarks>
internal sealed partial class WalWriter
{
    /// <summary>One record encoded before it is copied into the mapping; guarded by <c>_appendLock</c>.</summary>
    private byte[] _singleRecord = [];

    /// <summary>Single-entry appends written at once, at their append (tests).</summary>
    internal long SingleAppendsWritten { get; private set; }

    /// <summary>
    /// Appends <paramref name="entry"/> as one record (like <see cref="Append"/> with one entry, not transactional)
    /// and returns its LSN. When it can be written without a system call it is written before this returns
    /// (<see cref="WrittenLsn"/> covers it); otherwise it is buffered and <see cref="WaitFor"/> writes it.
    /// </summary>
    /// <exception cref="ArgumentException">The entry cannot be encoded or is larger than a segment allows; nothing is appended.</exception>
    public long AppendSingle(WalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        int payloadSize = WalEntryCodec.GetPayloadSize(entry);
        if (payloadSize > _maxPayload)
        {
            throw new ArgumentException(
                $"Entry 0 ({entry.Type}) is {payloadSize} bytes; a record must fit in one segment, so at most {_maxPayload} bytes " +
                $"with SegmentSizeBytes = {_config.SegmentSizeBytes}.", nameof(entry));
        }

        // Lock order as in the group write: _writeLock, then _appendLock. Never waited for (see the remarks).
        bool writing = _writeLock.TryEnter();
        try
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
                    return AppendSingleLocked(entry, payloadSize, writing);
                }
                catch (Exception ex)
                {
                    // A half-encoded record may sit in the pending buffer or the segment: nothing after it can be trusted.
                    Fail(ex);
                    throw;
                }
            }
        }
        finally
        {
            if (writing)
            {
                _writeLock.Exit();
            }
        }
    }

    private long AppendSingleLocked(WalEntry entry, int payloadSize, bool writing)
    {
        long now = _clock.Next(out WalClockStep? freeze);
        long durable = Volatile.Read(ref _durableLsn);
        long firstLsn = _nextLsn;
        int size = WalFormat.RecordSize(payloadSize);
        if (freeze is null && writing && CanWriteAtOnceLocked(size))
        {
            WriteAtOnceLocked(entry, payloadSize, size, now, durable);
        }
        else
        {
            if (freeze is not null)
            {
                // Marks where timestamps start to repeat (see AppendLocked).
                WalEntry.Custom step = freeze.ToEntry();
                WriteRecordLocked(step, WalEntryCodec.GetPayloadSize(step), WalRecordFlags.None, now, durable);
            }

            WriteRecordLocked(entry, payloadSize, WalRecordFlags.None, now, durable);
            Volatile.Write(ref _appendedLsn, _nextLsn - 1);
        }

        long last = _nextLsn - 1;
        _instrumentation.RecordsAppended(last - firstLsn + 1);
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

    /// <summary>Encodes the record and copies it into the active segment at its end, then publishes it as appended and written.</summary>
    private void WriteAtOnceLocked(WalEntry entry, int payloadSize, int size, long timestampMicros, long durableLsn)
    {
        if (_singleRecord.Length < size)
        {
            _singleRecord = new byte[Math.Max(size, 1024)];
        }

        Span<byte> record = _singleRecord.AsSpan(0, size);
        long lsn = _nextLsn;
        WalEntryCodec.Encode(entry, record.Slice(WalFormat.RecordHeaderSize, payloadSize));
        record[(WalFormat.RecordHeaderSize + payloadSize)..].Clear(); // the alignment padding (the buffer is reused)
        uint distance = (uint)Math.Min(uint.MaxValue, lsn - durableLsn);
        WalFormat.WriteRecordHeader(record, _appendSegment.Salt, lsn, timestampMicros, entry.Type, WalRecordFlags.None, distance, payloadSize);
        long offset = _appendOffset;
        try
        {
            _activeFile.Write(offset, record);
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
}

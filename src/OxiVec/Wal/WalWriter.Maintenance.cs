namespace OxiVec.Wal;

/// <summary>
/// Maintenance of sealed segments: removal after checkpoints, and compression. One maintenance step runs at a
/// time (<c>_maintenanceLock</c>); each works from one <see cref="WalSegmentSet"/> and publishes its change as a
/// new one. A failed fsync of a file or of the directory fails the WAL, as it does for appends.
/// </summary>
internal sealed partial class WalWriter
{
    private readonly Lock _maintenanceLock = new();

    /// <summary>
    /// Deletes the sealed segments whose records all have LSNs up to <paramref name="lsn"/> (never the active
    /// one), oldest first, fsyncing the directory after each deletion, so that a power loss can only leave a
    /// suffix of the log. Returns how many were deleted.
    /// </summary>
    /// <exception cref="WalFailedException">A directory fsync failed (now or earlier).</exception>
    public int RemoveSegmentsThrough(long lsn)
    {
        lock (_maintenanceLock)
        {
            ThrowIfFailed();
            lsn = ClampToRetentionFloor(lsn); // replication slots keep what their standbys still need
            int removed = 0;
            while (TakeOldestCoveredSegment(lsn) is { } doomed)
            {
                if (doomed.Name == _sealingName)
                {
                    // Sealed by a rotation whose successor may not be named yet: that name is durable first, so a power
                    // loss never leaves the log without both (the sealer takes milliseconds).
                    WaitForSealer();
                    ThrowIfFailed();
                }

                _storage.Delete(doomed.Name);
                SyncDirectory(); // this deletion is durable before the next one starts: never a gap in the log
                removed++;
            }

            return removed;
        }
    }

    /// <summary>Removes from the segment set, and returns, the oldest sealed segment if all its records are at or before <paramref name="lsn"/>.</summary>
    private SegmentBound? TakeOldestCoveredSegment(long lsn)
    {
        lock (_segmentsLock)
        {
            WalSegmentSet segments = CurrentSegmentsLocked();
            if (segments.Sealed.Count == 0 || segments.LastLsnOfSealed(0) > lsn)
            {
                return null;
            }

            ReplaceSegmentsLocked(segments with { Sealed = segments.Sealed.RemoveAt(0) });
            _segmentStarted.Remove(segments.Sealed[0].SegmentId);
            return segments.Sealed[0];
        }
    }

    /// <summary>
    /// Compresses the sealed segments at least <paramref name="olderThan"/> old that are not compressed yet (the age
    /// of a segment begun in this process is measured on the monotonic clock, of an older one from its header's
    /// creation time): the compressed file is made durable first, then replaces the original in the
    /// segment set, then the original is deleted. Returns how many were compressed and the bytes saved. A segment
    /// that fails to compress other than by a failed fsync (a full disk, say) ends the step without harm to the
    /// log: it is logged and counted (<see cref="WalMetrics.MaintenanceFailures"/>), its temporary file deleted,
    /// and the next call tries again.
    /// </summary>
    /// <exception cref="WalFailedException">An fsync failed (now or earlier).</exception>
    public (int Segments, long BytesSaved) CompressSealed(TimeSpan olderThan)
    {
        lock (_maintenanceLock)
        {
            WaitForSealer(); // the segment sealed last is cut to its records first (milliseconds), then compressed with the rest
            ThrowIfFailed();
            int count = 0;
            long saved = 0;
            // Not the segment a sealer started since is still cutting to its records (its length changes under the compressor).
            foreach (SegmentBound segment in Segments.Sealed.Where(s => !WalSegmentName.IsCompressed(s.Name) && s.Name != _sealingName))
            {
                try
                {
                    if (!IsOlderThan(segment, olderThan))
                    {
                        continue;
                    }

                    (string name, long bytes) = WalSegmentCompression.Compress(_storage, segment.Name, SyncFile, SyncDirectory);
                    PublishSegments(s => s with { Sealed = s.Sealed.Replace(segment, segment with { Name = name, Limit = bytes }) });
                    _storage.Delete(segment.Name);
                    SyncDirectory(); // the original's deletion survives a power loss
                    count++;
                    saved += segment.Limit - bytes;
                }
                catch (Exception ex) when (ex is (IOException or UnauthorizedAccessException) and not WalFailedException)
                {
                    // The log is whole: the original is in place (or, if only its deletion failed, both copies
                    // are, and the next open keeps the original). Try again at the next checkpoint.
                    _instrumentation.MaintenanceFailed($"compressing segment '{segment.Name}'", ex);
                    break;
                }
            }

            return (count, saved);
        }
    }

    private bool IsOlderThan(SegmentBound segment, TimeSpan age)
    {
        lock (_segmentsLock)
        {
            if (_segmentStarted.TryGetValue(segment.SegmentId, out long started))
            {
                return _time.GetElapsedTime(started) >= age;
            }
        }

        long createdBefore = WalRecord.ToMicros(_time.GetUtcNow() - age);
        Span<byte> header = stackalloc byte[WalFormat.SegmentHeaderSize];
        using IWalFile file = _storage.Open(segment.Name, writable: false);
        return file.Read(0, header) == header.Length
            && WalFormat.TryReadSegmentHeader(header, out WalSegmentHeader h, out _)
            && h.CreatedUnixMicros < createdBefore;
    }
}

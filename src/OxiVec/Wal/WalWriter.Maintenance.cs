namespace OxiVec.Wal;

/// <summary>Maintenance of sealed segments: removal after checkpoints, and compression.</summary>
internal sealed partial class WalWriter
{
    /// <summary>
    /// Deletes the sealed segments whose records all have LSNs up to <paramref name="lsn"/> (never the active
    /// one), oldest first, then fsyncs the directory. Returns how many were deleted.
    /// </summary>
    public int RemoveSegmentsThrough(long lsn)
    {
        var doomed = new List<SegmentBound>();
        lock (_segmentsLock)
        {
            for (int i = 0; i < _sealed.Count; i++)
            {
                long nextFirst = i + 1 < _sealed.Count ? _sealed[i + 1].FirstLsn : _activeSegment.FirstLsn;
                if (nextFirst - 1 > lsn)
                {
                    break;
                }

                doomed.Add(_sealed[i]);
            }

            _sealed.RemoveRange(0, doomed.Count);
        }

        foreach (SegmentBound segment in doomed)
        {
            _storage.Delete(segment.Name);
        }

        if (doomed.Count > 0)
        {
            _storage.SyncDirectory(); // the deletions survive a power loss in order: oldest segments first
        }

        return doomed.Count;
    }

    /// <summary>
    /// Compresses the sealed segments created before <paramref name="createdBefore"/> (µs since the Unix epoch)
    /// that are not compressed yet: the compressed file is made durable first, then replaces the original in the
    /// segment list, then the original is deleted. Returns how many were compressed and the bytes saved.
    /// </summary>
    public (int Segments, long BytesSaved) CompressSealed(long createdBefore)
    {
        List<SegmentBound> candidates;
        lock (_segmentsLock)
        {
            candidates = [.. _sealed.Where(s => !WalSegmentName.IsCompressed(s.Name))];
        }

        int count = 0;
        long saved = 0;
        Span<byte> header = stackalloc byte[WalFormat.SegmentHeaderSize];
        foreach (SegmentBound segment in candidates)
        {
            using (IWalFile file = _storage.Open(segment.Name, writable: false))
            {
                if (file.Read(0, header) != header.Length || !WalFormat.TryReadSegmentHeader(header, out WalSegmentHeader h, out _)
                    || h.CreatedUnixMicros >= createdBefore)
                {
                    continue;
                }
            }

            (string compressed, long bytes) = WalSegmentCompression.Compress(_storage, segment.Name);
            lock (_segmentsLock)
            {
                int index = _sealed.FindIndex(s => s.Name == segment.Name);
                if (index < 0)
                {
                    // Removed by retention meanwhile: the compressed copy is not needed either.
                    _storage.Delete(compressed);
                    continue;
                }

                _sealed[index] = segment with { Name = compressed, Limit = bytes };
            }

            _storage.Delete(segment.Name);
            _storage.SyncDirectory();
            count++;
            saved += segment.Limit - bytes;
        }

        return (count, saved);
    }
}

using System.Buffers;
using Microsoft.Extensions.Logging;

namespace OxiVec.Wal;

/// <summary>What <see cref="WalTruncation.TruncateAfter"/> did.</summary>
/// <param name="KeptThroughLsn">The WAL's last LSN now.</param>
/// <param name="FirstDiscardedLsn">The first record cut off (0 when none was).</param>
/// <param name="LastDiscardedLsn">The last record cut off (0 when none was).</param>
/// <param name="QuarantineFile">The copy of the discarded records, relative to the WAL directory (null when none were).</param>
/// <param name="SegmentsRemoved">Segment files that held only discarded records and were deleted.</param>
internal sealed record WalTruncationResult(long KeptThroughLsn, long FirstDiscardedLsn, long LastDiscardedLsn, string? QuarantineFile, int SegmentsRemoved)
{
    /// <summary>How many records were cut off.</summary>
    public long Records => FirstDiscardedLsn == 0 ? 0 : LastDiscardedLsn - FirstDiscardedLsn + 1;
}

/// <summary>
/// Cuts a closed WAL after an LSN (a standby's rewind, pg_rewind's job): byte-exact (the records kept are not
/// touched), crash-safe and durable. The records cut off are first copied, as replication frames (docs/wal-format.md),
/// into <c>quarantine/&lt;name&gt;.frames</c> in the WAL directory and fsynced; then the control file's durable point is
/// lowered to the cut; then the segments after the cut segment are deleted newest first, the directory fsynced after
/// each; then the cut segment is replaced (temporary copy of its bytes before the cut, fsync, rename over it,
/// directory fsync). A crash at any step leaves a valid log that is a prefix of the original holding every record
/// kept, and running the truncation again finishes it (the quarantine copy of the first run is kept).
/// </summary>
internal static class WalTruncation
{
    /// <summary>The suffix of a quarantined run of records.</summary>
    public const string FramesSuffix = ".frames";

    /// <summary>
    /// Cuts the WAL in <paramref name="storage"/> after <paramref name="keepThroughLsn"/>. The WAL must not be open
    /// (its lock is taken). Opening it first repairs a torn tail as any open does (a standby's open: nothing is appended).
    /// </summary>
    /// <param name="storage">The WAL directory.</param>
    /// <param name="config">The WAL settings (segment size and preallocation of the rewritten segment).</param>
    /// <param name="keepThroughLsn">The last LSN to keep; at least the WAL's first LSN - 1.</param>
    /// <param name="quarantineName">The quarantine file's name without directory and suffix (e.g. <c>rewind-3-120</c>).</param>
    /// <param name="coveredLsn">The newest checkpoint's LSN, as for opening (a hole an interrupted retention left below it).</param>
    /// <param name="logger">Logging.</param>
    /// <exception cref="InvalidOperationException">The WAL starts after <paramref name="keepThroughLsn"/> + 1, or the cut falls in a compressed segment.</exception>
    /// <exception cref="IOException">A step failed; the log is still a valid prefix holding every record kept.</exception>
    public static WalTruncationResult TruncateAfter(
        IWalStorage storage, WalConfig config, long keepThroughLsn, string quarantineName, long? coveredLsn, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keepThroughLsn);
        ArgumentException.ThrowIfNullOrWhiteSpace(quarantineName);
        string quarantine = $"{WalQuarantine.DirectoryName}/{quarantineName}{FramesSuffix}";
        long last, first;
        WalSegmentSet segments;
        using (WalManager wal = WalManager.Open(storage, config, logger, coveredLsn: coveredLsn, standby: true))
        {
            last = wal.LastLsn;
            first = wal.FirstLsn;
            segments = wal.Segments;
            if (last <= keepThroughLsn)
            {
                return new WalTruncationResult(last, 0, 0, null, 0);
            }

            if (keepThroughLsn + 1 < first)
            {
                throw new InvalidOperationException(
                    $"The WAL in '{storage.Directory}' starts at LSN {first}: it cannot be cut after LSN {keepThroughLsn}, whose records it no longer holds.");
            }

            if (!storage.Exists(quarantine))
            {
                using WalTailReader reader = wal.OpenTailReader(keepThroughLsn + 1);
                CopyFrames(storage, reader, quarantine, last);
            }
        }

        SegmentBound cut = segments.All.Last(s => s.FirstLsn <= keepThroughLsn + 1);
        if (WalSegmentName.IsCompressed(cut.Name))
        {
            throw new InvalidOperationException($"The WAL in '{storage.Directory}' would be cut inside the compressed segment '{cut.Name}'; rewinding that far is not supported.");
        }

        using IDisposable directoryLock = storage.AcquireLock();
        long cutOffset = OffsetOf(storage, cut, keepThroughLsn + 1);
        // From here on nothing after the cut is claimed durable: a scan never judges the bytes being removed as
        // records that must be there.
        WalControlFile.OpenAndWrite(storage, new WalControlState(new WalDurablePoint(cut.SegmentId, cutOffset, keepThroughLsn), SyncFailed: false)).Dispose();
        int removed = 0;
        foreach (SegmentBound later in segments.All.Where(s => s.SegmentId > cut.SegmentId).Reverse())
        {
            storage.Delete(later.Name);
            storage.SyncDirectory(); // newest first, one at a time: a crash leaves a gapless prefix
            removed++;
        }

        Rewrite(storage, config, cut, cutOffset);
        logger.LogWarning(
            "WAL: cut '{Directory}' after LSN {Keep}: records {From}-{To} removed ({Segments} segments deleted); they are kept in '{Copy}'.",
            storage.Directory, keepThroughLsn, keepThroughLsn + 1, last, removed, Path.Combine(storage.Directory, quarantine));
        return new WalTruncationResult(keepThroughLsn, keepThroughLsn + 1, last, quarantine, removed);
    }

    /// <summary>Reads the records of a quarantine file back (their salted checksums verified).</summary>
    public static List<WalReplicatedRecord> ReadQuarantined(IWalStorage storage, string quarantineFile)
    {
        using IWalFile file = storage.Open(quarantineFile, writable: false);
        var bytes = new byte[file.Length];
        file.Read(0, bytes);
        if (bytes.Length == 0)
        {
            return [];
        }

        long firstLsn = WalFormat.ReadRecordHeader(bytes.AsSpan(WalReplicationFrames.SaltSize)).Lsn;
        long frames = 0;
        for (int offset = 0; offset + WalReplicationFrames.SaltSize + WalFormat.RecordHeaderSize <= bytes.Length; frames++)
        {
            WalRecordHeader h = WalFormat.ReadRecordHeader(bytes.AsSpan(offset + WalReplicationFrames.SaltSize));
            offset += WalReplicationFrames.SaltSize + WalFormat.RecordSize(Math.Clamp(h.PayloadLength, 0, WalFormat.MaxPayloadLength));
        }

        return WalReplicationFrames.Verify(bytes, firstLsn, firstLsn, firstLsn + frames - 1); // checks every frame whole
    }

    private static void CopyFrames(IWalStorage storage, WalTailReader reader, string quarantine, long last)
    {
        storage.CreateSubdirectory(WalQuarantine.DirectoryName);
        string temp = quarantine + WalSegmentName.TempSuffix;
        if (storage.Exists(temp))
        {
            storage.Delete(temp); // left by a crash mid-copy
        }

        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        using (IWalFile copy = storage.Create(temp, 0))
        {
            long position = 0;
            while (reader.NextLsn <= last)
            {
                buffer.ResetWrittenCount();
                if (reader.Read(buffer, 1 << 20) == 0)
                {
                    throw new InvalidDataException($"The WAL in '{storage.Directory}' ended at LSN {reader.NextLsn - 1} while its last LSN is {last}.");
                }

                copy.Write(position, buffer.WrittenSpan);
                position += buffer.WrittenCount;
            }

            copy.Sync();                                       // the records are on disk before the name says so
        }

        storage.Rename(temp, quarantine);
        storage.SyncSubdirectory(WalQuarantine.DirectoryName); // the name survives a power loss
    }

    /// <summary>The offset in <paramref name="segment"/> where the record <paramref name="lsn"/> starts (its first LSN: right after the header).</summary>
    private static long OffsetOf(IWalStorage storage, SegmentBound segment, long lsn)
    {
        using WalSegmentReader reader = new WalReader(storage, null).OpenSegment(segment with { Limit = -1 });
        while (reader.NextLsn < lsn)
        {
            if (!reader.TryReadNext(out _, out _))
            {
                throw new WalCorruptionException(reader.Path, reader.Offset, $"the segment ends before LSN {lsn} ({reader.End?.Reason})");
            }
        }

        return reader.Offset;
    }

    /// <summary>Replaces <paramref name="segment"/> by its bytes before <paramref name="cutOffset"/> (zeros after): whole or not at all.</summary>
    private static void Rewrite(IWalStorage storage, WalConfig config, SegmentBound segment, long cutOffset)
    {
        string temp = segment.Name + WalSegmentName.TempSuffix;
        if (storage.Exists(temp))
        {
            storage.Delete(temp);
        }

        using (IWalFile source = storage.Open(segment.Name, writable: false))
        using (IWalFile copy = storage.Create(temp, config.PreallocateSegments ? Math.Max(config.SegmentSizeBytes, cutOffset) : 0))
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
            try
            {
                for (long position = 0; position < cutOffset;)
                {
                    int read = source.Read(position, buffer.AsSpan(0, (int)Math.Min(buffer.Length, cutOffset - position)));
                    if (read == 0)
                    {
                        throw new InvalidDataException($"'{segment.Name}' ended at byte {position}, before the cut at {cutOffset}.");
                    }

                    copy.Write(position, buffer.AsSpan(0, read));
                    position += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            copy.Sync();                        // the kept bytes are on disk before the name points at them
        }

        storage.Rename(temp, segment.Name);     // atomic: the segment is the old one or the cut one
        storage.SyncDirectory();                // the rename survives a power loss
    }
}

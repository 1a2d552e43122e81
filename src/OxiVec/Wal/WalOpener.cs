using Microsoft.Extensions.Logging;

namespace OxiVec.Wal;

/// <summary>
/// Opening a WAL directory: removes half-created segments, checks every segment header and the order of the
/// segments, scans the newest segment to its tail, cuts a torn last write off (zeroing it, so the bytes can never
/// come back), and hands the tail to a <see cref="WalWriter"/>.
/// </summary>
internal static partial class WalOpener
{
    /// <param name="writer">The writer positioned at the tail.</param>
    /// <param name="report">What opening found and repaired.</param>
    /// <param name="lastCheckpointTimestamp">When the newest checkpoint record in the scanned tail was written (a <see cref="TimeProvider"/> timestamp), or null when the tail has none.</param>
    public delegate WalManager Factory(WalWriter writer, WalOpenReport report, long? lastCheckpointTimestamp);

    /// <summary>
    /// Opens the WAL. <paramref name="coveredLsn"/> is the newest checkpoint's LSN, when the caller has one: a hole
    /// in the segments whose missing records all lie at or below it is a retention that a power loss interrupted,
    /// not damage, and the segments before the hole are deleted as leftovers. Without it any hole is corruption.
    /// </summary>
    public static WalManager Open(
        IWalStorage storage, WalConfig config, TimeProvider time, ILogger logger, WalInstrumentation instrumentation, bool skipCorrupted, Factory create,
        long? coveredLsn = null, bool standby = false, long firstLsn = 1)
    {
        List<string> spares = RemoveTemporaryFiles(storage, logger);
        WalControlState? control = ReadControl(storage, logger, skipCorrupted);
        List<SegmentBound> segments = ListSegments(storage, coveredLsn, logger);
        WalDurablePoint? point = control?.Point;
        var reader = new WalReader(storage, null, point);
        if (reader.MissingDurableSegment(segments) is { } missing)
        {
            if (!skipCorrupted)
            {
                throw new WalCorruptionException(Path.Combine(storage.Directory, WalControlFile.FileName), 0, missing);
            }

            logger.LogError("WAL: {Problem}; going on because corrupted entries are to be skipped.", missing);
            point = null;
            reader = new WalReader(storage, null, null);
        }

        if (spares.Count > 0 && SettleSpares(storage, reader, segments, spares, control, skipCorrupted, logger))
        {
            // A spare became the newest segment: open again, from the listing on.
            return Open(storage, config, time, logger, instrumentation, skipCorrupted, create, coveredLsn, standby, firstLsn);
        }

        if (segments.Count == 0)
        {
            return CreateNew(storage, config, time, instrumentation, create, standby, firstLsn);
        }

        if (control is { SyncFailed: true } failed && point is not null)
        {
            EvictUnsynced(storage, segments, failed.Point, logger);
        }

        var sealedSegments = new List<SegmentBound>();
        for (int i = 0; i < segments.Count - 1; i++)
        {
            sealedSegments.Add(CheckSealedHeader(storage, segments[i]));
        }

        SegmentBound last = segments[^1];
        string lastPath = Path.Combine(storage.Directory, last.Name);
        var skipped = new List<WalSkippedRange>();
        TailScan tail = ScanTail(reader, last, openTransaction: null, skipCorrupted ? skipped : null);
        if (tail.LastLsn < last.FirstLsn && segments.Count > 1)
        {
            // The newest segment is empty: whether a transaction is open depends on how the previous one ended
            // (a crash right after rotation can cut a transaction at the segment boundary). The previous segment
            // may be compressed: the reader decompresses it.
            TailScan before = ScanTail(reader, segments[^2], openTransaction: null, skipped: null);
            tail = tail with { OpenTransaction = before.OpenTransaction };
        }

        if (tail.End.Kind == WalSegmentEndKind.Corrupt)
        {
            throw new WalCorruptionException(lastPath, tail.End.Offset, tail.End.Reason!);
        }

        IWalFile active = storage.Open(last.Name, writable: true);
        WalWriter? writer = null;
        WalControlUpdater? updater = null;
        try
        {
            // Every byte a repair passes over is kept in the quarantine, durably, before anything changes.
            List<WalSkippedRange> kept = [.. skipped.Select(r => r with { QuarantineFile = WalQuarantine.Keep(storage, active, last.Name, r.Offset, r.Bytes) })];
            long tornBytes = 0;
            string? tornCopy = null;
            if (tail.End.Kind == WalSegmentEndKind.Torn)
            {
                tornBytes = tail.End.GarbageBytes;
                tornCopy = WalQuarantine.Keep(storage, active, last.Name, tail.End.Offset, tornBytes);
                ZeroFill(active, tail.End.Offset, tail.End.GarbageBytes);
                logger.LogWarning(
                    "WAL: cut a torn last write of {Bytes} bytes at offset {Offset} of '{File}' ({Reason}); it was never acknowledged. The bytes are kept in '{Copy}'.",
                    tornBytes, tail.End.Offset, lastPath, tail.End.Reason, Path.Combine(storage.Directory, tornCopy));
            }

            // The crashed process may have left written-but-unsynced records in the page cache: make them durable
            // before new records claim (through their durable distance) that they are. Then the control file says so.
            active.Sync();
            var opened = new WalDurablePoint(last.SegmentId, tail.End.Offset, tail.LastLsn);
            updater = new WalControlUpdater(
                WalControlFile.OpenAndWrite(storage, new WalControlState(opened, SyncFailed: false)), opened, time, ex => writer?.FailFromControl(ex), instrumentation.ControlWritten);
            writer = new WalWriter(
                storage, config, time, instrumentation, sealedSegments, active, tail.Header, tail.End.Offset, tail.LastLsn, tail.LastTimestampMicros)
            {
                Control = updater,
                Standby = standby,
            };
            // A standby never appends its own records: the open transaction's commit may still come from the primary.
            long? aborted = standby ? null : tail.OpenTransaction;
            if (aborted is { } beginLsn)
            {
                long lsn = writer.Append([new WalEntry.TransactionAbort(beginLsn)], transactional: false);
                writer.WaitFor(lsn, durable: true);
                logger.LogWarning("WAL: the transaction begun at LSN {BeginLsn} was cut off by a crash; logged its abort.", beginLsn);
            }

            var report = new WalOpenReport(
                segments.Count, tail.LastLsn, tornBytes, tornBytes > 0 ? last.Name : null, tornBytes > 0 ? tail.End.Offset : 0,
                tornBytes > 0 ? tail.End.Reason : null, aborted, IsNew: false)
            {
                SkippedRanges = kept,
                TornTailQuarantineFile = tornCopy,
            };
            if (kept.Count > 0)
            {
                // Seal the damaged segment: new records go to a fresh one, and recovery from a later checkpoint
                // never has to read the damage again.
                writer.RequestRotation();
                logger.LogError(
                    "WAL: skipped {Ranges} damaged ranges in '{File}' ({Records} records lost) because corrupted entries are to be skipped; the bytes are kept in {Copies}.",
                    kept.Count, lastPath, kept.Sum(r => r.Records), string.Join(", ", kept.Select(r => r.QuarantineFile)));
            }

            long? checkpointTimestamp = tail.LastCheckpointMicros is { } micros ? WalManager.TimestampOf(time, WalRecord.FromMicros(micros)) : null;
            return create(writer, report, checkpointTimestamp);
        }
        catch
        {
            if (writer is null)
            {
                active.Dispose();
                updater?.Dispose();
            }
            else if (!writer.IsFailed)
            {
                writer.Dispose();
            }
            else
            {
                updater?.Dispose();
            }

            throw;
        }
    }

    /// <summary>Reads the control file; a damaged one is corruption unless opening skips corruption (then nothing is known).</summary>
    private static WalControlState? ReadControl(IWalStorage storage, ILogger logger, bool skipCorrupted)
    {
        try
        {
            return WalControlFile.Read(storage);
        }
        catch (WalCorruptionException ex) when (skipCorrupted)
        {
            logger.LogError("WAL: {Problem}; going on without it because corrupted entries are to be skipped.", ex.Message);
            return null;
        }
    }

    /// <summary>
    /// After an fsync of the WAL failed (the control file says so), the page cache of this boot may hold bytes past
    /// the known-durable point that never reached the disk (Linux marks such pages clean after the error). They are
    /// dropped before the scan, so only what the disk holds is judged; what the disk lacks is then a torn tail past
    /// the point, never data treated as durable.
    /// </summary>
    private static void EvictUnsynced(IWalStorage storage, List<SegmentBound> segments, WalDurablePoint point, ILogger logger)
    {
        foreach (SegmentBound segment in segments.Where(s => s.SegmentId >= point.SegmentId && !WalSegmentName.IsCompressed(s.Name)))
        {
            storage.EvictCachedPages(segment.Name, point.DurableEndIn(segment.SegmentId));
        }

        logger.LogWarning(
            "WAL: an fsync failed before this open; cached bytes past LSN {Lsn} (offset {Offset} of segment {Segment}) were dropped so they are re-read from the disk.",
            point.Lsn, point.Offset, point.SegmentId);
    }

    /// <summary>
    /// Creates the first segment. <paramref name="firstLsn"/> is 1, or N + 1 for a standby's WAL that starts after a
    /// base backup of a checkpoint covering N.
    /// </summary>
    private static WalManager CreateNew(
        IWalStorage storage, WalConfig config, TimeProvider time, WalInstrumentation instrumentation, Factory create, bool standby, long firstLsn)
    {
        var header = new WalSegmentHeader(
            WalFormat.FormatVersion, 0, 1, firstLsn, WalRecord.ToMicros(time.GetUtcNow()), (uint)Random.Shared.Next(int.MinValue, int.MaxValue));
        string name = WalSegmentName.Format(1, firstLsn);
        IWalFile file = WalSegmentFiles.Create(storage, name, header, config.PreallocateSegments ? config.SegmentSizeBytes : 0);
        WalWriter? writer = null;
        WalControlUpdater? updater = null;
        try
        {
            var start = new WalDurablePoint(1, WalFormat.SegmentHeaderSize, firstLsn - 1);
            updater = new WalControlUpdater(
                WalControlFile.OpenAndWrite(storage, new WalControlState(start, SyncFailed: false)), start, time, ex => writer?.FailFromControl(ex), instrumentation.ControlWritten);
            writer = new WalWriter(storage, config, time, instrumentation, [], file, header, WalFormat.SegmentHeaderSize, firstLsn - 1, header.CreatedUnixMicros)
            {
                Control = updater,
                Standby = standby,
            };
        }
        catch
        {
            updater?.Dispose();
            file.Dispose();
            throw;
        }

        return create(writer, new WalOpenReport(1, firstLsn - 1, 0, null, 0, null, null, IsNew: true), null);
    }

    /// <summary>Deletes interrupted creations and compressions; returns the spares, which <see cref="SettleSpares"/> decides on.</summary>
    private static List<string> RemoveTemporaryFiles(IWalStorage storage, ILogger logger)
    {
        List<string> temporary = [.. storage.ListFiles(WalSegmentName.TempSuffix).Where(n => !WalSegmentName.IsSpare(n))];
        foreach (string name in temporary)
        {
            logger.LogInformation("WAL: removing '{File}', a segment whose creation a crash interrupted.", name);
            storage.Delete(name);
        }

        // A compressed twin next to its original: a crash interrupted compression before the original was deleted.
        IReadOnlyList<string> plain = storage.ListFiles(WalSegmentName.Suffix);
        List<string> twins = [.. storage.ListFiles(WalSegmentCompression.Suffix).Where(z => plain.Contains(Path.ChangeExtension(z, WalSegmentName.Suffix)))];
        foreach (string twin in twins)
        {
            logger.LogInformation("WAL: removing '{File}', a compressed copy whose original is still there.", twin);
            storage.Delete(twin);
        }

        if (temporary.Count > 0 || twins.Count > 0)
        {
            storage.SyncDirectory();
        }

        return [.. storage.ListFiles(WalSegmentName.TempSuffix).Where(WalSegmentName.IsSpare).Order(StringComparer.Ordinal)];
    }

    private static List<SegmentBound> ListSegments(IWalStorage storage, long? coveredLsn, ILogger logger)
    {
        List<SegmentBound> segments = [.. new WalReader(storage, null).Segments()];
        DropLeftoversBeforeACoveredHole(storage, segments, coveredLsn, logger);
        for (int i = 1; i < segments.Count; i++)
        {
            if (segments[i].SegmentId != segments[i - 1].SegmentId + 1 || segments[i].FirstLsn <= segments[i - 1].FirstLsn)
            {
                throw new WalCorruptionException(
                    Path.Combine(storage.Directory, segments[i].Name), 0,
                    $"segment {segments[i].SegmentId} starting at LSN {segments[i].FirstLsn} does not follow segment {segments[i - 1].SegmentId} starting at LSN {segments[i - 1].FirstLsn}: a segment is missing or out of order");
            }
        }

        return segments;
    }

    /// <summary>
    /// When the last hole between segments lies wholly at or below <paramref name="coveredLsn"/>, deletes the
    /// segments before it (oldest first, then one directory fsync) and removes them from <paramref name="segments"/>.
    /// </summary>
    private static void DropLeftoversBeforeACoveredHole(IWalStorage storage, List<SegmentBound> segments, long? coveredLsn, ILogger logger)
    {
        int hole = segments.Count - 1;
        while (hole > 0 && segments[hole].SegmentId == segments[hole - 1].SegmentId + 1 && segments[hole].FirstLsn > segments[hole - 1].FirstLsn)
        {
            hole--;
        }

        if (hole == 0 || coveredLsn is not { } covered || segments[hole].FirstLsn - 1 > covered)
        {
            return;
        }

        foreach (SegmentBound leftover in segments.Take(hole))
        {
            logger.LogWarning(
                "WAL: deleting '{File}', left before a hole in the log that ends at LSN {Lsn}, which the checkpoint at LSN {Covered} covers " +
                "(retention was interrupted by a crash).", leftover.Name, segments[hole].FirstLsn - 1, covered);
            storage.Delete(leftover.Name);
        }

        storage.SyncDirectory();
        segments.RemoveRange(0, hole);
    }

    private static SegmentBound CheckSealedHeader(IWalStorage storage, SegmentBound segment)
    {
        using IWalFile file = storage.Open(segment.Name, writable: false);
        Span<byte> bytes = stackalloc byte[WalFormat.SegmentHeaderSize];
        int read = file.Read(0, bytes);
        string path = Path.Combine(storage.Directory, segment.Name);
        if (!WalFormat.TryReadSegmentHeader(bytes[..read], out WalSegmentHeader header, out string? error))
        {
            throw new WalCorruptionException(path, 0, error!);
        }

        if (header.SegmentId != segment.SegmentId || header.FirstLsn != segment.FirstLsn)
        {
            throw new WalCorruptionException(path, 0, $"header names segment {header.SegmentId} at LSN {header.FirstLsn}; the file name disagrees");
        }

        return segment with { Limit = file.Length };
    }

    private static TailScan ScanTail(WalReader walReader, SegmentBound segment, long? openTransaction, List<WalSkippedRange>? skipped)
    {
        using WalSegmentReader reader = walReader.OpenSegment(segment);
        long? lastCheckpoint = null;
        long lastTimestamp = reader.Header.CreatedUnixMicros;
        while (true)
        {
            if (!reader.TryReadNext(out WalRecordHeader h, out _))
            {
                // With skipping on, damage followed by valid records is passed over and the scan goes on.
                if (skipped is not null && reader.End!.Value.Kind == WalSegmentEndKind.Corrupt && SkipDamage(reader, segment.Name, skipped))
                {
                    openTransaction = null; // a transaction cut by the damage can never commit
                    continue;
                }

                break;
            }

            lastTimestamp = h.TimestampMicros;
            openTransaction = h.Type switch
            {
                WalRecordType.TransactionBegin => h.Lsn,
                WalRecordType.TransactionCommit or WalRecordType.TransactionAbort => null,
                _ when h.Flags.HasFlag(WalRecordFlags.TransactionMember) => openTransaction ?? 0,
                _ => null,
            };
            if (h.Type == WalRecordType.Checkpoint)
            {
                lastCheckpoint = h.TimestampMicros;
            }
        }

        return new TailScan(reader.Header, reader.End!.Value, reader.NextLsn - 1, lastTimestamp, openTransaction, lastCheckpoint);
    }

    private static bool SkipDamage(WalSegmentReader reader, string name, List<WalSkippedRange> skipped)
    {
        if (!reader.TrySkipDamage(name, out WalSkippedRange? range))
        {
            return false;
        }

        skipped.Add(range!);
        return true;
    }

    /// <summary>Overwrites a torn write with zeros and syncs, so a later scan sees unwritten space there.</summary>
    private static void ZeroFill(IWalFile file, long offset, long count)
    {
        var zeros = new byte[(int)Math.Min(count, 1 << 20)];
        for (long done = 0; done < count; done += zeros.Length)
        {
            file.Write(offset + done, zeros.AsSpan(0, (int)Math.Min(zeros.Length, count - done)));
        }

        file.Sync();
    }

    private readonly record struct TailScan(
        WalSegmentHeader Header, WalSegmentEnd End, long LastLsn, long LastTimestampMicros, long? OpenTransaction, long? LastCheckpointMicros);
}

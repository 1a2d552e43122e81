using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using OxiVec.Indexing;
using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;

namespace OxiVec.Storage;

/// <summary>Recovery on open: the newest valid checkpoint, then replay of the committed WAL after it.</summary>
public sealed partial class VectorDatabase
{
    /// <summary>
    /// A data directory with checkpoints but no WAL segments would start a new WAL whose LSNs restart below the
    /// checkpoint's, and the next recovery would skip the new records: refuse before creating anything.
    /// </summary>
    private static void RefuseCheckpointsWithoutWal(string data, string walDir)
    {
        bool hasSegments = Directory.Exists(walDir) && Directory.EnumerateFiles(walDir, "*.wal*").Any();
        if (!hasSegments && CheckpointFiles.List(Path.Combine(data, CheckpointFiles.DirectoryName), removeHalfBuilt: false).Count > 0)
        {
            throw new InvalidDataException(
                $"'{data}' holds checkpoints but '{walDir}' holds no WAL: if the database's WAL is elsewhere, set WalDirectory. " +
                "Opening it with a new WAL would lose the writes logged after the newest checkpoint, so it is refused.");
        }
    }

    /// <summary>
    /// Loads the newest valid checkpoint (falling back to older ones when it is damaged), then replays the committed
    /// WAL records after it (idempotently: inserts replace, deletes of absent ids are no-ops). Every phase runs
    /// against <see cref="VectorDatabaseOptions.MaxRecoveryTimeMs"/>.
    /// </summary>
    private void Replay(long start, VectorDatabaseOptions options)
    {
        using var deadline = new RecoveryDeadline(_time, start, options.MaxRecoveryTimeMs, $"Recovery of '{DataDirectory}'");
        long coveredLsn = LoadNewestCheckpoint(deadline);
        if (_wal.LastLsn < coveredLsn)
        {
            throw new InvalidDataException(
                $"The WAL in '{_wal.Directory}' ends at LSN {_wal.LastLsn}, before LSN {coveredLsn} that the newest checkpoint covers: it is not the WAL " +
                "this database wrote (is its WAL elsewhere? set WalDirectory), or the WAL was lost. Opening would lose writes, so it is refused.");
        }

        RefuseGapAfterCheckpoint(coveredLsn);
        long total = 0, applied = 0, discarded = 0, bytes = 0;
        var skipped = new List<WalSkippedRange>(_wal.OpenReport.SkippedRanges);
        IEnumerable<WalRecord> records = options.SkipCorruptedEntries
            ? _wal.ReadRecordsSkippingCorruption(coveredLsn + 1, skipped.Add)
            : _wal.ReadRecords(coveredLsn + 1, options.RecoveryParallelism);
        var openTransaction = new List<WalRecord>(); // a standby's: the trailing transaction its primary has not committed yet
        long openBegin = 0;
        IEnumerable<WalRecord> counted = records.Select(r =>
        {
            bytes += WalFormat.RecordSize(r.Payload.Length);
            TrackOpenTransaction(r, openTransaction, ref openBegin);
            return r;
        });
        foreach (WalRecord record in WalCommittedRecords.Filter(counted, _ => discarded++))
        {
            total++;
            if ((total & 63) == 0)
            {
                deadline.Check($"replaying the WAL ({total} records, up to LSN {record.Lsn} of {_wal.LastLsn}; the WAL is intact)");
            }

            StoreOperation? operation = FromRecord(record);
            if (operation is null)
            {
                continue;
            }

            ApplyLogical(operation, record.Lsn);
            ApplyTogether([operation], record.Lsn);
            applied++;
        }

        deadline.Check($"replaying the WAL ({total} records, up to LSN {_wal.LastLsn}; the WAL is intact)");
        _appliedLsn = _wal.LastLsn;
        if (_standby is not null && openBegin > 0)
        {
            ResumeOpenTransaction(openBegin, openTransaction);
        }

        _appliedWaiters.Advance(_appliedLsn);
        _uncoveredWalBase = _wal.BytesAppended - bytes;
        IReadOnlyList<WalSkippedRange> distinct = [.. skipped.DistinctBy(r => (r.SegmentFile, r.Offset))];
        long corrupted = distinct.Sum(r => r.Records);
        long read = Math.Max(0, _wal.LastLsn - coveredLsn);
        Recovery = new RecoveryStats(
            read, applied, read - applied - corrupted, corrupted, deadline.ElapsedMs,
            _wal.OpenReport.TornTailBytes, _wal.LastLsn)
        { CheckpointLsn = coveredLsn, SkippedRanges = distinct };
        if (corrupted > 0)
        {
            _logger.LogError(
                "Recovery SKIPPED {Count} corrupted WAL records in {Ranges} ranges; their writes are lost: {Ranges2}",
                corrupted, distinct.Count, string.Join("; ", distinct.Select(r => $"{r.SegmentFile}@{r.Offset}: LSN {r.FromLsn}-{r.ToLsn} ({r.Reason})")));
        }
        _logger.LogInformation(
            "Recovered from checkpoint LSN {Checkpoint}: applied {Applied} of {Read} WAL records ({Discarded} from uncommitted transactions) in {Ms} ms.",
            coveredLsn, applied, read, discarded, Recovery.RecoveryTimeMs);
    }

    /// <summary>
    /// The WAL must continue the checkpoint: its first LSN (the first record's, or where an empty WAL would write
    /// its first) may not lie past the checkpoint's covered LSN + 1, or the records in between are gone.
    /// </summary>
    private void RefuseGapAfterCheckpoint(long coveredLsn)
    {
        long firstLsn = _wal.FirstLsn;
        if (firstLsn > coveredLsn + 1)
        {
            string basis = LastCheckpoint is { } checkpoint ? $"the newest usable checkpoint '{checkpoint.Path}'" : "no usable checkpoint";
            string segment = _wal.FirstSegmentName is { } name ? $" (its oldest segment is '{name}')" : "";
            throw new InvalidDataException(
                $"The WAL in '{_wal.Directory}' starts at LSN {firstLsn}{segment}{(_wal.LastLsn < firstLsn ? " and holds no record" : "")}, " +
                $"but {basis} covers only up to LSN {coveredLsn}: records {coveredLsn + 1} to {firstLsn - 1} are gone. Opening would lose them, so it is refused.");
        }
    }

    /// <summary>
    /// Loads the newest checkpoint that validates; returns the LSN it covers (0 without one). A checkpoint that fails
    /// to load for any reason (damage, or bytes that pass their checksum but do not decode) is logged naming it, and
    /// the next older one is tried. The next checkpoint's sequence number follows the highest on disk, damaged or not.
    /// </summary>
    private long LoadNewestCheckpoint(RecoveryDeadline deadline)
    {
        List<CheckpointEntry> entries = CheckpointFiles.List(CheckpointRoot, storage: _checkpointStorage);
        _checkpointSequence = entries.Count == 0 ? 0 : entries.Max(e => e.Sequence);
        foreach (CheckpointEntry entry in entries)
        {
            CheckpointData data;
            List<Collection> restored;
            try
            {
                data = deadline.Run($"loading checkpoint '{entry.Path}'", token => CheckpointFiles.Read(entry, _checkpointStorage, omitIndexedVectors: true, token));
                restored = [.. data.Collections.Select(c => deadline.Run(
                    $"restoring collection '{c.Name}' from checkpoint '{entry.Path}'",
                    token => Collection.Restore(c.Name, c.Options, c.Image, c.Index ?? Collection.RebuildIndex(c.Name, c.Options, c.Image, token), _versions)))];
            }
            catch (Exception ex) when (ex is not (RecoveryTimeoutException or OutOfMemoryException))
            {
                _logger.LogWarning(ex, "Checkpoint '{Path}' is damaged; trying an older one.", entry.Path);
                continue;
            }

            foreach (Collection c in restored)
            {
                _logical[c.Name] = new LogicalCollection(c.Options, createdLsn: 0) { Store = c };
                _collections[c.Name] = c;
            }

            RestoreTransactions(data.Transactions);
            _versions.Publish(data.CoveredLsn);
            _validCheckpoints.Add(entry.Path);
            _wal.NoteCheckpointWritten(data.Created);
            LastCheckpoint = new CheckpointInfo(data.Sequence, data.CoveredLsn, data.Path, 0, 0, 0) { Created = data.Created };
            return data.CoveredLsn;
        }

        return 0;
    }

    private StoreOperation? FromRecord(WalRecord record)
    {
        WalEntry entry = record.ToEntry();
        try
        {
            StoreOperation? operation = entry switch
            {
                WalEntry.Insert i => Put(i.Collection, i.Id, i.Vector, i.Metadata),
                WalEntry.Update u => Put(u.Collection, u.Id, u.Vector, u.Metadata),
                WalEntry.Delete d => RequireCollection(d.Collection) is not null ? new StoreOperation.Remove(d.Collection, d.Id) : null,
                WalEntry.Custom { Operation: SchemaOperations.CreateCollection } c => CreateFrom(c.Payload.Span),
                WalEntry.Custom { Operation: SchemaOperations.DropCollection } c => new StoreOperation.Drop(SchemaOperations.ReadDrop(c.Payload.Span)),
                _ => FromTransactionEntry(entry, record.Lsn),
            };
            return operation;
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or KeyNotFoundException)
        {
            throw new InvalidDataException(
                $"WAL record LSN {record.Lsn} ({record.Type}) in '{record.SegmentFile}' at offset {record.Offset} cannot be applied: {ex.Message}", ex);
        }

        StoreOperation Put(string collection, string id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> metadata)
        {
            LogicalCollection c = RequireCollection(collection);
            VectorMath.Validate(c.Options.Metric, c.Options.Dimension, vector.Span, nameof(vector));
            // The entry was decoded for this call alone: its arrays are taken as they are, not copied again.
            return new StoreOperation.Put(collection, id, WholeArray(vector), MetadataCodec.Decode(metadata.Span), WholeArray(metadata), !ExistsLocked(collection, c, id));
        }

        static T[] WholeArray<T>(ReadOnlyMemory<T> memory) =>
            MemoryMarshal.TryGetArray(memory, out ArraySegment<T> segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : memory.ToArray();

        StoreOperation CreateFrom(ReadOnlySpan<byte> payload)
        {
            (string name, CollectionOptions options) = SchemaOperations.ReadCreate(payload);
            return new StoreOperation.Create(name, options);
        }
    }
}

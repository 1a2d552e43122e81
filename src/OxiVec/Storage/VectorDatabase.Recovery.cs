using System.Diagnostics;
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
    /// WAL records after it (idempotently: inserts replace, deletes of absent ids are no-ops).
    /// </summary>
    private void Replay(long start, VectorDatabaseOptions options)
    {
        long coveredLsn = LoadNewestCheckpoint();
        if (_wal.LastLsn < coveredLsn)
        {
            throw new InvalidDataException(
                $"The WAL in '{_wal.Directory}' ends at LSN {_wal.LastLsn}, before LSN {coveredLsn} that the newest checkpoint covers: it is not the WAL " +
                "this database wrote (is its WAL elsewhere? set WalDirectory), or the WAL was lost. Opening would lose writes, so it is refused.");
        }

        long firstLsn = _wal.FirstLsn;
        if (firstLsn > coveredLsn + 1 && _wal.LastLsn >= firstLsn)
        {
            throw new InvalidDataException(
                $"The WAL in '{_wal.Directory}' starts at LSN {firstLsn}, but the newest usable checkpoint covers only up to LSN {coveredLsn}: records {coveredLsn + 1} to {firstLsn - 1} are gone.");
        }

        long total = 0, applied = 0, discarded = 0;
        var skipped = new List<WalSkippedRange>(_wal.OpenReport.SkippedRanges);
        IEnumerable<WalRecord> records = options.SkipCorruptedEntries
            ? _wal.ReadRecordsSkippingCorruption(coveredLsn + 1, skipped.Add)
            : _wal.ReadRecords(coveredLsn + 1, options.RecoveryParallelism);
        foreach (WalRecord record in WalCommittedRecords.Filter(records, _ => discarded++))
        {
            total++;
            if (options.MaxRecoveryTimeMs > 0 && (total & 1023) == 0 && Stopwatch.GetElapsedTime(start).TotalMilliseconds > options.MaxRecoveryTimeMs)
            {
                throw new RecoveryTimeoutException(
                    $"Recovery of '{DataDirectory}' exceeded MaxRecoveryTimeMs = {options.MaxRecoveryTimeMs} after replaying {total} records up to LSN {record.Lsn} of {_wal.LastLsn}; the WAL is intact (at most a torn tail was cut). Raise the limit or checkpoint more often.");
            }

            StoreOperation? operation = FromRecord(record);
            if (operation is null)
            {
                continue;
            }

            ApplyLogical(operation);
            Apply(operation);
            applied++;
        }

        _appliedLsn = _wal.LastLsn;
        IReadOnlyList<WalSkippedRange> distinct = [.. skipped.DistinctBy(r => (r.SegmentFile, r.Offset))];
        long corrupted = distinct.Sum(r => r.Records);
        long read = Math.Max(0, _wal.LastLsn - coveredLsn);
        Recovery = new RecoveryStats(
            read, applied, read - applied - corrupted, corrupted, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds,
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

    /// <summary>Loads the newest checkpoint that validates; returns the LSN it covers (0 without one).</summary>
    private long LoadNewestCheckpoint()
    {
        foreach (CheckpointEntry entry in CheckpointFiles.List(CheckpointRoot, storage: _checkpointStorage))
        {
            CheckpointData data;
            List<Collection> restored;
            try
            {
                data = CheckpointFiles.Read(entry, _checkpointStorage);
                restored = [.. data.Collections.Select(c => Collection.Restore(c.Name, c.Options, c.Image, c.Index ?? Collection.RebuildIndex(c.Name, c.Options, c.Image)))];
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                _logger.LogWarning(ex, "Checkpoint '{Path}' is damaged; trying an older one.", entry.Path);
                continue;
            }

            foreach (Collection c in restored)
            {
                _logical[c.Name] = new LogicalCollection(c.Options);
                _logical[c.Name].Ids.UnionWith(c.Ids());
                _collections[c.Name] = c;
            }

            _checkpointSequence = data.Sequence;
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
                _ => null,
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
            return new StoreOperation.Put(collection, id, vector.ToArray(), MetadataCodec.Decode(metadata.Span), metadata.ToArray(), !c.Ids.Contains(id));
        }

        StoreOperation CreateFrom(ReadOnlySpan<byte> payload)
        {
            (string name, CollectionOptions options) = SchemaOperations.ReadCreate(payload);
            return new StoreOperation.Create(name, options);
        }
    }
}

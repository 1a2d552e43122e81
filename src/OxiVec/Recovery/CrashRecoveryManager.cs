using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Internal;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
using OxiVec.Transactions;
using OxiVec.Wal;

namespace OxiVec.Recovery;

/// <summary>
/// Crash recovery and point-in-time recovery (the guide's <c>CrashRecoveryManager</c>). <see cref="Recover"/>
/// opens the database: newest valid checkpoint, then replay of the committed WAL after it.
/// <see cref="RecoverToPointInTime"/> rebuilds the state as of an LSN or a time into a new directory, leaving the
/// source untouched.
/// </summary>
public sealed class CrashRecoveryManager
{
    private readonly RecoveryConfig _config;
    private readonly VectorDatabaseOptions _options;
    private RecoveryStats? _stats;

    /// <summary>Creates the manager.</summary>
    /// <param name="config">Where the database is and how to recover it.</param>
    /// <param name="options">Further database options (WAL settings, logging); their recovery settings are taken from <paramref name="config"/>.</param>
    public CrashRecoveryManager(RecoveryConfig config, VectorDatabaseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        _options = (options ?? new VectorDatabaseOptions()) with
        {
            WalDirectory = config.WalDir ?? options?.WalDirectory,
            SkipCorruptedEntries = config.SkipCorruptedEntries,
            MaxRecoveryTimeMs = config.MaxRecoveryTimeMs,
            RecoveryParallelism = config.Parallelism,
        };
    }

    private ILogger Logger => (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<CrashRecoveryManager>();

    private string WalDir => _options.WalDirectory ?? Path.Combine(Path.GetFullPath(_config.DataDir), "wal");

    private string CheckpointRoot => Path.Combine(Path.GetFullPath(_config.DataDir), CheckpointFiles.DirectoryName);

    /// <summary>Opens the database, recovering it. The caller owns (disposes) the result.</summary>
    /// <exception cref="WalCorruptionException">Damage in the WAL (unless corrupted entries are skipped).</exception>
    /// <exception cref="RecoveryTimeoutException">Recovery took longer than <see cref="RecoveryConfig.MaxRecoveryTimeMs"/>.</exception>
    public VectorDatabase Recover()
    {
        VectorDatabase database = VectorDatabase.Open(_config.DataDir, _options);
        _stats = database.Recovery;
        return database;
    }

    /// <summary>The statistics of the last recovery (the guide's <c>get_recovery_stats</c>).</summary>
    /// <exception cref="InvalidOperationException">Nothing was recovered yet.</exception>
    public RecoveryStats GetRecoveryStats() => _stats ?? throw new InvalidOperationException("No recovery has run yet; call Recover or RecoverToPointInTime first.");

    /// <summary>Reads every entry of the WAL without changing it (manual recovery; the guide's <c>read_all_entries</c>).</summary>
    public IEnumerable<WalEntry> ReadAllEntries() => new WalReader(WalDir).ReadAllEntries();

    /// <summary>
    /// Builds, in the new directory <paramref name="targetDataDir"/>, the database as it was at
    /// <paramref name="target"/>: the newest checkpoint at or before it, plus the committed WAL records up to it
    /// (a transaction counts only when its commit record is at or before the target). The source is only read.
    /// When a target time falls inside a frozen clock window (records that all carry one timestamp because the wall
    /// clock had stepped back), recovery proceeds by timestamp as before, logs a warning and reports the window in
    /// <see cref="RecoveryStats.FrozenClockWindows"/>: only a target LSN can split it.
    /// </summary>
    /// <remarks>
    /// The database is built in a temporary sibling directory (<c>.NAME.pitr-*.tmp</c>), checkpointed and closed, then
    /// renamed to <paramref name="targetDataDir"/> and the parent directory fsynced: an interrupted recovery (Ctrl+C,
    /// SIGTERM, a crash, a failure, <see cref="RecoveryConfig.MaxRecoveryTimeMs"/>) never leaves a half-built target
    /// that would open as if complete; at most a temporary sibling is left behind after a crash. If the source's WAL
    /// loses records meanwhile (retention of a live source), the read fails rather than skipping them.
    /// </remarks>
    /// <exception cref="ArgumentException">The target is older than anything retained (the message names the oldest reachable point), or after the end of the log; or the target directory is, is inside, or contains the source's data, WAL or checkpoint directory.</exception>
    /// <exception cref="IOException">The target directory exists and is not empty (or is a file).</exception>
    /// <exception cref="RecoveryTimeoutException">It took longer than <see cref="RecoveryConfig.MaxRecoveryTimeMs"/>; the target was not created.</exception>
    /// <exception cref="WalCorruptionException">The source's WAL is damaged, or lost records while it was read.</exception>
    public VectorDatabase RecoverToPointInTime(RecoveryTarget target, string targetDataDir, VectorDatabaseOptions? targetOptions = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentException.ThrowIfNullOrWhiteSpace(targetDataDir);
        string final = FullPath(targetDataDir);
        RefuseTargetOverlappingSource(final, nameof(targetDataDir));
        if (File.Exists(final))
        {
            throw new IOException($"The target '{final}' is a file; point-in-time recovery writes a new data directory.");
        }

        if (Directory.Exists(final) && Directory.EnumerateFileSystemEntries(final).Any())
        {
            throw new IOException($"The target directory '{final}' is not empty; point-in-time recovery writes a new database.");
        }

        TimeProvider time = _options.TimeProvider ?? TimeProvider.System;
        using var deadline = new RecoveryDeadline(time, time.GetTimestamp(), _config.MaxRecoveryTimeMs, $"Point-in-time recovery of '{FullPath(_config.DataDir)}' into '{final}'");
        var reader = new WalReader(WalDir);
        long firstLsn = 0, lastLsn = 0, scanned = 0;
        long targetLsn = target.Lsn ?? 0;
        var frozen = new FrozenClockWindows();
        foreach (WalRecord record in reader.ReadRecords())
        {
            if (firstLsn == 0)
            {
                firstLsn = record.Lsn;
            }

            if (target.Time is not null)
            {
                frozen.Add(record);
            }

            lastLsn = record.Lsn;
            if (target.Time is { } until && record.Timestamp <= until)
            {
                targetLsn = record.Lsn;
            }

            if ((++scanned & 63) == 0)
            {
                deadline.Check($"scanning the source's WAL for the target ({scanned} records)");
            }
        }

        firstLsn = firstLsn == 0 ? 1 : firstLsn;
        if (target.Lsn is { } wanted && wanted > lastLsn)
        {
            throw new ArgumentException($"The target LSN {wanted} is after the end of the log (last LSN {lastLsn}).", nameof(target));
        }

        List<CheckpointEntry> checkpoints = CheckpointFiles.List(CheckpointRoot, removeHalfBuilt: false);
        CheckpointData? basis = null;
        foreach (CheckpointEntry entry in checkpoints.Where(c => c.CoveredLsn <= targetLsn))
        {
            try
            {
                basis = deadline.Run($"loading checkpoint '{entry.Path}'", token => CheckpointFiles.Read(entry, cancellationToken: token));
                break;
            }
            catch (InvalidDataException)
            {
                // Damaged: an older checkpoint may still reach the target.
            }
        }

        try
        {
            long baseLsn = basis?.CoveredLsn ?? 0;
            if (firstLsn > baseLsn + 1)
            {
                // Reachable points: a checkpoint the retained WAL continues from, or LSN 0 when the WAL starts at 1.
                long[] reachable = [.. checkpoints.Select(c => c.CoveredLsn).Where(lsn => lsn + 1 >= firstLsn), .. firstLsn == 1 ? new long[] { 0 } : []];
                string oldest = reachable.Length == 0 ? "none: no checkpoint meets the retained WAL" : $"LSN {reachable.Min()}";
                throw new ArgumentException(
                    $"The target {target} (LSN {targetLsn}) is older than what is retained (the WAL starts at LSN {firstLsn}); the oldest reachable point is {oldest}.",
                    nameof(target));
            }

            VectorDatabaseOptions options = (targetOptions ?? new VectorDatabaseOptions { Wal = WalConfig.HighThroughput }) with { WalDirectory = null };
            IReadOnlyList<FrozenClockWindow> inside = target.Time is { } at ? [.. frozen.Windows.Where(w => w.Contains(at))] : [];
            foreach (FrozenClockWindow window in inside)
            {
                // Recovery proceeds (by timestamp, as asked); the operator learns that it could not split this window.
                Logger.LogWarning(
                    "Point-in-time recovery to {Target}: the target falls inside a frozen clock window ({Window}). The wall clock had " +
                    "stepped back, so records in that window cannot be ordered by time and none of them is restored; to include some, " +
                    "recover to an LSN between {From} and {To} instead.",
                    target, window, window.FromLsn, window.ToLsn);
            }

            (long read, long applied) = BuildAside(final, options, basis, reader, targetLsn, deadline);
            _stats = new RecoveryStats(read, applied, read - applied, 0, deadline.ElapsedMs, 0, targetLsn) { CheckpointLsn = baseLsn, FrozenClockWindows = inside };
            return VectorDatabase.Open(final, options);
        }
        finally
        {
            foreach (CheckpointCollection c in basis?.Collections ?? [])
            {
                c.Index?.Dispose();
            }
        }
    }

    /// <summary>
    /// Writes the recovered database into a temporary sibling of <paramref name="final"/>, checkpoints and closes it,
    /// then renames it into place and fsyncs the parent; on any failure the temporary directory is removed.
    /// </summary>
    private static (long Read, long Applied) BuildAside(
        string final, VectorDatabaseOptions options, CheckpointData? basis, WalReader reader, long targetLsn, RecoveryDeadline deadline)
    {
        string parent = Path.GetDirectoryName(final) ?? throw new ArgumentException($"The target '{final}' has no parent directory.");
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{Path.GetFileName(final)}.pitr-{Guid.NewGuid():n}.tmp");
        long read = 0, applied = 0;
        try
        {
            using (VectorDatabase database = VectorDatabase.Open(temp, options))
            {
                foreach (CheckpointCollection c in basis?.Collections ?? [])
                {
                    deadline.Check($"copying collection '{c.Name}' from checkpoint '{basis!.Path}'");
                    database.CreateCollection(c.Name, c.Options);
                    if (c.Image.Records.Count > 0)
                    {
                        database.InsertBatch(c.Name, c.Records);
                    }
                }

                long baseLsn = basis?.CoveredLsn ?? 0;
                // Prepared transactions (carried by the checkpoint, or prepared in the window) apply only when their
                // commit record is at or before the target; one still in doubt at the target is not applied.
                var prepared = new Dictionary<string, PreparedEntry>(basis?.Transactions.Prepared ?? [], StringComparer.Ordinal);
                IEnumerable<WalRecord> window = reader.ReadRecords(baseLsn + 1).TakeWhile(r => r.Lsn <= targetLsn);
                foreach (WalRecord record in WalCommittedRecords.Filter(window.Select(r => { read++; return r; })))
                {
                    if ((read & 63) == 0)
                    {
                        deadline.Check($"replaying the source's WAL ({read} records, up to LSN {record.Lsn} of {targetLsn})");
                    }

                    WalEntry entry = record.ToEntry();
                    if (entry is WalEntry.PrepareTransaction or WalEntry.CommitPrepared or WalEntry.RollbackPrepared)
                    {
                        applied += ApplyPreparedStep(database, entry, record.Lsn, prepared);
                    }
                    else if (database.ApplyEntry(entry))
                    {
                        applied++;
                    }
                }

                deadline.Check($"replaying the source's WAL ({read} records, up to LSN {targetLsn})");
                database.Sync();
                database.Checkpoint();
            }

            deadline.Check($"finishing '{temp}'");
            DurableFiles.SyncDirectory(temp);        // its wal/ and checkpoints/ entries are durable before the rename
            if (Directory.Exists(final))
            {
                Directory.Delete(final);             // empty (checked): the rename needs the name free
            }

            Directory.Move(temp, final);             // the target appears whole, or not at all
            DurableFiles.SyncDirectory(parent);      // the rename survives a power loss
            return (read, applied);
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            throw;
        }
    }

    /// <summary>
    /// Point-in-time replay of a prepare (remembered), a commit (its writes applied together, as ApplyEntry applies
    /// records: puts upsert, deletes remove the record when present) or a rollback (forgotten). Returns 1 when it
    /// changed the database.
    /// </summary>
    private static int ApplyPreparedStep(VectorDatabase database, WalEntry entry, long lsn, Dictionary<string, PreparedEntry> prepared)
    {
        switch (entry)
        {
            case WalEntry.PrepareTransaction p:
                prepared[p.Gid] = PreparedTransactionCodec.Decode(p.Gid, lsn, p.Payload.Span);
                return 0;
            case WalEntry.RollbackPrepared r:
                prepared.Remove(r.Gid);
                return 0;
            case WalEntry.CommitPrepared c when prepared.Remove(c.Gid, out PreparedEntry? committed):
                using (VectorTransaction transaction = database.BeginTransaction())
                {
                    var exists = new Dictionary<(string, string), bool>(); // what this transaction's earlier writes did to an id
                    foreach (TransactionOperation o in committed.Operations)
                    {
                        if (o.Kind != TransactionOperationKind.Delete)
                        {
                            transaction.Upsert(o.Collection, o.Id, o.Vector, o.Metadata);
                            exists[(o.Collection, o.Id)] = true;
                        }
                        else if (exists.TryGetValue((o.Collection, o.Id), out bool staged) ? staged : database.Get(o.Collection, o.Id) is not null)
                        {
                            transaction.Delete(o.Collection, o.Id);
                            exists[(o.Collection, o.Id)] = false;
                        }
                    }

                    if (transaction.Count == 0)
                    {
                        return 0;
                    }

                    transaction.Commit();
                    return 1;
                }

            case WalEntry.CommitPrepared c:
                throw new InvalidDataException($"WAL record LSN {lsn} commits transaction '{c.Gid}', which is not prepared at that point of the log.");
            default:
                return 0;
        }
    }

    /// <summary>The target may not be, be inside, or contain the source's data, WAL or checkpoint directory.</summary>
    private void RefuseTargetOverlappingSource(string target, string paramName)
    {
        foreach ((string what, string dir) in new[] { ("data", FullPath(_config.DataDir)), ("WAL", FullPath(WalDir)), ("checkpoint", FullPath(CheckpointRoot)) })
        {
            string? relation = target == dir ? "is" : Inside(target, dir) ? "is inside" : Inside(dir, target) ? "contains" : null;
            if (relation is not null)
            {
                throw new ArgumentException(
                    $"The target directory '{target}' {relation} the source's {what} directory '{dir}'; point-in-time recovery only reads the source and writes a new database elsewhere.",
                    paramName);
            }
        }

        static bool Inside(string path, string dir) => path.StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static string FullPath(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}

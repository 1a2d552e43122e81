using System.Diagnostics;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
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
    /// </summary>
    /// <exception cref="ArgumentException">The target is older than anything retained (the message names the oldest reachable point), or after the end of the log.</exception>
    /// <exception cref="IOException">The target directory exists and is not empty.</exception>
    public VectorDatabase RecoverToPointInTime(RecoveryTarget target, string targetDataDir, VectorDatabaseOptions? targetOptions = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentException.ThrowIfNullOrWhiteSpace(targetDataDir);
        if (Directory.Exists(targetDataDir) && Directory.EnumerateFileSystemEntries(targetDataDir).Any())
        {
            throw new IOException($"The target directory '{targetDataDir}' is not empty; point-in-time recovery writes a new database.");
        }

        long start = Stopwatch.GetTimestamp();
        var reader = new WalReader(WalDir);
        long firstLsn = reader.ReadRecords().Select(r => r.Lsn).FirstOrDefault(1);
        long lastLsn = 0;
        long targetLsn = target.Lsn ?? 0;
        foreach (WalRecord record in reader.ReadRecords())
        {
            lastLsn = record.Lsn;
            if (target.Time is { } time && record.Timestamp <= time)
            {
                targetLsn = record.Lsn;
            }
        }

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
                basis = CheckpointFiles.Read(entry);
                break;
            }
            catch (InvalidDataException)
            {
                // Damaged: an older checkpoint may still reach the target.
            }
        }

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
        VectorDatabase database = VectorDatabase.Open(targetDataDir, options);
        try
        {
            foreach (CheckpointCollection c in basis?.Collections ?? [])
            {
                database.CreateCollection(c.Name, c.Options);
                if (c.Image.Records.Count > 0)
                {
                    database.InsertBatch(c.Name, c.Records);
                }

                c.Index?.Dispose();
            }

            long applied = 0, read = 0;
            IEnumerable<WalRecord> window = reader.ReadRecords(baseLsn + 1).TakeWhile(r => r.Lsn <= targetLsn);
            foreach (WalRecord record in WalCommittedRecords.Filter(window.Select(r => { read++; return r; })))
            {
                if (database.ApplyEntry(record.ToEntry()))
                {
                    applied++;
                }
            }

            database.Sync();
            database.Checkpoint();
            _stats = new RecoveryStats(read, applied, read - applied, 0, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds, 0, targetLsn)
            {
                CheckpointLsn = baseLsn,
            };
            return database;
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }
}

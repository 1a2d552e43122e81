using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;

namespace OxiVec.Replication;

/// <summary>
/// Turns a closed standby's data directory into a primary's (failover) and a closed, deposed primary's into a
/// standby's. Both are offline operations on a directory no process has open (the WAL's lock is taken while they
/// run), and both can be re-run after a crash midway.
/// </summary>
/// <remarks>
/// The commit point of either is one file: a directory is a standby's exactly while
/// <c>replication/standby.json</c> exists. Promotion writes the epoch history and the primary's epoch first and
/// deletes the marker last; demotion writes the marker (with the highest epoch the directory has seen) first.
/// </remarks>
public static class StandbyPromotion
{
    /// <summary>
    /// Converts a CLOSED standby data directory into a primary's at <paramref name="epoch"/>: appends
    /// (<paramref name="epoch"/>, its WAL's last LSN + 1) to the epoch history (<c>replication/history.json</c>),
    /// writes the primary's epoch file, and removes the standby marker, each durably, in that order (a rewind a crash
    /// interrupted is finished first). The next
    /// <see cref="Storage.VectorDatabase.Open(string, Storage.VectorDatabaseOptions?)"/> opens it as a normal primary
    /// (a transaction the WAL ends in is aborted, as in any recovery).
    /// </summary>
    /// <param name="dataDirectory">The standby's data directory (its WAL in <c>wal/</c>).</param>
    /// <param name="epoch">The new primary's epoch: greater than every epoch the standby has seen.</param>
    /// <param name="logger">Logging.</param>
    /// <returns>The epoch and the first LSN the new primary writes under it.</returns>
    /// <exception cref="ArgumentException"><paramref name="epoch"/> is not greater than the standby's highest seen epoch (both named).</exception>
    /// <exception cref="InvalidOperationException">The directory is neither a standby's nor a primary's promoted at <paramref name="epoch"/>.</exception>
    /// <exception cref="WalLockedException">A process has the database open.</exception>
    public static PromotionResult Promote(string dataDirectory, long epoch, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentOutOfRangeException.ThrowIfLessThan(epoch, 1);
        logger ??= NullLogger.Instance;
        string data = Path.GetFullPath(dataDirectory);
        if (StandbyBaseBackup.IsStandbyDirectory(data))
        {
            // A rewind a crash interrupted: its divergent records must not become the new primary's.
            StandbyRewind.FinishPending(data, new Storage.VectorDatabaseOptions(), logger);
        }

        using WalManager wal = OpenClosedWal(data, logger);
        List<EpochHistoryEntry> history = [.. ReplicationFiles.ReadHistory(data)];
        if (!StandbyBaseBackup.IsStandbyDirectory(data))
        {
            // Re-run after the marker was removed: the promotion at this epoch is complete.
            if (history.Count > 0 && history[^1].Epoch == epoch && ReplicationFiles.ReadEpoch(data, ReplicationFiles.EpochFile) == epoch)
            {
                return new PromotionResult(epoch, history[^1].StartLsn);
            }

            throw new InvalidOperationException(
                $"'{data}' is not a standby's data directory (no {ReplicationFiles.DirectoryName}/{ReplicationFiles.StandbyFile}) nor one promoted at epoch {epoch}: only a standby is promoted.");
        }

        long seen = ReplicationFiles.ReadEpoch(data, ReplicationFiles.StandbyFile) ?? 0;
        bool resumed = history.Count > 0 && history[^1].Epoch == epoch; // a promotion at this epoch that a crash interrupted
        if (!resumed && epoch <= Math.Max(seen, history.Count > 0 ? history[^1].Epoch : 0))
        {
            throw new ArgumentException(
                $"The promotion epoch {epoch} must be greater than the highest epoch the standby in '{data}' has seen ({Math.Max(seen, history.Count > 0 ? history[^1].Epoch : 0)}).",
                nameof(epoch));
        }

        long start = wal.LastLsn + 1;
        if (resumed)
        {
            start = history[^1].StartLsn; // the standby was closed since: its WAL still ends where it did
        }
        else
        {
            history.Add(new EpochHistoryEntry(epoch, start));
            ReplicationFiles.WriteHistory(data, history);
        }

        ReplicationFiles.WriteEpoch(data, ReplicationFiles.EpochFile, epoch);
        ReplicationFiles.Delete(data, ReplicationFiles.SlotsFile); // a primary starts with no slots of its own
        ReplicationFiles.Delete(data, ReplicationFiles.StandbyFile); // the commit point: from now on a primary's directory
        logger.LogWarning(
            "Promoted the standby in '{Directory}' to a primary at epoch {Epoch} (highest epoch seen {Seen}); it writes from LSN {Start} on.", data, epoch, seen, start);
        return new PromotionResult(epoch, start);
    }

    /// <summary>
    /// Converts a CLOSED (deposed) primary's data directory into a standby's, keeping its WAL, checkpoints, epoch
    /// history, and its epoch as the highest seen. A divergent tail (records the new primary never had) is rewound
    /// at the first connection to the new primary (<see cref="StandbyReceiver"/>, quarantined, not destroyed).
    /// </summary>
    /// <param name="dataDirectory">The primary's data directory (its WAL in <c>wal/</c>).</param>
    /// <param name="logger">Logging.</param>
    /// <exception cref="InvalidOperationException">The directory holds no database in the layout a standby needs.</exception>
    /// <exception cref="WalLockedException">A process has the database open.</exception>
    public static void Demote(string dataDirectory, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        logger ??= NullLogger.Instance;
        string data = Path.GetFullPath(dataDirectory);
        using WalManager wal = OpenClosedWal(data, logger);
        IReadOnlyList<EpochHistoryEntry> history = ReplicationFiles.ReadHistory(data);
        long epoch = Math.Max(
            Math.Max(ReplicationFiles.ReadEpoch(data, ReplicationFiles.EpochFile) ?? 0, ReplicationFiles.ReadEpoch(data, ReplicationFiles.StandbyFile) ?? 0),
            history.Count > 0 ? history[^1].Epoch : 0);
        ReplicationFiles.WriteEpoch(data, ReplicationFiles.StandbyFile, epoch); // the commit point: from now on a standby's directory
        ReplicationFiles.Delete(data, ReplicationFiles.SlotsFile); // its slots kept WAL for streams that ended with its leadership
        logger.LogWarning(
            "Demoted the primary in '{Directory}' to a standby (epoch {Epoch}, WAL through LSN {Lsn}); records its new primary never had are rewound when it connects.",
            data, epoch, wal.LastLsn);
    }

    /// <summary>Opens the directory's WAL as a standby's (nothing is appended) to hold its lock and learn where it ends.</summary>
    private static WalManager OpenClosedWal(string data, ILogger logger)
    {
        string walDirectory = Path.Combine(data, "wal");
        if (!Directory.Exists(walDirectory))
        {
            throw new InvalidOperationException($"'{data}' holds no WAL in '{walDirectory}': it is not a database directory a standby or promoted primary can use.");
        }

        WalConfig config = WalConfig.Default with { WalDir = walDirectory };
        long? covered = CheckpointFiles.List(Path.Combine(data, CheckpointFiles.DirectoryName), removeHalfBuilt: false).FirstOrDefault()?.CoveredLsn;
        return WalManager.Open(new FileSystemWalStorage(walDirectory), config, logger, coveredLsn: covered, standby: true);
    }
}

/// <summary>What a promotion did.</summary>
/// <param name="Epoch">The new primary's epoch.</param>
/// <param name="StartLsn">The first LSN it writes under that epoch (its WAL's last LSN + 1 at the promotion).</param>
public sealed record PromotionResult(long Epoch, long StartLsn);

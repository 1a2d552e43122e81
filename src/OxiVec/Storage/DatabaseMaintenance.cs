using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;

namespace OxiVec.Storage;

/// <summary>Offline maintenance of a closed database directory.</summary>
public static class DatabaseMaintenance
{
    /// <summary>
    /// Deletes WAL segments older than <paramref name="olderThanDays"/> days that no retained checkpoint needs:
    /// only records before the oldest checkpoint's covered LSN go, and nothing a replication slot keeps
    /// (<c>replication/slots.json</c>, see <c>WalReplicator</c>). Without a checkpoint nothing is deleted.
    /// Returns how many segments were deleted.
    /// </summary>
    /// <exception cref="WalLockedException">The database is open in some process.</exception>
    public static int CleanupOldWalFiles(string dataDir, int olderThanDays, string? walDir = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDir);
        string data = Path.GetFullPath(dataDir);
        List<CheckpointEntry> checkpoints = CheckpointFiles.List(Path.Combine(data, CheckpointFiles.DirectoryName), removeHalfBuilt: false);
        long retainFrom = checkpoints.Count == 0 ? 1 : checkpoints.Min(c => c.CoveredLsn) + 1;
        if (OxiVec.Replication.ReplicationFiles.SlotsRetainFrom(data) is { } slotsKeep)
        {
            retainFrom = Math.Min(retainFrom, slotsKeep); // a standby still needs these records
        }

        return new WalCleaner(walDir ?? Path.Combine(data, "wal")).CleanupOldFiles(olderThanDays, retainFrom);
    }
}

namespace OxiVec.Replication;

/// <summary>
/// Which epoch (timeline) a data directory's record belongs to, by its epoch history (PostgreSQL compares the
/// timeline of the last record, not the newest timeline a server has heard of). Elections rank members by the
/// timeline of their last record first: a member that only heard of a newer epoch (a keepalive, a base backup's
/// manifest) does not outrank one that holds records of it.
/// </summary>
public static class EpochTimeline
{
    /// <summary>
    /// The epoch of the history entry that <paramref name="lsn"/> falls in: the newest entry whose start LSN is at or
    /// before it; 0 (the root timeline, before any promotion) when there is none or <paramref name="lsn"/> is 0.
    /// </summary>
    /// <param name="dataDirectory">A data directory (its <c>replication/history.json</c>; none means the root timeline).</param>
    /// <param name="lsn">The LSN, normally the directory's last durable one.</param>
    /// <exception cref="InvalidDataException">The history file is damaged (named).</exception>
    public static long Of(string dataDirectory, long lsn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        return Of(ReplicationFiles.ReadHistory(dataDirectory), lsn);
    }

    /// <summary>The epoch of the entry of <paramref name="history"/> that <paramref name="lsn"/> falls in (0: the root timeline).</summary>
    internal static long Of(IReadOnlyList<EpochHistoryEntry> history, long lsn)
    {
        long epoch = 0;
        foreach (EpochHistoryEntry entry in history)
        {
            if (lsn < entry.StartLsn)
            {
                break;
            }

            epoch = entry.Epoch;
        }

        return lsn <= 0 ? 0 : epoch;
    }
}

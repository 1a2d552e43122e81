namespace OxiVec.Wal;

/// <summary>The writer's hooks into the control file (how far the log is known durable).</summary>
internal sealed partial class WalWriter
{
    /// <summary>Keeps the control file up to date; null only for writers built without one (none in production).</summary>
    public WalControlUpdater? Control { get; init; }

    /// <summary>The point the control file holds, for readers of the live log (read it before snapshotting the segments).</summary>
    public WalDurablePoint? ControlPoint => Control?.Written;

    /// <summary>Records the current durable point in the control file now, whatever the rate limit (after a checkpoint record).</summary>
    /// <exception cref="WalFailedException">The control write failed; the WAL has failed.</exception>
    public void RecordDurablePointNow()
    {
        try
        {
            Control?.WriteNow();
        }
        catch (IOException ex) when (ex is not WalFailedException)
        {
            throw Fail(ex);
        }
    }

    /// <summary>Fails the WAL because a control write on the updater's timer failed.</summary>
    public void FailFromControl(Exception cause) => Fail(cause);

    /// <summary>After a successful fsync of the log through <paramref name="lsn"/>, which ends at <paramref name="offset"/> of <paramref name="segmentId"/>.</summary>
    private void NoteSynced(ulong segmentId, long offset, long lsn) => Control?.Synced(new WalDurablePoint(segmentId, offset, lsn));

    /// <summary>At close: the final durable point when everything written is durable, else null (nothing is recorded).</summary>
    private WalDurablePoint? FinalDurablePoint()
    {
        lock (_writeLock)
        {
            long written = Volatile.Read(ref _writtenLsn);
            return _failure is null && written == Volatile.Read(ref _durableLsn) && written == Volatile.Read(ref _appendedLsn)
                ? new WalDurablePoint(Segments.Active.SegmentId, Segments.Active.Limit, written)
                : null;
        }
    }
}

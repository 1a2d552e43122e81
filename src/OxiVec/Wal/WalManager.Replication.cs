using System.Diagnostics;

namespace OxiVec.Wal;

/// <summary>The WAL as replication sees it: tailing reads, position notifications, replicated appends, a retention floor.</summary>
public sealed partial class WalManager
{
    /// <summary>Whether this is a standby's WAL (it takes only records replicated from its primary).</summary>
    internal bool IsStandby => _writer.Standby;

    /// <summary>The newest LSN written to the operating system: what a tail reader can read.</summary>
    internal long WrittenLsn => _writer.WrittenLsn;

    /// <summary>Whether the WAL is closed or has failed (nothing more will be written).</summary>
    internal bool IsClosedOrFailed => Volatile.Read(ref _disposed) != 0 || _writer.IsFailed;

    /// <summary>The WAL's storage (a tail reader opens its segments there).</summary>
    internal IWalStorage Storage => _storage;

    /// <summary>
    /// The oldest LSN that <see cref="RemoveSegmentsThrough"/> (and so checkpoint retention) must keep, asked at every
    /// removal: replication slots set it. Null (the default) keeps nothing beyond what the caller asks.
    /// </summary>
    internal Func<long>? RetentionFloor
    {
        get => _writer.RetentionFloor;
        set => _writer.RetentionFloor = value;
    }

    /// <summary>
    /// Called with the new durable LSN after every rise, on the thread that published it (see
    /// <see cref="WalWriter.DurableAdvanced"/>): a primary's commit gate. Null (the default) calls nothing.
    /// </summary>
    internal Action<long>? DurableAdvanced
    {
        get => _writer.DurableAdvanced;
        set => _writer.DurableAdvanced = value;
    }

    /// <summary>
    /// A task that completes at the next change of <see cref="WrittenLsn"/> or <see cref="DurableLsn"/> (or when the
    /// WAL fails or closes). Take it before reading the positions, then await it; no polling.
    /// </summary>
    internal Task PositionsChanged() => _writer.PositionsChanged();

    /// <summary>
    /// A task that completes when <see cref="WrittenLsn"/> has moved (or the WAL fails or closes), not at a change of
    /// <see cref="DurableLsn"/> alone: what a replication sender waits for. Take it before reading the position.
    /// </summary>
    internal Task WrittenChanged() => _writer.WrittenChanged();

    /// <summary>
    /// A task that completes when the WAL fails (never when it merely closes): a primary's commit gate fails its waits
    /// then, since commits wait for it before their local acknowledgement (<see cref="StartAcknowledging"/>).
    /// </summary>
    internal Task Failed() => _writer.Failed();

    /// <summary>
    /// The failure of a failed WAL, as <see cref="WaitAcknowledgedAsync(long, bool, long, CancellationToken, bool)"/>
    /// throws it; null while it has not failed.
    /// </summary>
    internal WalFailedException? Failure => _writer.Failure;

    /// <summary>
    /// Starts the local acknowledgement of <paramref name="lsn"/> that
    /// <see cref="WaitAcknowledgedAsync(long, bool, long, CancellationToken, bool)"/> with the same
    /// <paramref name="forceDurable"/> waits for, without waiting: with an fsync per commit it joins the group commit
    /// (one fsync for every commit waiting), with an interval policy it writes the records through. A commit that then
    /// waits for a later event first (a synchronous standby's confirmation) finds its local wait done afterwards: one
    /// wake per commit instead of two. Does not acknowledge: the commit must still call the wait.
    /// </summary>
    /// <exception cref="WalFailedException">The WAL has failed.</exception>
    internal void StartAcknowledging(long lsn, bool forceDurable)
    {
        _writer.StartWaitFor(lsn, forceDurable || Config.SyncIntervalMs == 0);
    }

    /// <summary>A reader that streams frames from <paramref name="fromLsn"/> on, following the log as it grows.</summary>
    internal WalTailReader OpenTailReader(long fromLsn)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new WalTailReader(_storage, () => _writer.Segments, fromLsn);
    }

    /// <summary>
    /// The record at <paramref name="lsn"/>, or null when the WAL no longer holds it (or not yet).
    /// </summary>
    internal WalRecord? TryReadRecord(long lsn)
    {
        if (lsn < FirstLsn || lsn > WrittenLsn)
        {
            return null;
        }

        try
        {
            return ReadRecords(lsn).FirstOrDefault(r => r.Lsn == lsn);
        }
        catch (WalCorruptionException) when (lsn < FirstLsn)
        {
            return null; // removed meanwhile
        }
    }

    /// <summary>
    /// Appends records replicated from a primary (a standby's WAL), then waits as this WAL's own sync policy says
    /// (written with an interval policy, fsynced with <c>SyncIntervalMs = 0</c>). Returns the last LSN.
    /// </summary>
    /// <remarks>
    /// The write and the fsync run on the caller's thread, as a blocked writer's do: the standby's receive loop is the
    /// only writer here and it waits for them anyway, and going through the asynchronous wait cost a thread-pool
    /// dispatch per batch on the path of every remote-flush commit of the primary. Cancellation is checked before the
    /// append only (an fsync cannot be abandoned halfway).
    /// </remarks>
    /// <exception cref="WalFrameException">The records do not continue this log; nothing is appended.</exception>
    /// <exception cref="WalFailedException">The WAL has failed.</exception>
    internal ValueTask<long> AppendReplicatedAsync(IReadOnlyList<WalReplicatedRecord> records, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        long start = Stopwatch.GetTimestamp();
        long lsn = _writer.AppendReplicated(records);
        _checkpointLag.Logged(lsn, records[^1].Type == WalRecordType.Checkpoint);
        _writer.WaitFor(lsn, Config.SyncIntervalMs == 0);
        _instrumentation.Committed(Stopwatch.GetElapsedTime(start));
        return ValueTask.FromResult(lsn);
    }
}

using OxiVec.Internal;
using OxiVec.Wal;

namespace OxiVec.Storage;

/// <summary>How a database was opened as a standby: read-only to callers, written only by its primary's WAL.</summary>
/// <param name="PrimaryAddress">The primary's address, for messages (null when unknown).</param>
internal sealed record StandbyRole(string? PrimaryAddress);

/// <summary>
/// Standby mode and the applied position: replicated records are applied like recovery replays them, but each
/// transaction at its commit LSN, all its members together, so reads on a standby see whole transactions only.
/// </summary>
public sealed partial class VectorDatabase
{
    private StandbyRole? _standby;
    private readonly LsnWaiters _appliedWaiters = new();

    // A standby's transaction in progress (begun, not yet committed by the primary), guarded by _applyLock.
    private List<StoreOperation>? _standbyTransaction;
    private long _standbyTransactionBegin;

    /// <summary>Whether this database is a standby (read-only; writes throw <see cref="StandbyWriteException"/>).</summary>
    public bool IsStandby => _standby is not null;

    /// <summary>
    /// The newest LSN whose write is visible to reads: every commit up to it is applied in full. On a standby it
    /// stops before a transaction whose commit has not arrived yet.
    /// </summary>
    public long AppliedLsn => Volatile.Read(ref _appliedLsn);

    /// <summary>
    /// Waits until <see cref="AppliedLsn"/> reaches <paramref name="lsn"/> (read-your-writes on a standby); false when
    /// <paramref name="timeout"/> passes first. Woken by the apply, never by polling.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The database is closed (before or during the wait): it will never apply <paramref name="lsn"/>.</exception>
    public async ValueTask<bool> WaitForAppliedAsync(long lsn, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        Task reached = _appliedWaiters.WaitAsync(lsn);
        if (reached.IsCompletedSuccessfully)
        {
            return true;
        }

        // A closed database's waiters fail at once: awaiting the task throws that ObjectDisposedException. (Counting a
        // completed task as reached would tell a standby's reader, closed for a base backup, that it has an LSN it
        // never applied, and the read would then be served from the old, closed database.)

        try
        {
            await reached.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The database's WAL (replication reads and appends it).</summary>
    internal WalManager Wal => _wal;

    /// <summary>The commit gate of a primary with synchronous standbys (set by its replicator), or null.</summary>
    internal ICommitGate? CommitGate
    {
        get => Volatile.Read(ref _commitGate);
        set => Volatile.Write(ref _commitGate, value);
    }

    private ICommitGate? _commitGate;

    /// <summary>
    /// Asynchronous commits that needed a local fsync and were confirmed by the synchronous standbys of the current
    /// commit gate before the local WAL had done it (they were woken by the local fsync): benchmarks watch how the two
    /// fsyncs overlap. 0 without a gate.
    /// </summary>
    internal long CommitsConfirmedBeforeDurable => CommitGate?.ConfirmedBeforeDurable ?? 0;

    /// <summary>Opens <paramref name="dataDirectory"/> as a standby of <paramref name="primaryAddress"/>: its WAL appends only replicated records.</summary>
    internal static VectorDatabase OpenStandby(string dataDirectory, VectorDatabaseOptions? options, string? primaryAddress, IWalStorage? walStorage = null) =>
        Open(dataDirectory, options, walStorage, checkpointStorage: null, new StandbyRole(primaryAddress));

    /// <summary>
    /// A standby's receive path: appends verified records from the primary to the WAL (waiting per this WAL's sync
    /// policy), calls <paramref name="logged"/> (the receiver reports its written and flushed LSNs there, so a
    /// remote-flush commit on the primary does not wait for this apply), then applies them. Returns the last LSN appended.
    /// </summary>
    /// <exception cref="WalFrameException">The records do not continue the log; nothing was written.</exception>
    /// <exception cref="WalFailedException">The WAL or an apply failed.</exception>
    internal async ValueTask<long> ReceiveReplicatedAsync(
        IReadOnlyList<WalReplicatedRecord> records, CancellationToken cancellationToken, Func<CancellationToken, ValueTask>? logged = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_standby is null)
        {
            throw new InvalidOperationException($"The database in '{DataDirectory}' is not a standby: it does not take replicated records.");
        }

        long last;
        try
        {
            last = await _wal.AppendReplicatedAsync(records, cancellationToken).ConfigureAwait(false);
        }
        catch (WalFailedException ex)
        {
            Failed(ex);
            throw;
        }

        try
        {
            if (logged is not null)
            {
                await logged(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // The records are in the WAL: they are applied whatever the callback did (a report on a broken stream
            // throws), or the standby would resume after them without ever applying them.
            ApplyReplicated(records);
            MaybeCheckpointInBackground(records.Count);
        }
        return last;
    }

    /// <summary>Applies replicated records in LSN order, each transaction at its commit, and publishes the applied LSN.</summary>
    private void ApplyReplicated(IReadOnlyList<WalReplicatedRecord> records)
    {
        long applied;
        lock (_writeLock)
        {
            lock (_applyLock)
            {
                ThrowIfApplyFailed();
                try
                {
                    foreach (WalReplicatedRecord r in records)
                    {
                        ApplyReplicatedLocked(r.ToRecord());
                    }
                }
                catch (Exception ex)
                {
                    var failure = new InvalidOperationException(
                        $"Applying replicated records {records[0].Lsn}-{records[^1].Lsn} failed ({ex.Message}); they are in the WAL and are applied when the standby is reopened.", ex);
                    _applyFailure = failure;
                    Interlocked.CompareExchange(ref _failure, failure, null);
                    throw new WalFailedException(_wal.Directory, failure);
                }

                applied = _standbyTransaction is not null ? _standbyTransactionBegin - 1 : records[^1].Lsn;
                Volatile.Write(ref _appliedLsn, Math.Max(_appliedLsn, applied));
            }
        }

        _appliedWaiters.Advance(applied);
    }

    private void ApplyReplicatedLocked(WalRecord record)
    {
        if (record.Flags.HasFlag(WalRecordFlags.TransactionMember))
        {
            if (_standbyTransaction is null)
            {
                // Its begin precedes what this log holds (a base backup's checkpoint never splits a transaction).
                _standbyTransaction = [];
                _standbyTransactionBegin = record.Lsn;
            }

            if (FromRecord(record) is { } member)
            {
                _standbyTransaction.Add(member);
            }

            return;
        }

        switch (record.Type)
        {
            case WalRecordType.TransactionBegin:
                _standbyTransaction = [];
                _standbyTransactionBegin = record.Lsn;
                return;
            case WalRecordType.TransactionCommit:
                List<StoreOperation>? members = _standbyTransaction;
                _standbyTransaction = null;
                if (members is { Count: > 0 })
                {
                    // A loop, not List.ForEach with a lambda: the lambda's closure (over the record) was allocated at
                    // the start of this method for every replicated record, a transaction's or not.
                    foreach (StoreOperation member in members)
                    {
                        ApplyLogical(member, record.Lsn);
                    }

                    ApplyTogether(members, record.Lsn);
                }

                return;
            case WalRecordType.TransactionAbort:
                _standbyTransaction = null;
                return;
            default:
                _standbyTransaction = null; // a transaction interrupted by a record of its own never commits
                if (FromRecord(record) is { } operation)
                {
                    ApplyLogical(operation, record.Lsn);
                    if (operation is StoreOperation.Put or StoreOperation.Remove)
                    {
                        ApplyOne(operation, record.Lsn); // what ApplyTogether does with a single write, without a list per record
                    }
                    else
                    {
                        ApplyTogether([operation], record.Lsn);
                    }
                }

                return;
        }
    }

    /// <summary>Follows transactions through a replay, so that a standby knows the one its log ends in.</summary>
    private void TrackOpenTransaction(WalRecord record, List<WalRecord> members, ref long begin)
    {
        if (_standby is null)
        {
            return;
        }

        if (record.Flags.HasFlag(WalRecordFlags.TransactionMember))
        {
            if (begin == 0)
            {
                begin = record.Lsn;
            }

            members.Add(record);
        }
        else if (record.Type == WalRecordType.TransactionBegin)
        {
            begin = record.Lsn;
            members.Clear();
        }
        else
        {
            begin = 0;
            members.Clear();
        }
    }

    /// <summary>
    /// After a standby's replay: its log ends inside a transaction (begun at <paramref name="begin"/>) whose commit the
    /// primary may still send. Its members wait for it, and the applied LSN stops before it.
    /// </summary>
    private void ResumeOpenTransaction(long begin, List<WalRecord> members)
    {
        _standbyTransactionBegin = begin;
        _standbyTransaction = [.. members.Select(FromRecord).OfType<StoreOperation>()];
        _appliedLsn = begin - 1;
    }

    /// <summary>
    /// An asynchronous commit's wait on a primary with synchronous standbys: with the local acknowledgement under way
    /// (the group commit joined, or the records written through), one wait at the gate for the standbys' confirmation
    /// and, when the commit needs a local fsync, the local WAL's durable LSN too, woken once by whichever comes last
    /// (the standby often fsyncs the records before the primary's own fsync ends); then the local wait, which by then
    /// is met without a wake of its own. One thread-pool work item per commit instead of two. Nothing is acknowledged
    /// before both are met.
    /// </summary>
    /// <exception cref="WalFailedException">The WAL failed (the gate fails its waits then too).</exception>
    /// <exception cref="ObjectDisposedException">The replicator stopped; thrown only once the write is acknowledged locally.</exception>
    private async ValueTask WaitAcknowledgedAndConfirmedAsync(ICommitGate gate, Staged staged, CancellationToken cancellationToken)
    {
        Task confirmed = staged.Durable || _wal.Config.SyncIntervalMs == 0 ? gate.WaitConfirmedAndDurableAsync(staged.Lsn) : gate.WaitConfirmedAsync(staged.Lsn);
        if (!confirmed.IsCompleted)
        {
            _wal.StartAcknowledging(staged.Lsn, staged.Durable);
        }

        try
        {
            await confirmed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The replicator stopped: the caller makes the write visible, which it may only be once acknowledged locally.
            await _wal.WaitAcknowledgedAsync(staged.Lsn, endsWithCheckpoint: false, staged.Start, CancellationToken.None, staged.Durable).ConfigureAwait(false);
            throw;
        }

        await _wal.WaitAcknowledgedAsync(staged.Lsn, endsWithCheckpoint: false, staged.Start, cancellationToken, staged.Durable).ConfigureAwait(false);
    }

    /// <summary>Waits until the commit gate confirms <paramref name="lsn"/>; returns when there is none or it stopped.</summary>
    private async Task WaitConfirmedOrStoppedAsync(long lsn)
    {
        if (CommitGate is not { } gate)
        {
            return;
        }

        try
        {
            await gate.WaitConfirmedAsync(lsn).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The replicator stopped: the write is committed locally and becomes visible.
        }
    }

    private void ThrowIfStandby()
    {
        if (_standby is { } role)
        {
            throw new StandbyWriteException(DataDirectory, role.PrimaryAddress);
        }
    }
}

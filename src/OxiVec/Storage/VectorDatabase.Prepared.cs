using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OxiVec.Transactions;
using OxiVec.Wal;

namespace OxiVec.Storage;

/// <summary>
/// The participant side of two-phase commit (PostgreSQL's PREPARE TRANSACTION / COMMIT PREPARED / ROLLBACK
/// PREPARED): a prepared transaction is durable and reserves its records, and applies only when committed.
/// </summary>
/// <remarks>
/// Two views of the known gids, each one immutable <see cref="TransactionTable"/> swapped whole: the logical one
/// (what is logged, under <c>_writeLock</c>: validation, reservations) and the applied one (what is durable and
/// applied, swapped under <c>_applyLock</c>: what callers, health and checkpoints see).
/// </remarks>
public sealed partial class VectorDatabase
{
    private TransactionTable _logicalTransactions = TransactionTable.Empty; // guarded by _writeLock
    private TransactionTable _appliedTransactions = TransactionTable.Empty; // swapped under _applyLock (or during recovery); read with Volatile
    private TaskCompletionSource _reservationsReleased = NewReleaseSignal(); // completed (and replaced) when a commit or rollback releases reservations
    private readonly ConcurrentDictionary<string, byte> _agedPreparedLogged = new(StringComparer.Ordinal);
    private TimeSpan _preparedWarningAge = VectorDatabaseOptions.DefaultPreparedTransactionWarningAge;

    /// <summary>
    /// Prepares the global transaction <paramref name="gid"/> (the first phase of two-phase commit). The writes are
    /// validated like a <see cref="VectorTransaction"/>'s (nothing is logged when one is invalid), logged as one
    /// prepare record and fsynced before this returns, whatever <see cref="WalConfig.SyncIntervalMs"/> says; on a
    /// primary with synchronous standbys it also waits for their confirmation, as a commit does. From then on the
    /// records it writes are reserved: a plain write of one fails at once with
    /// <see cref="TransactionConflictException"/>, and another prepare fails too or waits up to
    /// <see cref="PrepareOptions.ConflictWait"/>; a collection it writes to cannot be dropped. Nothing is visible to
    /// readers until <see cref="CommitPrepared"/>. A prepared transaction survives crashes and restarts (the WAL and
    /// checkpoints carry it) until it is committed or rolled back.
    /// </summary>
    /// <param name="gid">The global transaction id: 1 to 200 UTF-8 bytes, printable; never reused on this database.</param>
    /// <param name="operations">The writes, at least one.</param>
    /// <param name="options">The coordinator's id and the conflict wait; defaults when null.</param>
    /// <returns>The prepared transaction (state <see cref="PreparedTransactionState.Prepared"/>).</returns>
    /// <exception cref="ArgumentException">The gid or a write is invalid (dimension, NaN, id...); nothing is written.</exception>
    /// <exception cref="KeyNotFoundException">A collection, or the record of an update or delete, does not exist; nothing is written.</exception>
    /// <exception cref="InvalidOperationException">An inserted id already exists; nothing is written.</exception>
    /// <exception cref="TransactionConflictException">A record is reserved by another prepared transaction (after the conflict wait); nothing is written.</exception>
    /// <exception cref="PreparedTransactionException">The gid is already known here (prepared, committed or rolled back); nothing is written.</exception>
    /// <exception cref="StandbyWriteException">This database is a standby.</exception>
    /// <exception cref="WalFailedException">The WAL has failed.</exception>
    public PreparedTransaction PrepareTransaction(string gid, IReadOnlyList<TransactionOperation> operations, PrepareOptions? options = null)
    {
        options ??= new PrepareOptions();
        (PendingWrite Write, byte[] Metadata)[] writes = AcceptPrepare(gid, operations);
        long started = _time.GetTimestamp();
        while (true)
        {
            Task released = Volatile.Read(ref _reservationsReleased).Task; // read before trying: a release after it completes it
            (Staged Staged, PreparedEntry Entry) prepared;
            try
            {
                prepared = StagePrepare(gid, writes, options.CoordinatorId);
            }
            catch (TransactionConflictException) when (ConflictWaitLeft(options, started) > TimeSpan.Zero)
            {
                try
                {
                    released.WaitAsync(ConflictWaitLeft(options, started), _time).GetAwaiter().GetResult();
                }
                catch (TimeoutException)
                {
                    // The last attempt below reports the conflict.
                }

                continue;
            }

            long lsn = Finish(prepared.Staged);
            return prepared.Entry.ToPublic(PreparedTransactionState.Prepared) with { PrepareLsn = lsn };
        }
    }

    /// <summary>Asynchronous <see cref="PrepareTransaction"/>.</summary>
    /// <exception cref="OperationCanceledException">Cancelled while waiting for a reservation (nothing written), or for the prepare to become durable (it may still be prepared: ask <see cref="GetTransactionState"/>).</exception>
    public async ValueTask<PreparedTransaction> PrepareTransactionAsync(
        string gid, IReadOnlyList<TransactionOperation> operations, PrepareOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PrepareOptions();
        (PendingWrite Write, byte[] Metadata)[] writes = AcceptPrepare(gid, operations);
        long started = _time.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Task released = Volatile.Read(ref _reservationsReleased).Task;
            (Staged Staged, PreparedEntry Entry) prepared;
            try
            {
                prepared = StagePrepare(gid, writes, options.CoordinatorId);
            }
            catch (TransactionConflictException) when (ConflictWaitLeft(options, started) > TimeSpan.Zero)
            {
                try
                {
                    await released.WaitAsync(ConflictWaitLeft(options, started), _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // The last attempt below reports the conflict.
                }

                continue;
            }

            long lsn = await FinishAsync(prepared.Staged, cancellationToken).ConfigureAwait(false);
            return prepared.Entry.ToPublic(PreparedTransactionState.Prepared) with { PrepareLsn = lsn };
        }
    }

    /// <summary>
    /// Commits the prepared transaction <paramref name="gid"/> (the second phase): a commit record is logged and
    /// fsynced (and confirmed by synchronous standbys), then all its writes become visible together, at one
    /// version. Idempotent: committing a committed gid returns <see cref="PreparedTransactionState.Committed"/>
    /// (once that commit is durable) and logs nothing.
    /// </summary>
    /// <returns><see cref="PreparedTransactionState.Committed"/>.</returns>
    /// <exception cref="PreparedTransactionException">The gid was rolled back, or was never prepared here; nothing is written.</exception>
    /// <exception cref="StandbyWriteException">This database is a standby.</exception>
    /// <exception cref="WalFailedException">The WAL has failed.</exception>
    public PreparedTransactionState CommitPrepared(string gid)
    {
        (Staged? staged, long resolvedLsn) = StageResolution(gid, commit: true);
        if (staged is not null)
        {
            Finish(staged.Value);
        }
        else
        {
            WaitResolutionApplied(resolvedLsn);
        }

        return PreparedTransactionState.Committed;
    }

    /// <summary>Asynchronous <see cref="CommitPrepared"/>.</summary>
    /// <exception cref="OperationCanceledException">Cancelled while waiting for the commit to become durable: it is logged and takes effect; ask again (it is idempotent).</exception>
    public async ValueTask<PreparedTransactionState> CommitPreparedAsync(string gid, CancellationToken cancellationToken = default)
    {
        (Staged? staged, long resolvedLsn) = StageResolution(gid, commit: true);
        if (staged is not null)
        {
            await FinishAsync(staged.Value, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            WaitResolutionApplied(resolvedLsn);
        }

        return PreparedTransactionState.Committed;
    }

    /// <summary>
    /// Rolls back <paramref name="gid"/>: a rollback record is logged and fsynced, its reservations are released and
    /// its writes discarded. Idempotent: rolling back a rolled-back gid returns
    /// <see cref="PreparedTransactionState.RolledBack"/>. Rolling back a gid never prepared here records it as rolled
    /// back (presumed abort: a prepare of it that arrives late then fails).
    /// </summary>
    /// <returns><see cref="PreparedTransactionState.RolledBack"/>.</returns>
    /// <exception cref="PreparedTransactionException">The gid is committed; nothing is written.</exception>
    /// <exception cref="StandbyWriteException">This database is a standby.</exception>
    /// <exception cref="WalFailedException">The WAL has failed.</exception>
    public PreparedTransactionState RollbackPrepared(string gid)
    {
        (Staged? staged, long resolvedLsn) = StageResolution(gid, commit: false);
        if (staged is not null)
        {
            Finish(staged.Value);
        }
        else
        {
            WaitResolutionApplied(resolvedLsn);
        }

        return PreparedTransactionState.RolledBack;
    }

    /// <summary>Asynchronous <see cref="RollbackPrepared"/>.</summary>
    public async ValueTask<PreparedTransactionState> RollbackPreparedAsync(string gid, CancellationToken cancellationToken = default)
    {
        (Staged? staged, long resolvedLsn) = StageResolution(gid, commit: false);
        if (staged is not null)
        {
            await FinishAsync(staged.Value, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            WaitResolutionApplied(resolvedLsn);
        }

        return PreparedTransactionState.RolledBack;
    }

    /// <summary>The prepared (in-doubt) transactions, oldest prepare first. Their age is <see cref="PreparedTransaction.Age"/>.</summary>
    public IReadOnlyList<PreparedTransaction> ListPrepared() =>
        [.. Volatile.Read(ref _appliedTransactions).Prepared.Values.OrderBy(p => p.Lsn).Select(p => p.ToPublic(PreparedTransactionState.Prepared))];

    /// <summary>
    /// Where <paramref name="gid"/> stands on this database: prepared (durable, in doubt), committed, rolled back,
    /// or unknown (never seen). A prepare, commit or rollback shows here once it is durable and applied.
    /// </summary>
    public PreparedTransactionState GetTransactionState(string gid)
    {
        ArgumentNullException.ThrowIfNull(gid);
        return Volatile.Read(ref _appliedTransactions).StateOf(gid);
    }

    /// <summary>The known gids as a checkpoint carries them (read under <c>_applyLock</c>, with the covered LSN).</summary>
    internal TransactionTable AppliedTransactions => Volatile.Read(ref _appliedTransactions);

    private static TaskCompletionSource NewReleaseSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TimeSpan ConflictWaitLeft(PrepareOptions options, long started) => options.ConflictWait - _time.GetElapsedTime(started);

    /// <summary>Validates what can be validated without the state: gid, collection names, ids, metadata; copies vectors and metadata.</summary>
    private static (PendingWrite Write, byte[] Metadata)[] AcceptPrepare(string gid, IReadOnlyList<TransactionOperation> operations)
    {
        PreparedTransactionGid.Validate(gid, nameof(gid));
        ArgumentNullException.ThrowIfNull(operations);
        if (operations.Count == 0)
        {
            throw new ArgumentException($"Transaction '{gid}' has no operations; a prepared transaction writes at least one record.", nameof(operations));
        }

        var writes = new PendingWrite[operations.Count];
        for (int i = 0; i < writes.Length; i++)
        {
            TransactionOperation o = operations[i] ?? throw new ArgumentException($"Operation {i} of transaction '{gid}' is null.", nameof(operations));
            WriteKind kind = o.Kind switch
            {
                TransactionOperationKind.Insert => WriteKind.Insert,
                TransactionOperationKind.Upsert => WriteKind.Upsert,
                TransactionOperationKind.Update => WriteKind.Update,
                TransactionOperationKind.Delete => WriteKind.Delete,
                _ => throw new ArgumentException($"Operation {i} of transaction '{gid}' has unknown kind {(int)o.Kind}.", nameof(operations)),
            };
            writes[i] = PendingWrite.Accept(kind, o.Collection, o.Id, o.Vector, o.Metadata);
        }

        return Validate(writes);
    }

    /// <summary>Resolves and logs a prepare under the write lock: the gid must be new, its records free.</summary>
    private (Staged Staged, PreparedEntry Entry) StagePrepare(string gid, (PendingWrite Write, byte[] Metadata)[] writes, string? coordinatorId)
    {
        PreparedEntry? entry = null;
        Staged staged = Stage(null, null, () =>
        {
            PreparedTransactionState state = _logicalTransactions.StateOf(gid);
            if (state != PreparedTransactionState.Unknown)
            {
                throw new PreparedTransactionException(
                    gid, state, $"Transaction '{gid}' is already {Describe(state)} on this database; a gid is never reused, so nothing was written.");
            }

            StoreOperation[] resolved = ResolveLocked(writes);
            DateTimeOffset at = _time.GetUtcNow();
            TransactionOperationKind[] kinds = [.. writes.Select(w => (TransactionOperationKind)(int)w.Write.Kind)];
            byte[] payload = PreparedTransactionCodec.Encode(at, coordinatorId, kinds, resolved);
            TransactionOperation[] given = [.. writes.Select(w => w.Write.Kind == WriteKind.Delete
                ? TransactionOperation.Delete(w.Write.Collection, w.Write.Id)
                : new TransactionOperation((TransactionOperationKind)(int)w.Write.Kind, w.Write.Collection, w.Write.Id, w.Write.Vector, w.Write.Metadata.Count == 0 ? null : w.Write.Metadata))];
            entry = new PreparedEntry(gid, 0, at, coordinatorId, given, resolved, payload);
            return [new StoreOperation.Prepare(entry)];
        });
        return (staged, entry! with { Lsn = staged.Lsn });
    }

    /// <summary>
    /// Logs a commit or rollback when the gid's state asks for one; returns it staged, or null with the LSN of the
    /// record that already resolved it the same way (idempotent calls log nothing).
    /// </summary>
    private (Staged? Staged, long ResolvedLsn) StageResolution(string gid, bool commit)
    {
        PreparedTransactionGid.Validate(gid, nameof(gid));
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ThrowIfStandby();
        lock (_writeLock)
        {
            TransactionTable table = _logicalTransactions;
            PreparedTransactionState state = table.StateOf(gid);
            switch (state)
            {
                case PreparedTransactionState.Committed when commit:
                case PreparedTransactionState.RolledBack when !commit:
                    return (null, table.Resolved[gid].Lsn);
                case PreparedTransactionState.RolledBack:
                    throw new PreparedTransactionException(gid, state, $"Transaction '{gid}' was rolled back on this database; it cannot be committed. Nothing was written.");
                case PreparedTransactionState.Unknown when commit:
                    throw new PreparedTransactionException(gid, state, $"Transaction '{gid}' is not prepared on this database (unknown gid); there is nothing to commit. Nothing was written.");
                case PreparedTransactionState.Committed:
                    throw new PreparedTransactionException(gid, state, $"Transaction '{gid}' is committed on this database; it cannot be rolled back. Nothing was written.");
                case PreparedTransactionState.Prepared when commit:
                    IReadOnlyList<StoreOperation> resolved = table.Prepared[gid].Resolved;
                    return (Stage(null, null, () => [new StoreOperation.CommitPrepared(gid, resolved)]), 0);
                default:
                    return (Stage(null, null, () => [new StoreOperation.RollbackPrepared(gid)]), 0); // prepared, or unknown: presumed abort
            }
        }
    }

    /// <summary>An idempotent call returns once the record that resolved the gid is durable and applied.</summary>
    private void WaitResolutionApplied(long lsn)
    {
        if (lsn <= AppliedLsn)
        {
            return;
        }

        try
        {
            _wal.Sync();
        }
        catch (WalFailedException ex)
        {
            Failed(ex);
            throw;
        }

        WaitConfirmedOrStoppedAsync(lsn).GetAwaiter().GetResult();
        ApplyUpTo(lsn);
    }

    /// <summary>Updates the logical table for a logged prepare, commit or rollback at <paramref name="lsn"/>.</summary>
    private void ApplyLogicalTransaction(StoreOperation operation, long lsn)
    {
        switch (operation)
        {
            case StoreOperation.Prepare p:
                _logicalTransactions = _logicalTransactions.Prepare(p.Entry with { Lsn = lsn });
                return;
            case StoreOperation.CommitPrepared c:
                foreach (StoreOperation write in c.Operations)
                {
                    ApplyLogical(write, lsn);
                }

                _logicalTransactions = _logicalTransactions.Resolve(c.Gid, PreparedTransactionState.Committed, lsn);
                break;
            case StoreOperation.RollbackPrepared r:
                _logicalTransactions = _logicalTransactions.Resolve(r.Gid, PreparedTransactionState.RolledBack, lsn);
                break;
            default:
                return;
        }

        Interlocked.Exchange(ref _reservationsReleased, NewReleaseSignal()).TrySetResult(); // wake prepares waiting for a reservation
    }

    /// <summary>Applies a prepare, commit or rollback at <paramref name="lsn"/>; false when <paramref name="operations"/> is none of them.</summary>
    private bool ApplyTransactionStep(IReadOnlyList<StoreOperation> operations, long lsn)
    {
        switch (operations)
        {
            case [StoreOperation.Prepare p]:
                Volatile.Write(ref _appliedTransactions, _appliedTransactions.Prepare(p.Entry with { Lsn = lsn }));
                _versions.Publish(lsn);
                return true;
            case [StoreOperation.CommitPrepared c]:
                ApplyTogether(c.Operations, lsn); // visible together, at one version; then the state says committed
                Volatile.Write(ref _appliedTransactions, _appliedTransactions.Resolve(c.Gid, PreparedTransactionState.Committed, lsn));
                return true;
            case [StoreOperation.RollbackPrepared r]:
                Volatile.Write(ref _appliedTransactions, _appliedTransactions.Resolve(r.Gid, PreparedTransactionState.RolledBack, lsn));
                _versions.Publish(lsn);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Sets both tables from a loaded checkpoint (recovery only).</summary>
    private void RestoreTransactions(TransactionTable table)
    {
        _logicalTransactions = table;
        Volatile.Write(ref _appliedTransactions, table);
    }

    /// <summary>The operation a prepare, commit or rollback record replays as, or null for other records.</summary>
    private StoreOperation? FromTransactionEntry(WalEntry entry, long lsn) => entry switch
    {
        WalEntry.PrepareTransaction p => new StoreOperation.Prepare(CheckPrepared(PreparedTransactionCodec.Decode(p.Gid, lsn, p.Payload.Span))),
        WalEntry.CommitPrepared c => _logicalTransactions.Prepared.TryGetValue(c.Gid, out PreparedEntry? prepared)
            ? new StoreOperation.CommitPrepared(c.Gid, prepared.Resolved)
            : throw new InvalidDataException($"it commits transaction '{c.Gid}', which is {Describe(_logicalTransactions.StateOf(c.Gid))} at this point of the log, not prepared"),
        WalEntry.RollbackPrepared r => new StoreOperation.RollbackPrepared(r.Gid),
        _ => null,
    };

    /// <summary>A replayed prepare's writes must fit their collections as they are at its LSN.</summary>
    private PreparedEntry CheckPrepared(PreparedEntry entry)
    {
        foreach (StoreOperation operation in entry.Resolved)
        {
            if (operation is StoreOperation.Put put)
            {
                LogicalCollection c = RequireCollection(put.Collection);
                OxiVec.Indexing.VectorMath.Validate(c.Options.Metric, c.Options.Dimension, put.Vector, "vector");
            }
            else if (operation is StoreOperation.Remove remove)
            {
                RequireCollection(remove.Collection);
            }
        }

        return entry;
    }

    /// <summary>Adds a warning per prepared transaction older than <see cref="VectorDatabaseOptions.PreparedTransactionWarningAge"/> (logged once per gid).</summary>
    private WalHealthReport WithPreparedTransactionFindings(WalHealthReport report)
    {
        List<string> findings = [];
        foreach (PreparedTransaction p in ListPrepared())
        {
            TimeSpan age = p.Age(_time);
            if (age <= _preparedWarningAge)
            {
                continue;
            }

            string coordinator = p.CoordinatorId is null ? "no coordinator recorded" : $"coordinator '{p.CoordinatorId}'";
            findings.Add(
                $"Warning: prepared transaction '{p.Gid}' ({coordinator}, {p.OperationCount} writes) has been in doubt for {age.TotalMinutes:F1} minutes " +
                $"(over {_preparedWarningAge.TotalMinutes:F1}); its records stay reserved until it is committed or rolled back (ask its coordinator, or `oxivec tx commit|rollback`)");
            if (_agedPreparedLogged.TryAdd(p.Gid, 0))
            {
                _logger.LogWarning(
                    "Prepared transaction {Gid} ({Coordinator}) has been in doubt for {Minutes:F1} minutes; its records stay reserved until it is committed or rolled back.",
                    p.Gid, coordinator, age.TotalMinutes);
            }
        }

        return findings.Count == 0
            ? report
            : report with
            {
                Status = report.Status == WalHealthStatus.Critical ? WalHealthStatus.Critical : WalHealthStatus.Warning,
                Findings = [.. report.Findings, .. findings],
            };
    }

    private static string Describe(PreparedTransactionState state) => state switch
    {
        PreparedTransactionState.Prepared => "prepared",
        PreparedTransactionState.Committed => "committed",
        PreparedTransactionState.RolledBack => "rolled back",
        _ => "unknown",
    };
}

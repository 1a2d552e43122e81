namespace OxiVec.Transactions;

/// <summary>
/// One resource manager a <see cref="TwoPhaseCommit"/> coordinator drives: a local
/// <see cref="Storage.VectorDatabase"/> (<see cref="LocalTransactionParticipant"/>) or a remote <c>oxivec serve</c> node
/// (<c>RemoteTransactionParticipant</c> in OxiVec.Hosting). The calls are those of PostgreSQL's PREPARE TRANSACTION,
/// COMMIT PREPARED and ROLLBACK PREPARED, plus what recovery needs to find in-doubt transactions.
/// </summary>
/// <remarks>
/// <para>Answers the coordinator relies on: <see cref="PrepareAsync"/> returns only once the prepare is durable;
/// commit and rollback are idempotent (a second call returns the same state); rolling back a gid the participant never
/// saw records it as rolled back, so a prepare of it arriving late fails (presumed abort).</para>
/// <para>Errors: <see cref="PreparedTransactionException"/> means the participant refused for good (the gid's state
/// forbids the call) and is not retried; <see cref="TransactionConflictException"/> and <see cref="ArgumentException"/>
/// from a prepare are a "no" vote. Any other exception (I/O, network, timeout) means "no answer": the coordinator
/// retries a commit or rollback until it gets one, and counts a prepare without an answer as a "no" vote.</para>
/// </remarks>
public interface ITransactionParticipant
{
    /// <summary>
    /// The participant's stable name, recorded in the coordinator's decision log: recovery matches the participants it
    /// is given to the log by this name, so it must stay the same across restarts and be unique per coordinator.
    /// </summary>
    string Name { get; }

    /// <summary>Validates, reserves and durably logs <paramref name="operations"/> as prepared transaction <paramref name="gid"/>.</summary>
    /// <exception cref="TransactionConflictException">A record is reserved by another prepared transaction.</exception>
    /// <exception cref="PreparedTransactionException">The gid is already known to the participant.</exception>
    /// <exception cref="ArgumentException">An operation is invalid; nothing was written.</exception>
    ValueTask<PreparedTransaction> PrepareAsync(string gid, IReadOnlyList<TransactionOperation> operations, PrepareOptions options, CancellationToken cancellationToken);

    /// <summary>Commits prepared transaction <paramref name="gid"/> (idempotent); returns its state afterwards.</summary>
    /// <exception cref="PreparedTransactionException">The gid is rolled back or unknown.</exception>
    ValueTask<PreparedTransactionState> CommitPreparedAsync(string gid, CancellationToken cancellationToken);

    /// <summary>Rolls back <paramref name="gid"/> (idempotent; an unknown gid is recorded as rolled back); returns its state afterwards.</summary>
    /// <exception cref="PreparedTransactionException">The gid is committed.</exception>
    ValueTask<PreparedTransactionState> RollbackPreparedAsync(string gid, CancellationToken cancellationToken);

    /// <summary>The prepared transactions still in doubt on this participant.</summary>
    ValueTask<IReadOnlyList<PreparedTransaction>> ListPreparedAsync(CancellationToken cancellationToken);

    /// <summary>Where <paramref name="gid"/> stands on this participant.</summary>
    ValueTask<PreparedTransactionState> GetStateAsync(string gid, CancellationToken cancellationToken);
}

namespace OxiVec.Transactions;

/// <summary>
/// A transaction across several participants, begun by <see cref="TwoPhaseCommit.Begin"/>: add each participant's
/// operations, then <see cref="CommitAsync"/> commits them on all or none. Nothing is sent before
/// <see cref="CommitAsync"/>; a transaction that is never committed leaves no trace. Not thread safe while it is built;
/// single use.
/// </summary>
public sealed class DistributedTransaction
{
    private readonly TwoPhaseCommit _coordinator;
    private readonly List<(ITransactionParticipant Participant, List<TransactionOperation> Operations)> _parts = [];
    private int _started;

    internal DistributedTransaction(TwoPhaseCommit coordinator, string gid)
    {
        _coordinator = coordinator;
        Gid = gid;
    }

    /// <summary>The global transaction id, the same on every participant.</summary>
    public string Gid { get; }

    /// <summary>The participants' names, in the order they were added.</summary>
    public IReadOnlyList<string> Participants => [.. _parts.Select(p => p.Participant.Name)];

    internal IReadOnlyList<(ITransactionParticipant Participant, List<TransactionOperation> Operations)> Parts => _parts;

    /// <summary>Adds <paramref name="operation"/> for <paramref name="participant"/>. Returns this transaction.</summary>
    /// <exception cref="ArgumentException">Another participant object has the same name.</exception>
    /// <exception cref="InvalidOperationException">The transaction was committed already.</exception>
    public DistributedTransaction Add(ITransactionParticipant participant, TransactionOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return Add(participant, [operation]);
    }

    /// <summary>Adds <paramref name="operations"/>, in order, for <paramref name="participant"/>. Returns this transaction.</summary>
    /// <exception cref="ArgumentException">Another participant object has the same name, or an operation is null.</exception>
    /// <exception cref="InvalidOperationException">The transaction was committed already.</exception>
    public DistributedTransaction Add(ITransactionParticipant participant, IEnumerable<TransactionOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(participant);
        ArgumentNullException.ThrowIfNull(operations);
        if (Volatile.Read(ref _started) != 0)
        {
            throw new InvalidOperationException($"Transaction '{Gid}' was committed already; begin a new one.");
        }

        List<TransactionOperation> list = [.. operations];
        if (list.Any(o => o is null))
        {
            throw new ArgumentException("An operation is null.", nameof(operations));
        }

        int index = _parts.FindIndex(p => p.Participant.Name == participant.Name);
        if (index < 0)
        {
            _parts.Add((participant, list));
        }
        else if (!ReferenceEquals(_parts[index].Participant, participant))
        {
            throw new ArgumentException($"Another participant is named '{participant.Name}' in transaction '{Gid}'; names identify participants in the decision log.", nameof(participant));
        }
        else
        {
            _parts[index].Operations.AddRange(list);
        }

        return this;
    }

    /// <summary>
    /// Runs the two-phase commit: logs the begin durably, prepares on every participant in parallel, logs the commit
    /// decision durably when every prepare succeeded, then commits everywhere (or rolls back everywhere when a prepare
    /// failed), resending each commit or rollback until its participant answers.
    /// </summary>
    /// <returns>The outcome and each participant's vote and acknowledged state.</returns>
    /// <exception cref="InvalidOperationException">No operations were added, or the transaction was committed already.</exception>
    /// <exception cref="OperationCanceledException">
    /// Cancelled before every participant answered the decision. The transaction stays pending in the coordinator's log
    /// and <see cref="TwoPhaseCommit.RecoverAsync"/> finishes it: committed if the commit decision was logged, otherwise
    /// rolled back.
    /// </exception>
    public Task<TwoPhaseCommitResult> CommitAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException($"Transaction '{Gid}' was committed already; begin a new one.");
        }

        if (_parts.Count == 0 || _parts.All(p => p.Operations.Count == 0))
        {
            throw new InvalidOperationException($"Transaction '{Gid}' has no operations.");
        }

        return _coordinator.RunAsync(this, cancellationToken);
    }
}

namespace OxiVec.Transactions;

/// <summary>What <see cref="DistributedTransaction.CommitAsync"/> did.</summary>
/// <param name="Gid">The global transaction id.</param>
/// <param name="Outcome">Committed (every participant prepared) or rolled back.</param>
/// <param name="Participants">Per participant: its vote and the state it acknowledged, in the order they were added.</param>
public sealed record TwoPhaseCommitResult(string Gid, TwoPhaseCommitOutcome Outcome, IReadOnlyList<TwoPhaseCommitParticipantResult> Participants)
{
    /// <summary>Whether the transaction committed.</summary>
    public bool Committed => Outcome == TwoPhaseCommitOutcome.Committed;
}

/// <summary>One participant's part in a distributed transaction.</summary>
/// <param name="Participant">The participant's name.</param>
/// <param name="Prepared">Whether it voted yes (its prepare returned).</param>
/// <param name="PrepareError">Why it voted no (a conflict, invalid operations, no answer in time); null for a yes vote or when its prepare was never sent.</param>
/// <param name="State">The state it acknowledged for the decision: <see cref="PreparedTransactionState.Committed"/> or <see cref="PreparedTransactionState.RolledBack"/>
/// (<see cref="PreparedTransactionState.Unknown"/> only with a <paramref name="ResolveError"/>).</param>
/// <param name="ResolveError">
/// A refusal of the decision (<see cref="PreparedTransactionException"/>: the participant no longer holds a transaction it
/// voted yes for). It breaks the participant's contract and needs an operator; null normally.
/// </param>
public sealed record TwoPhaseCommitParticipantResult(
    string Participant, bool Prepared, Exception? PrepareError, PreparedTransactionState State, Exception? ResolveError);

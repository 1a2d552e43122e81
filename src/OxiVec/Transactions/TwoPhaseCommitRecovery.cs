namespace OxiVec.Transactions;

/// <summary>What <see cref="TwoPhaseCommit.RecoverAsync"/> resolved.</summary>
/// <param name="Committed">Gids whose logged commit decision was driven to every participant.</param>
/// <param name="RolledBack">Gids rolled back: logged without a commit decision, or found prepared on a participant under this coordinator's id and unknown to the log (presumed abort).</param>
/// <param name="Unresolved">Gids the log names a participant for that was not given, or that a participant refused; they stay in the log for the next recovery.</param>
public sealed record TwoPhaseCommitRecovery(
    IReadOnlyList<string> Committed, IReadOnlyList<string> RolledBack, IReadOnlyList<TwoPhaseCommitUnresolved> Unresolved);

/// <summary>A transaction recovery could not finish.</summary>
/// <param name="Gid">The global transaction id.</param>
/// <param name="Participant">The participant it could not resolve on.</param>
/// <param name="Reason">Why: the participant was not given to recovery, or its refusal.</param>
public sealed record TwoPhaseCommitUnresolved(string Gid, string Participant, string Reason);

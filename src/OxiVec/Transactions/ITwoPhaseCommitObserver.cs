namespace OxiVec.Transactions;

/// <summary>
/// Sees every step of a <see cref="TwoPhaseCommit"/> as it happens, on the thread doing it (diagnostics, tracing, and the
/// kill tests, which end the process at an exact step). It must be quick and thread safe: prepares, commits and
/// rollbacks of several participants run in parallel. An exception it throws propagates out of the step, as a crash
/// of the coordinator at that point would: nothing after it in that task runs.
/// </summary>
public interface ITwoPhaseCommitObserver
{
    /// <summary>Called at <paramref name="current"/>.</summary>
    void OnStep(TwoPhaseCommitStep current);
}

/// <summary>The steps of the protocol, in the order one transaction goes through them.</summary>
public enum TwoPhaseCommitStepKind
{
    /// <summary>The transaction's begin record (its gid and participants) is durable; no prepare was sent yet.</summary>
    BeginLogged,

    /// <summary>A prepare is about to be sent to <see cref="TwoPhaseCommitStep.Participant"/>.</summary>
    BeforePrepare,

    /// <summary>A prepare was answered (<see cref="TwoPhaseCommitStep.Error"/> is null for a "yes" vote).</summary>
    AfterPrepare,

    /// <summary>
    /// The decision is made: for <see cref="TwoPhaseCommitOutcome.Committed"/> its record is durable; a rollback is not
    /// logged (presumed abort: no commit record means rollback).
    /// </summary>
    DecisionLogged,

    /// <summary>A commit or rollback (the decision) is about to be sent to <see cref="TwoPhaseCommitStep.Participant"/> (also during recovery).</summary>
    BeforeResolve,

    /// <summary>A commit or rollback was answered by <see cref="TwoPhaseCommitStep.Participant"/> (also during recovery).</summary>
    AfterResolve,

    /// <summary>Every participant acknowledged the decision; the transaction's end record is appended (it may be trimmed from then on).</summary>
    EndLogged,
}

/// <summary>One step of one transaction.</summary>
/// <param name="Kind">The step.</param>
/// <param name="Gid">The transaction.</param>
/// <param name="Participant">The participant's name, for the per-participant steps; otherwise null.</param>
/// <param name="Decision">The decision, from <see cref="TwoPhaseCommitStepKind.DecisionLogged"/> on; otherwise null.</param>
/// <param name="Error">For <see cref="TwoPhaseCommitStepKind.AfterPrepare"/> and <see cref="TwoPhaseCommitStepKind.AfterResolve"/>: the participant's error, null when it answered as asked.</param>
public readonly record struct TwoPhaseCommitStep(
    TwoPhaseCommitStepKind Kind, string Gid, string? Participant = null, TwoPhaseCommitOutcome? Decision = null, Exception? Error = null);

namespace OxiVec.Transactions;

/// <summary>The outcome of a distributed transaction: the same on every participant.</summary>
public enum TwoPhaseCommitOutcome
{
    /// <summary>Every participant prepared, the commit decision was logged, and the transaction commits everywhere.</summary>
    Committed,

    /// <summary>A participant did not prepare (or the coordinator stopped before deciding): the transaction rolls back everywhere.</summary>
    RolledBack,
}

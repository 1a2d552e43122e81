namespace OxiVec.Replication;

/// <summary>
/// The primary's epoch history (<c>replication/history.json</c>, like PostgreSQL's timeline history), sent once a
/// standby's hello was accepted (its log is a prefix of this primary's) and before any batch. The standby persists it
/// in place of its own, so that, promoted later, it can still tell a node diverged at an earlier branch point where
/// to rewind to (chained promotions), and so that its position names the epoch its last record belongs to.
/// </summary>
/// <param name="Epoch">The primary's epoch.</param>
/// <param name="Branches">The history, oldest first: from each start LSN on, the log was written under that epoch.</param>
public sealed record EpochHistory(long Epoch, IReadOnlyList<EpochBranch> Branches) : PrimaryMessage;

/// <summary>One entry of an epoch history: from <paramref name="StartLsn"/> on, records were written under <paramref name="Epoch"/> (or later ones).</summary>
/// <param name="Epoch">The epoch.</param>
/// <param name="StartLsn">The first LSN written under it.</param>
public sealed record EpochBranch(long Epoch, long StartLsn);

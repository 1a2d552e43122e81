namespace OxiVec.Wal;

/// <summary>
/// One bar of the commits-per-fsync histogram (<see cref="WalMetrics.CommitsPerSyncHistogram"/>): how many fsyncs
/// acknowledged between <see cref="MinCommits"/> and <see cref="MaxCommits"/> waiting commits.
/// </summary>
/// <param name="MinCommits">The smallest batch the bar counts.</param>
/// <param name="MaxCommits">The largest batch the bar counts (<see cref="int.MaxValue"/> for the last bar).</param>
/// <param name="Syncs">fsyncs since open whose batch fell in the bar.</param>
public sealed record WalCommitBatchBucket(int MinCommits, int MaxCommits, long Syncs);

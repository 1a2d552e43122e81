namespace OxiVec.Replication;

/// <summary>One standby's position at the commit gate's ack level, and whether it is connected.</summary>
internal readonly record struct StandbyPosition(bool Connected, long Lsn);

/// <summary>What a synchronous policy makes of the standbys' positions.</summary>
/// <param name="Enough">Whether enough listed standbys are connected.</param>
/// <param name="ConfirmedLsn">The newest LSN the policy counts as confirmed (meaningful when <paramref name="Enough"/>).</param>
/// <param name="SyncSet">The standbys whose confirmation counts now.</param>
internal readonly record struct QuorumResult(bool Enough, long ConfirmedLsn, IReadOnlySet<string> SyncSet);

/// <summary>The synchronous set and the confirmed LSN (PostgreSQL's synchronous_standby_names rules).</summary>
internal static class SyncQuorum
{
    /// <summary>
    /// FIRST n: the first n connected listed standbys in priority order form the set, and the confirmed LSN is the
    /// lowest of theirs. ANY n: the set is every connected listed standby, and the confirmed LSN is the n-th highest
    /// of theirs. Fewer than n connected: not enough.
    /// </summary>
    public static QuorumResult Evaluate(SynchronousStandbyPolicy policy, IReadOnlyDictionary<string, StandbyPosition> standbys)
    {
        var connected = new List<(string Name, long Lsn)>(policy.Names.Length);
        foreach (string name in policy.Names)
        {
            if (standbys.TryGetValue(name, out StandbyPosition p) && p.Connected)
            {
                connected.Add((name, p.Lsn));
            }
        }

        if (connected.Count < policy.Count)
        {
            return new QuorumResult(false, 0, connected.Select(c => c.Name).ToHashSet(StringComparer.Ordinal));
        }

        if (policy.Method == SynchronousMethod.First)
        {
            List<(string Name, long Lsn)> set = connected.GetRange(0, policy.Count);
            return new QuorumResult(true, set.Min(s => s.Lsn), set.Select(s => s.Name).ToHashSet(StringComparer.Ordinal));
        }

        long nth = connected.Select(c => c.Lsn).OrderDescending().ElementAt(policy.Count - 1);
        return new QuorumResult(true, nth, connected.Select(c => c.Name).ToHashSet(StringComparer.Ordinal));
    }
}

namespace OxiVec.ClusterTests.History;

/// <summary>How much the acknowledgement mode promises: none of an acknowledged write is lost in sync and quorum modes; in async a tail may be.</summary>
public enum AckMode
{
    /// <summary>The primary acknowledges alone: a failover may lose the tail the standbys had not received.</summary>
    Async,

    /// <summary>A synchronous standby confirmed every acknowledged write.</summary>
    Sync,

    /// <summary>A quorum of standbys confirmed every acknowledged write.</summary>
    Quorum,
}

/// <summary>What the checker found; <see cref="Violations"/> empty means the run kept every promise.</summary>
/// <param name="Acknowledged">Acknowledged writes.</param>
/// <param name="Lost">Acknowledged writes missing from the final primary (allowed only in async mode, as a tail of a deposed epoch).</param>
/// <param name="IndeterminatePresent">Unanswered writes found on the final primary (allowed: a write may commit without its answer arriving).</param>
/// <param name="Violations">Every broken promise, each naming the ids, nodes and epochs involved.</param>
public sealed record HistoryVerdict(int Acknowledged, IReadOnlyList<WriteAck> Lost, int IndeterminatePresent, IReadOnlyList<string> Violations)
{
    /// <summary>A one-line summary for reports.</summary>
    public override string ToString() =>
        $"{Acknowledged} acknowledged, {Lost.Count} lost, {IndeterminatePresent} unanswered but present, {Violations.Count} violations"
        + (Violations.Count == 0 ? "" : ":\n  " + string.Join("\n  ", Violations.Take(20)));
}

/// <summary>
/// Checks a client history against the final primary's content:
/// <list type="bullet">
/// <item>every point on the final primary was attempted, with the attempted value (no phantom, no torn value);</item>
/// <item>every acknowledged write is present with its exact value, except, in async mode only, writes of a deposed
/// epoch that form a tail of that epoch's acknowledgements (the loss is bounded by the replication lag, and reported);</item>
/// <item>no two primaries: no two nodes acknowledged under the same epoch, and no write acknowledged under an older
/// epoch was sent after a write under a newer epoch had been acknowledged (the deposed primary acknowledged nothing
/// once its successor served).</item>
/// </list>
/// </summary>
public static class HistoryChecker
{
    /// <summary>
    /// Checks <paramref name="history"/> against <paramref name="finalContent"/> (id to value, read from the final
    /// primary), whose epoch is <paramref name="finalEpoch"/> (0: unknown, taken as the highest acknowledged epoch).
    /// </summary>
    public static HistoryVerdict Check(WriteHistory history, IReadOnlyDictionary<long, string> finalContent, AckMode mode, long finalEpoch = 0)
    {
        (IReadOnlyList<WriteAttempt> attempts, IReadOnlyList<WriteAck> acks) = history.Snapshot();
        var violations = new List<string>();
        var attempted = attempts.ToDictionary(a => a.Id);
        var acked = acks.ToDictionary(a => a.Id);

        foreach ((long id, string value) in finalContent)
        {
            if (!attempted.TryGetValue(id, out WriteAttempt? attempt))
            {
                violations.Add($"id {id} is on the final primary but was never written");
            }
            else if (attempt.Value != value)
            {
                violations.Add($"id {id} holds '{value}' on the final primary, but '{attempt.Value}' was written");
            }
        }

        List<WriteAck> lost = [.. acks.Where(a => !finalContent.ContainsKey(a.Id))];
        CheckLoss(acks, lost, finalContent, mode, finalEpoch, violations);
        CheckSinglePrimaryPerEpoch(acks, violations);
        CheckNoStaleAcknowledgement(acks, violations);
        int indeterminatePresent = attempts.Count(a => !acked.ContainsKey(a.Id) && finalContent.ContainsKey(a.Id));
        return new HistoryVerdict(acks.Count, lost, indeterminatePresent, violations);
    }

    private static void CheckLoss(IReadOnlyList<WriteAck> acks, List<WriteAck> lost, IReadOnlyDictionary<long, string> finalContent, AckMode mode, long finalEpoch, List<string> violations)
    {
        if (lost.Count == 0)
        {
            return;
        }

        if (mode != AckMode.Async)
        {
            violations.AddRange(lost.Select(a => $"acknowledged write {a.Id} (node {a.Node}, epoch {a.Epoch}, LSN {a.Lsn}) is missing from the final primary in {mode} mode"));
            return;
        }

        finalEpoch = finalEpoch != 0 ? finalEpoch : acks.Max(a => a.Epoch);
        foreach (IGrouping<(string Node, long Epoch), WriteAck> term in lost.GroupBy(a => (a.Node, a.Epoch)))
        {
            if (term.Key.Epoch == finalEpoch && finalEpoch != 0)
            {
                violations.AddRange(term.Select(a => $"acknowledged write {a.Id} of the final epoch {a.Epoch} (node {a.Node}) is missing"));
                continue;
            }

            // A failover loses what the new primary had not received: a tail of the deposed primary's log. Any write it
            // acknowledged after (by LSN) a lost one must be lost too.
            long firstLostLsn = term.Min(a => a.Lsn);
            violations.AddRange(acks
                .Where(a => a.Node == term.Key.Node && a.Epoch == term.Key.Epoch && a.Lsn > firstLostLsn && finalContent.ContainsKey(a.Id))
                .Select(a => $"write {a.Id} (LSN {a.Lsn}) of node {a.Node} epoch {a.Epoch} survived although the earlier write at LSN {firstLostLsn} was lost: the loss is not a tail"));
        }
    }

    private static void CheckSinglePrimaryPerEpoch(IReadOnlyList<WriteAck> acks, List<string> violations)
    {
        foreach (IGrouping<long, WriteAck> epoch in acks.Where(a => a.Epoch != 0).GroupBy(a => a.Epoch))
        {
            string[] nodes = [.. epoch.Select(a => a.Node).Distinct().Order()];
            if (nodes.Length > 1)
            {
                violations.Add($"epoch {epoch.Key} was acknowledged by {nodes.Length} nodes: {string.Join(", ", nodes)}");
            }
        }
    }

    private static void CheckNoStaleAcknowledgement(IReadOnlyList<WriteAck> acks, List<string> violations)
    {
        // For each epoch, the earliest time a write under it was acknowledged; a write under an older epoch sent after
        // that and still acknowledged means two primaries served at once.
        var firstAckOfEpoch = acks.Where(a => a.Epoch != 0).GroupBy(a => a.Epoch).ToDictionary(g => g.Key, g => g.Min(a => a.AckedAt));
        foreach (WriteAck ack in acks.Where(a => a.Epoch != 0))
        {
            foreach ((long epoch, TimeSpan firstAck) in firstAckOfEpoch)
            {
                if (epoch > ack.Epoch && ack.StartedAt > firstAck)
                {
                    violations.Add($"write {ack.Id} was sent at {ack.StartedAt.TotalMilliseconds:0} ms and acknowledged by node {ack.Node} under epoch {ack.Epoch}, after epoch {epoch} had acknowledged a write at {firstAck.TotalMilliseconds:0} ms");
                    break;
                }
            }
        }
    }
}

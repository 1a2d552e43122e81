using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace OxiVec.Transactions;

public sealed partial class TwoPhaseCommit
{
    /// <summary>
    /// Finishes what a crash (or a cancelled <see cref="DistributedTransaction.CommitAsync"/>) left: every pending
    /// transaction of the decision log is committed (when its commit decision is logged) or rolled back (otherwise) on
    /// each of its participants, resending until each answers; then every transaction the participants hold prepared
    /// under this <see cref="CoordinatorId"/> that the log does not know is rolled back (presumed abort). Transactions
    /// this object is committing meanwhile are left alone. Idempotent: run it again at any time.
    /// </summary>
    /// <param name="participants">Every participant this coordinator may have used, by the names it used.</param>
    /// <param name="cancellationToken">Stops the resending; what is resolved stays resolved, the rest stays pending.</param>
    /// <returns>What was committed, rolled back, and what could not be resolved (a participant missing or refusing).</returns>
    /// <exception cref="ArgumentException">Two participants share a name.</exception>
    public async Task<TwoPhaseCommitRecovery> RecoverAsync(IEnumerable<ITransactionParticipant> participants, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ArgumentNullException.ThrowIfNull(participants);
        var byName = new Dictionary<string, ITransactionParticipant>(StringComparer.Ordinal);
        foreach (ITransactionParticipant participant in participants)
        {
            if (!byName.TryAdd(participant.Name, participant))
            {
                throw new ArgumentException($"Two participants are named '{participant.Name}'.", nameof(participants));
            }
        }

        var committed = new ConcurrentQueue<string>();
        var rolledBack = new ConcurrentQueue<string>();
        var unresolved = new ConcurrentQueue<TwoPhaseCommitUnresolved>();

        // 1. The log's pending transactions: their decision is final, drive it.
        var claimed = _log.Pending().Where(p => TryClaim(p.Gid)).ToArray();
        try
        {
            await Task.WhenAll(claimed.Select(p => Task.Run(() => FinishPendingAsync(p, byName, committed, rolledBack, unresolved, cancellationToken)))).ConfigureAwait(false);
        }
        finally
        {
            foreach (TwoPhaseCommitLog.PendingTransaction pending in claimed)
            {
                Release(pending.Gid);
            }
        }

        // 2. Presumed abort: prepared under this id, unknown to the log. A begin record is durable before any prepare is
        // sent, so such a gid ended already (every participant acknowledged it; a rollback is refused or a no-op) or was
        // never begun by this coordinator's log (a stray prepare): rolling it back is always safe.
        await Task.WhenAll(byName.Values.Select(p => Task.Run(() => SweepAsync(p, rolledBack, unresolved, cancellationToken)))).ConfigureAwait(false);

        var report = new TwoPhaseCommitRecovery([.. committed.Distinct()], [.. rolledBack.Distinct()], [.. unresolved]);
        _logger.LogInformation("Two-phase commit recovery of {Coordinator}: {Committed} committed, {RolledBack} rolled back, {Unresolved} unresolved.",
            CoordinatorId, report.Committed.Count, report.RolledBack.Count, report.Unresolved.Count);
        return report;
    }

    private async Task FinishPendingAsync(
        TwoPhaseCommitLog.PendingTransaction pending, Dictionary<string, ITransactionParticipant> byName,
        ConcurrentQueue<string> committed, ConcurrentQueue<string> rolledBack, ConcurrentQueue<TwoPhaseCommitUnresolved> unresolved,
        CancellationToken cancellationToken)
    {
        TwoPhaseCommitOutcome decision = pending.Committed ? TwoPhaseCommitOutcome.Committed : TwoPhaseCommitOutcome.RolledBack;
        bool finished = true;
        foreach (string missing in pending.Participants.Where(n => !byName.ContainsKey(n)))
        {
            unresolved.Enqueue(new TwoPhaseCommitUnresolved(pending.Gid, missing, $"participant '{missing}' was not given to recovery; the decision is {decision}"));
            finished = false;
        }

        ITransactionParticipant[] present = [.. pending.Participants.Where(byName.ContainsKey).Select(n => byName[n])];
        (PreparedTransactionState State, Exception? Refusal)[] answers =
            await Task.WhenAll(present.Select(p => ResolveAsync(pending.Gid, p, decision, cancellationToken))).ConfigureAwait(false);
        for (int i = 0; i < present.Length; i++)
        {
            if (answers[i].Refusal is { } refusal)
            {
                unresolved.Enqueue(new TwoPhaseCommitUnresolved(pending.Gid, present[i].Name, refusal.Message));
                finished = false;
            }
        }

        if (finished)
        {
            _log.LogEnd(pending.Gid);
            Notify(new TwoPhaseCommitStep(TwoPhaseCommitStepKind.EndLogged, pending.Gid, Decision: decision));
            (decision == TwoPhaseCommitOutcome.Committed ? committed : rolledBack).Enqueue(pending.Gid);
        }
    }

    private async Task SweepAsync(
        ITransactionParticipant participant, ConcurrentQueue<string> rolledBack, ConcurrentQueue<TwoPhaseCommitUnresolved> unresolved, CancellationToken cancellationToken)
    {
        IReadOnlyList<PreparedTransaction> prepared = await UntilAnsweredAsync(
            participant, "*", "list", token => participant.ListPreparedAsync(token), cancellationToken).ConfigureAwait(false);
        foreach (PreparedTransaction transaction in prepared)
        {
            string gid = transaction.Gid;
            if (transaction.CoordinatorId != CoordinatorId || _log.IsPending(gid) || !TryClaim(gid))
            {
                continue;
            }

            try
            {
                if (_log.IsPending(gid))
                {
                    continue; // begun by a commit of this object between the check and the claim
                }

                (PreparedTransactionState state, Exception? refusal) = await ResolveAsync(gid, participant, TwoPhaseCommitOutcome.RolledBack, cancellationToken).ConfigureAwait(false);
                if (refusal is null)
                {
                    rolledBack.Enqueue(gid);
                }
                else if (state != PreparedTransactionState.Committed)
                {
                    // Committed means it ended after the list was taken; anything else is a participant breaking its contract.
                    unresolved.Enqueue(new TwoPhaseCommitUnresolved(gid, participant.Name, refusal.Message));
                }
            }
            finally
            {
                Release(gid);
            }
        }
    }
}

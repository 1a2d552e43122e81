using Microsoft.Extensions.Logging;

namespace OxiVec.Transactions;

public sealed partial class TwoPhaseCommit
{
    /// <summary>The protocol for one transaction (see <see cref="DistributedTransaction.CommitAsync"/>).</summary>
    internal async Task<TwoPhaseCommitResult> RunAsync(DistributedTransaction transaction, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        string gid = transaction.Gid;
        var parts = transaction.Parts.Where(p => p.Operations.Count > 0).ToArray();
        if (!TryClaim(gid))
        {
            throw new InvalidOperationException($"Transaction '{gid}' is being committed or recovered already.");
        }

        try
        {
            await _log.LogBeginAsync(gid, [.. parts.Select(p => p.Participant.Name)], cancellationToken).ConfigureAwait(false);
            Notify(new TwoPhaseCommitStep(TwoPhaseCommitStepKind.BeginLogged, gid));

            var prepareOptions = new PrepareOptions { CoordinatorId = CoordinatorId, ConflictWait = Options.ConflictWait };
            Exception?[] votes = await FanOut(parts, p => PrepareOneAsync(gid, p.Participant, p.Operations, prepareOptions, cancellationToken)).ConfigureAwait(false);

            TwoPhaseCommitOutcome decision = votes.All(v => v is null) ? TwoPhaseCommitOutcome.Committed : TwoPhaseCommitOutcome.RolledBack;
            if (decision == TwoPhaseCommitOutcome.Committed)
            {
                await _log.LogCommitAsync(gid, cancellationToken).ConfigureAwait(false);
            }

            Notify(new TwoPhaseCommitStep(TwoPhaseCommitStepKind.DecisionLogged, gid, Decision: decision));

            (PreparedTransactionState State, Exception? Refusal)[] answers =
                await FanOut(parts, p => ResolveAsync(gid, p.Participant, decision, cancellationToken)).ConfigureAwait(false);

            _log.LogEnd(gid);
            Notify(new TwoPhaseCommitStep(TwoPhaseCommitStepKind.EndLogged, gid, Decision: decision));
            return new TwoPhaseCommitResult(gid, decision, [.. parts.Select((p, i) => new TwoPhaseCommitParticipantResult(
                p.Participant.Name, votes[i] is null, votes[i], answers[i].State, answers[i].Refusal))]);
        }
        finally
        {
            Release(gid);
        }
    }

    /// <summary>Sends one prepare; returns null for a "yes" vote, else why not.</summary>
    private async Task<Exception?> PrepareOneAsync(
        string gid, ITransactionParticipant participant, IReadOnlyList<TransactionOperation> operations, PrepareOptions options, CancellationToken cancellationToken)
    {
        Notify(new TwoPhaseCommitStep(TwoPhaseCommitStepKind.BeforePrepare, gid, participant.Name));
        Exception? vote = null;
        using var timeout = new CancellationTokenSource(Options.AttemptTimeout, Options.TimeProvider);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            _ = await participant.PrepareAsync(gid, operations, options, attempt.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever the failure (a conflict, invalid operations, no answer), a prepare that did not return is a "no" vote.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            vote = ex;
            _logger.LogInformation(ex, "Two-phase commit {Gid}: participant {Participant} did not prepare; the transaction rolls back.", gid, participant.Name);
        }

        Notify(new TwoPhaseCommitStep(TwoPhaseCommitStepKind.AfterPrepare, gid, participant.Name, Error: vote));
        return vote;
    }

    /// <summary>Sends the decision to one participant until it answers; a refusal is returned, not thrown.</summary>
    private async Task<(PreparedTransactionState State, Exception? Refusal)> ResolveAsync(
        string gid, ITransactionParticipant participant, TwoPhaseCommitOutcome decision, CancellationToken cancellationToken)
    {
        Notify(new TwoPhaseCommitStep(TwoPhaseCommitStepKind.BeforeResolve, gid, participant.Name, decision));
        bool commit = decision == TwoPhaseCommitOutcome.Committed;
        PreparedTransactionState expected = commit ? PreparedTransactionState.Committed : PreparedTransactionState.RolledBack;
        (PreparedTransactionState State, Exception? Refusal) answer;
        try
        {
            PreparedTransactionState state = await UntilAnsweredAsync(
                participant, gid, commit ? "commit" : "rollback",
                token => commit ? participant.CommitPreparedAsync(gid, token) : participant.RollbackPreparedAsync(gid, token),
                cancellationToken).ConfigureAwait(false);
            answer = state == expected
                ? (state, null)
                : (state, new PreparedTransactionException(gid, state, $"Participant '{participant.Name}' answered {state} to the {(commit ? "commit" : "rollback")} of '{gid}'."));
        }
        catch (PreparedTransactionException refusal)
        {
            answer = (refusal.State, refusal);
        }

        if (answer.Refusal is not null)
        {
            _logger.LogError(answer.Refusal, "Two-phase commit {Gid}: participant {Participant} refused the decision {Decision}; an operator must check it.", gid, participant.Name, decision);
        }

        Notify(new TwoPhaseCommitStep(TwoPhaseCommitStepKind.AfterResolve, gid, participant.Name, decision, answer.Refusal));
        return answer;
    }

    /// <summary>
    /// Calls <paramref name="call"/> until it returns or throws <see cref="PreparedTransactionException"/> (a definite
    /// refusal, rethrown); any other failure, and an attempt longer than <see cref="TwoPhaseCommitOptions.AttemptTimeout"/>,
    /// is retried after a growing delay. Only <paramref name="cancellationToken"/> stops it.
    /// </summary>
    private async Task<T> UntilAnsweredAsync<T>(
        ITransactionParticipant participant, string gid, string what, Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        TimeSpan delay = Options.RetryDelay;
        for (int attemptNumber = 1; ; attemptNumber++)
        {
            using (var timeout = new CancellationTokenSource(Options.AttemptTimeout, Options.TimeProvider))
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                try
                {
                    return await call(attempt.Token).ConfigureAwait(false);
                }
                catch (PreparedTransactionException)
                {
                    throw;
                }
#pragma warning disable CA1031 // No answer (I/O, network, a timeout, a participant that is down): ask again, until cancelled.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        // Cancelled while this attempt failed (the caller's token may be cancelled after the call threw
                        // and before this check): the caller stopped waiting, so it gets the cancellation, never the
                        // attempt's own failure, whichever came first.
                        throw new OperationCanceledException(
                            $"Two-phase commit {gid}: stopped waiting for the {what} on participant '{participant.Name}' (cancelled); the decision stands and recovery completes it.",
                            ex, cancellationToken);
                    }

                    _logger.LogWarning(ex, "Two-phase commit {Gid}: {What} on participant {Participant} got no answer (attempt {Attempt}); resending in {Delay} ms.",
                        gid, what, participant.Name, attemptNumber, (int)delay.TotalMilliseconds);
                }
            }

            // Up to 50 % jitter, so coordinators retrying the same participant spread out.
            TimeSpan wait = delay * (0.5 + (Random.Shared.NextDouble() / 2));
            await Task.Delay(wait, Options.TimeProvider, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Math.Max(Options.MaxRetryDelay.Ticks, Options.RetryDelay.Ticks)));
        }
    }

    /// <summary>Runs <paramref name="call"/> for every part in parallel (each on the thread pool, so a participant that answers synchronously does not serialise the others).</summary>
    private static Task<TResult[]> FanOut<TPart, TResult>(TPart[] parts, Func<TPart, Task<TResult>> call) =>
        parts.Length == 1 ? WrapOne(call(parts[0])) : Task.WhenAll(parts.Select(p => Task.Run(() => call(p))));

    private static async Task<TResult[]> WrapOne<TResult>(Task<TResult> task) => [await task.ConfigureAwait(false)];
}

using CsCheck;
using OxiVec.Storage;
using OxiVec.Transactions;

namespace OxiVec.Tests.Transactions.Coordinator;

/// <summary>
/// The coordinator and real participants (local databases behind a misbehaving network) together, over random
/// transactions, random votes (a delete of a missing record votes no; concurrent transactions conflict), duplicated
/// and reordered deliveries, lost requests and answers, and a coordinator crash at a random step (with or without
/// restarting the databases): after recovery every transaction has one outcome on every participant, the databases hold
/// exactly the committed transactions' writes, and no prepared transaction was lost across the crash.
/// </summary>
public sealed class CoordinatorPropertyTests
{
    private sealed record Op(bool Delete, int Id);

    private sealed record Scenario(
        Op[][][] Transactions, int CrashStep, bool ReopenDatabases, bool Concurrent, bool Duplicate, bool LatePrepare, int LostBefore, int LostAfter)
    {
        public override string ToString() =>
            $"crash at step {CrashStep}, reopen {ReopenDatabases}, concurrent {Concurrent}, duplicate {Duplicate}, late prepare {LatePrepare}, lost {LostBefore}/{LostAfter}: " +
            string.Join(" | ", Transactions.Select(t => string.Join(" / ", t.Select(ops => string.Join(",", ops.Select(o => (o.Delete ? "-" : "+") + o.Id))))));
    }

    private static readonly Gen<Op[]> Ops = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 3], (kind, id) => new Op(kind == 0, id)).Array[0, 3];

    private static readonly Gen<Scenario> Scenarios =
        from participants in Gen.Int[2, 3]
        from transactions in Ops.Array[participants, participants].Array[1, 5]
        from crashStep in Gen.Int[-10, 40]
        from reopen in Gen.Bool
        from concurrent in Gen.Bool
        from duplicate in Gen.Bool
        from late in Gen.Bool
        from lostBefore in Gen.Int[0, 2]
        from lostAfter in Gen.Int[0, 2]
        select new Scenario(transactions, crashStep, reopen, concurrent, duplicate, late, lostBefore, lostAfter);

    [Fact]
    public async Task TwoPhaseCommit_RandomVotesMessagesAndCrashes_EveryTransactionHasOneOutcomeEverywhere()
    {
        await Scenarios.SampleAsync(RunAsync, iter: 60, threads: 1, print: s => s.ToString());
    }

    private static async Task RunAsync(Scenario scenario)
    {
        int n = scenario.Transactions[0].Length;
        using var h = new CoordinatorHarness(n);
        var observer = new CoordinatorCrashObserver((_, index) => index == scenario.CrashStep);
        TwoPhaseCommit coordinator = h.OpenCoordinator(CoordinatorHarness.Fast with { Observer = observer });
        CoordinatorTestParticipant[] network = Network(h, scenario);
        string Gid(int t) => "g" + t;

        var results = new TwoPhaseCommitResult?[scenario.Transactions.Length];
        async Task RunOneAsync(int t)
        {
            DistributedTransaction tx = coordinator.Begin(Gid(t));
            for (int p = 0; p < n; p++)
            {
                tx.Add(network[p], scenario.Transactions[t][p].Select(o => o.Delete
                    ? TransactionOperation.Delete(CoordinatorHarness.Collection, "r" + o.Id)
                    : CoordinatorHarness.Upsert("r" + o.Id, t, t)));
            }

            if (tx.Participants.Count == 0 || scenario.Transactions[t].All(ops => ops.Length == 0))
            {
                return;
            }

            try
            {
                results[t] = await tx.CommitAsync();
            }
            catch (SimulatedCrashException)
            {
            }
        }

        if (scenario.Concurrent)
        {
            await Task.WhenAll(Enumerable.Range(0, scenario.Transactions.Length).Select(t => Task.Run(() => RunOneAsync(t))));
        }
        else
        {
            for (int t = 0; t < scenario.Transactions.Length && !observer.Crashed; t++)
            {
                await RunOneAsync(t);
            }
        }

        // Prepares that answered "yes" before the crash.
        var preparedBefore = observer.Steps.Where(s => s.Kind == TwoPhaseCommitStepKind.AfterPrepare && s.Error is null).Select(s => (s.Gid, s.Participant!)).ToArray();
        if (observer.Crashed)
        {
            h.CloseCoordinator();
            if (scenario.ReopenDatabases)
            {
                for (int p = 0; p < n; p++)
                {
                    h.OpenDatabase(p);
                }
            }

            foreach ((string gid, string participant) in preparedBefore)
            {
                PreparedTransactionState state = h.Database(int.Parse(participant[1..], System.Globalization.CultureInfo.InvariantCulture)).GetTransactionState(gid);
                Assert.True(state is PreparedTransactionState.Prepared or PreparedTransactionState.Committed or PreparedTransactionState.RolledBack,
                    $"{scenario}: {gid} prepared on {participant} before the crash is {state} after it");
            }

            network = Network(h, scenario with { LostBefore = 0, LostAfter = 0 });
            TwoPhaseCommit restarted = h.OpenCoordinator();
            TwoPhaseCommitRecovery recovery = await restarted.RecoverAsync(network);
            Assert.Empty(recovery.Unresolved);
            Assert.Empty(restarted.PendingTransactions);
        }

        // One outcome per transaction, everywhere; nothing left in doubt.
        var committed = new bool[scenario.Transactions.Length];
        for (int t = 0; t < scenario.Transactions.Length; t++)
        {
            PreparedTransactionState[] states = [.. Enumerable.Range(0, n).Select(p => h.Database(p).GetTransactionState(Gid(t)))];
            Assert.DoesNotContain(PreparedTransactionState.Prepared, states);
            committed[t] = states.Contains(PreparedTransactionState.Committed);
            for (int p = 0; p < n; p++)
            {
                if (scenario.Transactions[t][p].Length > 0)
                {
                    Assert.True(states[p] == (committed[t] ? PreparedTransactionState.Committed : states[p] is PreparedTransactionState.Unknown ? PreparedTransactionState.Unknown : PreparedTransactionState.RolledBack),
                        $"{scenario}: {Gid(t)} is {string.Join(", ", states)}");
                }
            }

            if (results[t] is { } result)
            {
                Assert.Equal(committed[t], result.Committed);
            }
        }

        for (int p = 0; p < n; p++)
        {
            Assert.Empty(h.Database(p).ListPrepared());
            AssertHoldsExactlyTheCommittedWrites(h.Database(p), p, scenario, committed);
        }
    }

    private static CoordinatorTestParticipant[] Network(CoordinatorHarness h, Scenario scenario)
    {
        var network = new CoordinatorTestParticipant[h.Count];
        for (int p = 0; p < h.Count; p++)
        {
            network[p] = new CoordinatorTestParticipant(CoordinatorHarness.Name(p), h.Database(p)) { Duplicate = scenario.Duplicate, LatePrepare = scenario.LatePrepare };
            network[p].LoseAnswers(p == 0 ? scenario.LostBefore : 0, p == h.Count - 1 ? scenario.LostAfter : 0);
        }

        return network;
    }

    /// <summary>
    /// Sequential runs: the database equals the committed transactions' writes applied in order. Concurrent runs (commit
    /// order unknown): every record is an upsert of a committed transaction.
    /// </summary>
    private static void AssertHoldsExactlyTheCommittedWrites(VectorDatabase database, int p, Scenario scenario, bool[] committed)
    {
        var actual = database.Export(CoordinatorHarness.Collection).ToDictionary(r => r.Id, r => r.Metadata["tx"].AsLong);
        if (scenario.Concurrent)
        {
            foreach ((string id, long t) in actual)
            {
                Assert.True(committed[t] && scenario.Transactions[t][p].Any(o => !o.Delete && "r" + o.Id == id), $"{scenario}: {id} on p{p} holds the write of {t}");
            }

            return;
        }

        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int t = 0; t < scenario.Transactions.Length; t++)
        {
            if (!committed[t])
            {
                continue;
            }

            foreach (Op op in scenario.Transactions[t][p])
            {
                if (op.Delete)
                {
                    expected.Remove("r" + op.Id);
                }
                else
                {
                    expected["r" + op.Id] = t;
                }
            }
        }

        Assert.Equal(expected.OrderBy(e => e.Key), actual.OrderBy(e => e.Key));
    }
}

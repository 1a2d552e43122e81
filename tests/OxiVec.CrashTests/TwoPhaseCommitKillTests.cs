using System.Diagnostics;
using System.Globalization;
using OxiVec.Client;
using OxiVec.CrashTests.Infrastructure;
using OxiVec.CrashWorker;
using OxiVec.Storage;
using OxiVec.Transactions;
using OxiVec.Wal;
using Xunit.Abstractions;

namespace OxiVec.CrashTests;

/// <summary>
/// Two-phase commit under SIGKILL: the <c>crash-2pc-worker</c> (a coordinator with two participants: local databases in
/// its process, or real <c>oxivec serve</c> processes) is killed at an exact protocol step, every step in turn: before and
/// after each prepare, right after the decision, before and after each commit or rollback, after the end record, and
/// inside its own recovery of the previous crash; or it kills one of its participant servers at such a step and carries
/// on, resending, while the test restarts that server. Afterwards every
/// prepare it reported durable is still there, and after recovery every transaction has one outcome on every
/// participant, the participants hold exactly the committed transactions' writes, and no transaction a participant
/// voted no on committed.
/// </summary>
public sealed class TwoPhaseCommitKillTests(ITestOutputHelper output)
{
    /// <summary>Kills of the worker with local participants; <c>OXIVEC_2PC_LOCAL_KILLS</c> raises it for a soak run.</summary>
    private static readonly int LocalKills = EnvInt("OXIVEC_2PC_LOCAL_KILLS") ?? 60;

    /// <summary>Kills with remote participants (half of the worker, half of a participant server); <c>OXIVEC_2PC_REMOTE_KILLS</c> raises it.</summary>
    private static readonly int RemoteKills = EnvInt("OXIVEC_2PC_REMOTE_KILLS") ?? 40;

    /// <summary>The seed of everything random here (printed, and in every failure); <c>OXIVEC_CRASH_SEED</c> replays a run.</summary>
    private static readonly int Seed = EnvInt("OXIVEC_CRASH_SEED") ?? Random.Shared.Next();

    /// <summary>A generous bound for a process to start, recover, or run its transactions; reaching it fails the test.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private const int Participants = 2;

    private static readonly int StepsPerTransaction = TwoPhaseWorkload.StepsPerTransaction(Participants);

    [Fact]
    public async Task Crash2pcWorker_KilledAtEveryStepWithLocalParticipants_EveryParticipantReachesTheSameOutcome()
    {
        var random = new Random(Seed);
        long workloadSeed = random.Next();
        using var dir = new TempDirectory();
        var ledger = new Ledger(workloadSeed);
        var killedAt = new Dictionary<string, int>(StringComparer.Ordinal);
        long next = 1;
        bool pendingLeft = false;
        var total = Stopwatch.StartNew();
        output.WriteLine($"seed {Seed}, workload seed {workloadSeed}, {LocalKills} kills, data {dir.Path}");
        for (int round = 1; round <= LocalKills; round++)
        {
            // Every step of a transaction in turn (offset round % steps, in its first, second or third transaction); after a
            // round that left its crash unrecovered, a kill among the first steps of the worker's own recovery.
            bool inRecovery = pendingLeft;
            int transactions = 1 + random.Next(3);
            long killAt = inRecovery ? random.Next(5) : (StepsPerTransaction * (transactions - 1)) + (round % StepsPerTransaction);
            bool leaveUnrecovered = !inRecovery && round % 5 == 4;
            string context = $"seed {Seed}, round {round} (from t{next}, kill at step {killAt}{(inRecovery ? " in the worker's recovery" : "")})";

            WorkerRound run = await RunWorkerAsync(dir.Path, next, transactions + 1, workloadSeed, killAt, context);
            Assert.True(run.Killed, $"{context}: the worker was not killed (exit code {run.ExitCode}): {run.Stderr}");
            string where = run.LastStep ?? "start-up";
            killedAt[where] = killedAt.GetValueOrDefault(where) + 1;
            ledger.Record(run, context);

            using (var databases = LocalDatabases.Open(dir.Path))
            {
                ledger.AssertPreparesSurvived(databases.States, context);
                if (!leaveUnrecovered)
                {
                    using (TwoPhaseCommit coordinator = TwoPhaseCommit.Open(Path.Combine(dir.Path, "coordinator"), TwoPhaseWorkload.CoordinatorId))
                    {
                        TwoPhaseCommitRecovery recovery = await coordinator.RecoverAsync(databases.All);
                        Assert.True(recovery.Unresolved.Count == 0, $"{context}: unresolved {string.Join("; ", recovery.Unresolved)}");
                        Assert.Empty(coordinator.PendingTransactions);
                    }

                    ledger.AssertOneOutcomeEverywhere(databases.States, databases.Records, context);
                }
            }

            pendingLeft = leaveUnrecovered;
            next = ledger.LastStarted + 1;
            output.WriteLine($"round {round,2}: killed at {where}, {run.Acks.Count} transactions acknowledged, next t{next}{(leaveUnrecovered ? ", left for the worker's recovery" : "")}");
        }

        output.WriteLine($"{LocalKills} kills in {total.Elapsed.TotalSeconds:F1} s; {ledger.Committed} committed, {ledger.RolledBack} rolled back; killed at: " +
            string.Join(", ", killedAt.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}")));
        foreach (TwoPhaseCommitStepKind kind in Enum.GetValues<TwoPhaseCommitStepKind>())
        {
            Assert.True(killedAt.Keys.Any(k => k.StartsWith(kind.ToString(), StringComparison.Ordinal)), $"seed {Seed}: no kill at {kind}");
        }
    }

    [Fact]
    public async Task Crash2pcWorker_KilledOrItsRemoteParticipantKilledAtEveryStep_EveryParticipantReachesTheSameOutcome()
    {
        var random = new Random(Seed);
        long workloadSeed = random.Next();
        using var dir = new TempDirectory();
        var ledger = new Ledger(workloadSeed);
        var killedAt = new Dictionary<string, int>(StringComparer.Ordinal);
        var servers = new ServerProcess[Participants];
        long next = 1;
        int participantKills = 0;
        var total = Stopwatch.StartNew();
        output.WriteLine($"seed {Seed}, workload seed {workloadSeed}, {RemoteKills} kills, data {dir.Path}");
        try
        {
            for (int p = 0; p < Participants; p++)
            {
                servers[p] = await ServerProcess.StartAsync(Path.Combine(dir.Path, "r" + p), Patience, "--sync-interval-ms", "0");
                using var http = new HttpClient { BaseAddress = servers[p].Address, Timeout = TimeSpan.FromSeconds(30) };
                await new OxiVecClient(http).CreateCollectionAsync(TwoPhaseWorkload.Collection, new VectorParams(2, Distance.Euclid));
            }

            for (int round = 1; round <= RemoteKills; round++)
            {
                // Odd rounds kill the worker (the coordinator) at a step; even rounds have the worker kill a participant
                // server at a step and carry on, resending, while the test restarts that server on its port.
                bool killServer = round % 2 == 0;
                int victim = (round / 2) % Participants;
                int transactions = 1 + random.Next(3);
                long step = (StepsPerTransaction * (transactions - 1)) + ((round / 2) % StepsPerTransaction);
                string context = $"seed {Seed}, round {round} (from t{next}, {(killServer ? $"kill server r{victim}" : "kill the worker")} at step {step})";
                string[] remotes = [.. servers.SelectMany(s => new[] { "--remote", s.Address.ToString() })];
                WorkerRound run;
                if (!killServer)
                {
                    run = await RunWorkerAsync(dir.Path, next, transactions + 1, workloadSeed, step, context, remotes);
                    Assert.True(run.Killed, $"{context}: the worker was not killed (exit code {run.ExitCode}): {run.Stderr}");
                }
                else
                {
                    await using AckingProcess worker = AckingProcess.StartWorker(
                        [Crash2pcWorkerCommand.Name, "--data", dir.Path, "--from", Str(next), "--transactions", Str(transactions), "--seed", Str(workloadSeed),
                            "--kill-pid", Str(servers[victim].Id), "--kill-pid-at-step", Str(step), .. remotes]);
                    _ = await worker.WaitForLineAsync(l => l.StartsWith("killed ", StringComparison.Ordinal), "the kill of the server", Patience);
                    string port = servers[victim].Address.Port.ToString(CultureInfo.InvariantCulture);
                    await servers[victim].DisposeAsync();
                    servers[victim] = await ServerProcess.StartOnAsync(Path.Combine(dir.Path, "r" + victim), "127.0.0.1:" + port, Patience, "--sync-interval-ms", "0");
                    Assert.True(await worker.WaitForExitAsync(Patience), $"{context}: the worker did not finish after the server came back");
                    run = new WorkerRound(await worker.KillAsync());
                    Assert.True(run.ExitCode == 0, $"{context}: the worker failed (exit code {run.ExitCode}): {run.Stderr}");
                    Assert.True(run.Acks.Count == transactions, $"{context}: {run.Acks.Count} of {transactions} transactions acknowledged");
                    participantKills++;
                }

                string where = (killServer ? $"server r{victim} at " : "") + (run.Steps.FirstOrDefault(s => s[0] == Str(step)) is { } hit ? $"{hit[1]} {hit[3]}" : "start-up");
                killedAt[where] = killedAt.GetValueOrDefault(where) + 1;
                ledger.Record(run, context);

                RemoteView view = await RemoteView.ReadAsync(servers, ledger.LastStarted);
                ledger.AssertPreparesSurvived(view.State, context);
                using (TwoPhaseCommit coordinator = TwoPhaseCommit.Open(Path.Combine(dir.Path, "coordinator"), TwoPhaseWorkload.CoordinatorId))
                {
                    TwoPhaseCommitRecovery recovery = await coordinator.RecoverAsync(view.Participants);
                    Assert.True(recovery.Unresolved.Count == 0, $"{context}: unresolved {string.Join("; ", recovery.Unresolved)}");
                }

                view.Dispose();
                using (RemoteView after = await RemoteView.ReadAsync(servers, ledger.LastStarted))
                {
                    ledger.AssertOneOutcomeEverywhere(after.State, after.Records, context);
                }

                next = ledger.LastStarted + 1;
                output.WriteLine($"round {round,2}: killed {where}, {run.Acks.Count} transactions acknowledged, next t{next}");
            }
        }
        finally
        {
            foreach (ServerProcess? server in servers)
            {
                if (server is not null)
                {
                    await server.DisposeAsync();
                }
            }
        }

        output.WriteLine($"{RemoteKills} kills ({participantKills} of a participant server) in {total.Elapsed.TotalSeconds:F1} s; {ledger.Committed} committed, {ledger.RolledBack} rolled back; killed at: " +
            string.Join(", ", killedAt.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}")));
    }

    /// <summary>The remote participants' states and records, read over HTTP (the checks are synchronous).</summary>
    private sealed class RemoteView : IDisposable
    {
        private readonly HttpClient[] _http;
        private readonly Dictionary<(string Gid, int P), PreparedTransactionState> _states = [];
        private readonly List<VectorRecord>[] _records;

        private RemoteView(HttpClient[] http)
        {
            _http = http;
            _records = [.. http.Select(_ => new List<VectorRecord>())];
        }

        public IReadOnlyList<ITransactionParticipant> Participants => [.. _http.Select((h, p) => new RemoteTransactionParticipant("r" + p, new OxiVecClient(h)))];

        public Func<string, int, PreparedTransactionState> State => (gid, p) => _states[(gid, p)];

        public Func<int, IReadOnlyList<VectorRecord>> Records => p => _records[p];

        public static async Task<RemoteView> ReadAsync(ServerProcess[] servers, long lastStarted)
        {
            var view = new RemoteView([.. servers.Select(s => new HttpClient { BaseAddress = s.Address, Timeout = TimeSpan.FromSeconds(30) })]);
            for (int p = 0; p < servers.Length; p++)
            {
                var client = new OxiVecClient(view._http[p]);
                for (long n = 1; n <= lastStarted; n++)
                {
                    view._states[(TwoPhaseWorkload.Gid(n), p)] = (await client.GetTransactionStateAsync(TwoPhaseWorkload.Gid(n))) switch
                    {
                        TransactionState.Prepared => PreparedTransactionState.Prepared,
                        TransactionState.Committed => PreparedTransactionState.Committed,
                        TransactionState.RolledBack => PreparedTransactionState.RolledBack,
                        _ => PreparedTransactionState.Unknown,
                    };
                }

                ScrollResult page = await client.ScrollAsync(TwoPhaseWorkload.Collection, new ScrollRequest { Limit = 100, WithVector = true });
                Assert.Null(page.NextPageOffset); // five keys at most
                foreach (RetrievedPoint point in page.Points)
                {
                    long tx = point.Payload!["tx"]!.GetValue<long>();
                    view._records[p].Add(new VectorRecord(point.Id.ToString(), point.Vector, new Dictionary<string, MetadataValue> { ["tx"] = MetadataValue.From(tx) }));
                }
            }

            return view;
        }

        public void Dispose()
        {
            foreach (HttpClient http in _http)
            {
                http.Dispose();
            }
        }
    }

    private static async Task<WorkerRound> RunWorkerAsync(string data, long from, int transactions, long seed, long killAt, string context, params string[] extra)
    {
        await using AckingProcess worker = AckingProcess.StartWorker(
            [Crash2pcWorkerCommand.Name, "--data", data, "--from", Str(from), "--transactions", Str(transactions), "--seed", Str(seed), "--kill-at-step", Str(killAt), .. extra]);
        Assert.True(await worker.WaitForExitAsync(Patience), $"{context}: the worker did not end within {Patience.TotalSeconds} s");
        AckRun run = await worker.KillAsync();
        return new WorkerRound(run);
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;

    /// <summary>What one worker printed.</summary>
    private sealed class WorkerRound(AckRun run)
    {
        public int ExitCode => run.ExitCode;

        public string Stderr => run.Stderr;

        public bool Killed => run.ExitCode == 128 + 9;

        /// <summary><c>ack {n} committed|rolledback</c>: n and whether it committed.</summary>
        public IReadOnlyList<(long N, bool Committed)> Acks { get; } = [.. run.Acks.Select(a => a.Split(' ')).Select(a => (long.Parse(a[0], CultureInfo.InvariantCulture), a[1] == "committed"))];

        /// <summary>The <c>step</c> lines' fields: index, kind, gid, participant.</summary>
        public IReadOnlyList<string[]> Steps { get; } = [.. run.OtherLines.Where(l => l.StartsWith("step ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1..])];

        /// <summary>The <c>prepared {gid} {participant}</c> lines.</summary>
        public IReadOnlyList<(string Gid, string Participant)> Prepared { get; } =
            [.. run.OtherLines.Where(l => l.StartsWith("prepared ", StringComparison.Ordinal)).Select(l => l.Split(' ')).Select(a => (a[1], a[2]))];

        /// <summary>The step the kill landed at ("kind participant").</summary>
        public string? LastStep => Steps.Count == 0 ? null : $"{Steps[^1][1]} {Steps[^1][3]}";
    }

    /// <summary>The two local participants' databases, opened in this process after a kill.</summary>
    private sealed class LocalDatabases : IDisposable
    {
        private readonly VectorDatabase[] _databases;

        private LocalDatabases(VectorDatabase[] databases) => _databases = databases;

        public static LocalDatabases Open(string data) =>
            new([.. Enumerable.Range(0, Participants).Select(p => VectorDatabase.Open(Path.Combine(data, "p" + p), new VectorDatabaseOptions { Wal = WalConfig.Default with { SyncIntervalMs = 0 } }))]);

        public IReadOnlyList<ITransactionParticipant> All => [.. _databases.Select((d, p) => new LocalTransactionParticipant("p" + p, d))];

        public Func<string, int, PreparedTransactionState> States => (gid, p) => _databases[p].GetTransactionState(gid);

        public Func<int, IReadOnlyList<VectorRecord>> Records => p => _databases[p].Export(TwoPhaseWorkload.Collection);

        public void Dispose()
        {
            foreach (VectorDatabase database in _databases)
            {
                database.Dispose();
            }
        }
    }

    /// <summary>Everything the workers reported, across rounds, and the checks against the participants.</summary>
    private sealed class Ledger(long seed)
    {
        private readonly Dictionary<long, bool> _acked = [];
        private readonly HashSet<(string Gid, int Participant)> _prepared = [];

        public long LastStarted { get; private set; }

        public int Committed { get; private set; }

        public int RolledBack { get; private set; }

        public void Record(WorkerRound run, string context)
        {
            foreach ((long n, bool committed) in run.Acks)
            {
                Assert.True(_acked.TryAdd(n, committed), $"{context}: t{n} acknowledged twice");
            }

            foreach ((string gid, string participant) in run.Prepared)
            {
                _prepared.Add((gid, int.Parse(participant.AsSpan(1), CultureInfo.InvariantCulture)));
            }

            foreach (string[] step in run.Steps)
            {
                LastStarted = Math.Max(LastStarted, long.Parse(step[2].AsSpan(1), CultureInfo.InvariantCulture));
            }
        }

        /// <summary>Every prepare a worker saw return is still known to its participant (prepared, or resolved since).</summary>
        public void AssertPreparesSurvived(Func<string, int, PreparedTransactionState> state, string context)
        {
            foreach ((string gid, int p) in _prepared)
            {
                Assert.True(state(gid, p) != PreparedTransactionState.Unknown, $"{context}: {gid} was prepared on p{p} and is lost");
            }
        }

        /// <summary>After recovery: one outcome per transaction everywhere, matching what was acknowledged, and exactly the committed writes.</summary>
        public void AssertOneOutcomeEverywhere(Func<string, int, PreparedTransactionState> state, Func<int, IReadOnlyList<VectorRecord>> records, string context)
        {
            var committed = new Dictionary<long, bool>();
            for (long n = 1; n <= LastStarted; n++)
            {
                string gid = TwoPhaseWorkload.Gid(n);
                PreparedTransactionState[] states = [.. Enumerable.Range(0, Participants).Select(p => state(gid, p))];
                Assert.True(!states.Contains(PreparedTransactionState.Prepared), $"{context}: {gid} is still in doubt: {string.Join(", ", states)}");
                bool isCommitted = states.All(s => s == PreparedTransactionState.Committed);
                Assert.True(isCommitted || !states.Contains(PreparedTransactionState.Committed), $"{context}: {gid} is half committed: {string.Join(", ", states)}");
                Assert.True(!isCommitted || TwoPhaseWorkload.VotesNo(seed, n, Participants) < 0, $"{context}: {gid} committed although a participant voted no");
                if (_acked.TryGetValue(n, out bool acked))
                {
                    Assert.True(acked == isCommitted, $"{context}: {gid} was acknowledged {(acked ? "committed" : "rolled back")} and is {string.Join(", ", states)}");
                }

                committed[n] = isCommitted;
            }

            Committed = committed.Count(c => c.Value);
            RolledBack = committed.Count - Committed;
            for (int p = 0; p < Participants; p++)
            {
                var expected = new SortedDictionary<string, long>(StringComparer.Ordinal);
                foreach ((long n, bool c) in committed.Where(c => c.Value))
                {
                    expected[TwoPhaseWorkload.Key(n)] = n;
                }

                var actual = new SortedDictionary<string, long>(StringComparer.Ordinal);
                foreach (VectorRecord record in records(p))
                {
                    long n = record.Metadata["tx"].AsLong;
                    Assert.True(record.Vector.Span[0] == n && record.Vector.Span[1] == p + 1, $"{context}: {record.Id} on p{p} has the vector of another write");
                    actual[record.Id] = n;
                }

                Assert.True(expected.SequenceEqual(actual), $"{context}: p{p} holds {string.Join(",", actual)}; the committed transactions wrote {string.Join(",", expected)}");
            }
        }
    }
}

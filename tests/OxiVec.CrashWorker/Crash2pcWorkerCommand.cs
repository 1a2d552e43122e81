using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OxiVec.Cli;
using OxiVec.Cli.Commands;
using OxiVec.Client;
using OxiVec.Storage;
using OxiVec.Transactions;
using OxiVec.Wal;
using CliConventions = OxiVec.Cli.Cli;

namespace OxiVec.CrashWorker;

/// <summary>
/// <c>OxiVec.CrashWorker crash-2pc-worker --data DIR [--remote URL]... --from N --transactions COUNT [--seed S]
/// [--kill-at-step K] [--kill-pid PID --kill-pid-at-step K]</c>: the victim of the two-phase commit kill tests. Opens
/// the coordinator (decision log in <c>DIR/coordinator</c>) and its participants: local databases <c>DIR/p0</c> and
/// <c>DIR/p1</c> in this process, or the <c>oxivec serve</c> nodes at the <c>--remote</c> addresses; recovers; prints
/// <c>ready {N}</c>; then commits transactions N, N+1, ... of <see cref="TwoPhaseWorkload"/> one after the other,
/// printing <c>ack {n} committed|rolledback</c> after each. Every protocol step (recovery's included) is printed as
/// <c>step {i} {kind} {gid} {participant}</c> before it proceeds, and <c>prepared {gid} {participant}</c> after a
/// prepare returned (it is durable). At step <c>--kill-at-step</c> the worker SIGKILLs itself; at step
/// <c>--kill-pid-at-step</c> it SIGKILLs process <c>--kill-pid</c> (a participant server) and carries on, resending
/// until the participant is back.
/// </summary>
internal static class Crash2pcWorkerCommand
{
    public const string Name = "crash-2pc-worker";

    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string[]> remoteOption = new("--remote") { Description = "Participant servers (http://127.0.0.1:port), in order; none: two local databases.", AllowMultipleArgumentsPerToken = false };
        Option<long> fromOption = new("--from") { Description = "The first transaction number.", DefaultValueFactory = _ => 1 };
        Option<long> countOption = new("--transactions") { Description = "How many transactions to commit, then exit.", DefaultValueFactory = _ => 10 };
        Option<long> seedOption = new("--seed") { Description = "Seed of the workload.", DefaultValueFactory = _ => 1 };
        Option<long> killAtOption = new("--kill-at-step") { Description = "SIGKILL this process at this step (from 0; -1: never).", DefaultValueFactory = _ => -1 };
        Option<int> killPidOption = new("--kill-pid") { Description = "A process to SIGKILL at --kill-pid-at-step.", DefaultValueFactory = _ => 0 };
        Option<long> killPidAtOption = new("--kill-pid-at-step") { Description = "The step at which to SIGKILL --kill-pid.", DefaultValueFactory = _ => -1 };
        var command = new Command(Name, "Commit two-phase transactions over two participants, printing each step, until killed (for crash tests).");
        foreach (Option option in (Option[])[dataOption, remoteOption, fromOption, countOption, seedOption, killAtOption, killPidOption, killPidAtOption])
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) => CliConventions.RunInBackground(() => Run(
            parse.GetValue(dataOption)!, parse.GetValue(remoteOption) ?? [], parse.GetValue(fromOption), parse.GetValue(countOption), parse.GetValue(seedOption),
            parse.GetValue(killAtOption), parse.GetValue(killPidOption), parse.GetValue(killPidAtOption), cancellationToken).GetAwaiter().GetResult()));
        return command;
    }

    private static async Task<int> Run(
        string data, string[] remotes, long from, long count, long seed, long killAt, int killPid, long killPidAt, CancellationToken cancellationToken)
    {
        using var acks = new LineOutput(Console.OpenStandardOutput());
        var observer = new KillingObserver(acks, killAt, killPid, killPidAt);
        var databases = new List<VectorDatabase>();
        var disposables = new List<IDisposable>();
        try
        {
            List<ITransactionParticipant> participants = [];
            if (remotes.Length == 0)
            {
                for (int p = 0; p < 2; p++)
                {
                    VectorDatabase database = VectorDatabase.Open(Path.Combine(data, "p" + p), new VectorDatabaseOptions { Wal = WalConfig.Default with { SyncIntervalMs = 0 } });
                    databases.Add(database);
                    if (!database.CollectionExists(TwoPhaseWorkload.Collection))
                    {
                        database.CreateCollection(TwoPhaseWorkload.Collection, TwoPhaseWorkload.Options);
                    }

                    participants.Add(new LocalTransactionParticipant("p" + p, database));
                }
            }
            else
            {
                for (int p = 0; p < remotes.Length; p++)
                {
                    var http = new HttpClient { BaseAddress = new Uri(remotes[p]), Timeout = TimeSpan.FromSeconds(30) };
                    disposables.Add(http);
                    participants.Add(new RemoteTransactionParticipant("r" + p, new OxiVecClient(http)));
                }
            }

            var options = new TwoPhaseCommitOptions
            {
                Observer = observer,
                RetryDelay = TimeSpan.FromMilliseconds(10),
                MaxRetryDelay = TimeSpan.FromMilliseconds(200),
                AttemptTimeout = TimeSpan.FromSeconds(20),
            };
            using TwoPhaseCommit coordinator = TwoPhaseCommit.Open(Path.Combine(data, "coordinator"), TwoPhaseWorkload.CoordinatorId, options);
            TwoPhaseCommitRecovery recovery = await coordinator.RecoverAsync(participants, cancellationToken).ConfigureAwait(false);
            if (recovery.Unresolved.Count > 0)
            {
                return CliConventions.Fail(ExitCodes.DataError, "recovery left " + string.Join("; ", recovery.Unresolved));
            }

            acks.Line(string.Create(CultureInfo.InvariantCulture, $"ready {from}"));
            for (long n = from; n < from + count; n++)
            {
                DistributedTransaction tx = coordinator.Begin(TwoPhaseWorkload.Gid(n));
                for (int p = 0; p < participants.Count; p++)
                {
                    tx.Add(participants[p], TwoPhaseWorkload.Operations(seed, n, p, participants.Count));
                }

                TwoPhaseCommitResult result = await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                acks.Line(string.Create(CultureInfo.InvariantCulture, $"ack {n} {(result.Committed ? "committed" : "rolledback")}"));
            }

            return ExitCodes.Ok;
        }
        finally
        {
            foreach (IDisposable owner in disposables)
            {
                owner.Dispose();
            }

            foreach (VectorDatabase database in databases)
            {
                database.Dispose();
            }
        }
    }

    /// <summary>Prints each step, and kills at the chosen ones.</summary>
    private sealed class KillingObserver(LineOutput output, long killAt, int killPid, long killPidAt) : ITwoPhaseCommitObserver
    {
        private long _steps = -1;

        public void OnStep(TwoPhaseCommitStep current)
        {
            long index = Interlocked.Increment(ref _steps);
            output.Line(string.Create(CultureInfo.InvariantCulture, $"step {index} {current.Kind} {current.Gid} {current.Participant ?? "-"}"));
            if (current.Kind == TwoPhaseCommitStepKind.AfterPrepare && current.Error is null)
            {
                output.Line($"prepared {current.Gid} {current.Participant}");
            }

            if (index == killPidAt && killPid > 0)
            {
                using Process victim = Process.GetProcessById(killPid);
                victim.Kill(); // SIGKILL
                victim.WaitForExit();
                output.Line(string.Create(CultureInfo.InvariantCulture, $"killed {killPid} at {index}"));
            }

            if (index == killAt)
            {
                using Process self = Process.GetCurrentProcess();
                self.Kill(); // SIGKILL: nothing after this step runs, nothing is flushed
            }
        }
    }

    /// <summary>Lines on stdout from several threads: each one written and flushed with one write call, under a lock.</summary>
    private sealed class LineOutput(Stream output) : IDisposable
    {
        private readonly Lock _lock = new();

        public void Line(string line)
        {
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(line + "\n");
            lock (_lock)
            {
                output.Write(bytes);
                output.Flush();
            }
        }

        public void Dispose() => output.Dispose();
    }
}

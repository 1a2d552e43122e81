using System.CommandLine;
using OxiVec.Cli;
using OxiVec.Wal;
using CliConventions = OxiVec.Cli.Cli;

namespace OxiVec.CrashWorker;

/// <summary>
/// <c>OxiVec.CrashWorker crash-worker --wal DIR [--seed S] [--tx-every K] [--dim D] [--segment-size BYTES] [--writers W] [--sync-interval-ms MS] [--no-preallocate]</c>:
/// the victim of the WAL crash tests. Opens the WAL with <c>SyncIntervalMs = 0</c> (or the given interval) and appends from
/// several concurrent writers (so group commit shares fsyncs) until it is killed, printing on stdout one line per
/// acknowledged write (see <see cref="AckProtocol"/>). Half the writers use the synchronous API, half the asynchronous.
/// </summary>
internal static class CrashWorkerCommand
{
    public const string Name = "crash-worker";

    public static Command Create()
    {
        Option<string> walOption = new("--wal") { Description = "The WAL directory (created if needed).", Required = true, HelpName = "DIR" };
        Option<int> seedOption = new("--seed") { Description = "Seed of the deterministic vectors.", DefaultValueFactory = _ => 1 };
        Option<int> txEveryOption = new("--tx-every")
        {
            Description = "Every K-th operation is a transaction of 2 to 5 inserts (0: no transactions).",
            DefaultValueFactory = _ => 10,
            HelpName = "K",
        };
        Option<int> dimOption = new("--dim") { Description = "Vector dimension.", DefaultValueFactory = _ => 16, HelpName = "D" };
        Option<long> segmentOption = new("--segment-size")
        {
            Description = "Segment size in bytes (small, so that rotation happens often).",
            DefaultValueFactory = _ => 256 << 10,
            HelpName = "BYTES",
        };
        Option<int> writersOption = new("--writers") { Description = "Concurrent writers.", DefaultValueFactory = _ => 4, HelpName = "W" };
        Option<int> syncOption = new("--sync-interval-ms")
        {
            Description = "The WAL's SyncIntervalMs: 0 acknowledges after the fsync, more after the write.",
            DefaultValueFactory = _ => 0,
            HelpName = "MS",
        };
        Option<bool> noPreallocateOption = new("--no-preallocate")
        {
            Description = "Segments are not preallocated (WalConfig.PreallocateSegments = false): no spares, so every rotation names the next segment on the write path before writing into it.",
        };
        var command = new Command(Name, "Append to a WAL until killed, printing 'ack <lsn>' after each acknowledged write (for crash tests).");
        command.Options.Add(walOption);
        command.Options.Add(seedOption);
        command.Options.Add(txEveryOption);
        command.Options.Add(dimOption);
        command.Options.Add(segmentOption);
        command.Options.Add(writersOption);
        command.Options.Add(syncOption);
        command.Options.Add(noPreallocateOption);
        command.SetAction((parse, cancellationToken) => RunAsync(
            new Settings(
                parse.GetValue(walOption)!, parse.GetValue(seedOption), parse.GetValue(txEveryOption), parse.GetValue(dimOption),
                parse.GetValue(segmentOption), parse.GetValue(writersOption), parse.GetValue(syncOption),
                !parse.GetValue(noPreallocateOption)),
            cancellationToken));
        return command;
    }

    /// <summary>The worker's arguments, in the order <see cref="Arguments"/> writes them.</summary>
    public sealed record Settings(string WalDir, int Seed, int TxEvery, int Dimension, long SegmentSizeBytes, int Writers, int SyncIntervalMs, bool PreallocateSegments = true)
    {
        /// <summary>The command line (after the executable) that runs a worker with these settings.</summary>
        public IReadOnlyList<string> Arguments() =>
        [
            Name, "--wal", WalDir, "--seed", Str(Seed), "--tx-every", Str(TxEvery), "--dim", Str(Dimension),
            "--segment-size", Str(SegmentSizeBytes), "--writers", Str(Writers), "--sync-interval-ms", Str(SyncIntervalMs),
            .. (PreallocateSegments ? Array.Empty<string>() : ["--no-preallocate"]),
        ];

        private static string Str(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<int> RunAsync(Settings s, CancellationToken cancellationToken)
    {
        string? invalid =
            s.TxEvery < 0 ? "--tx-every must be 0 (no transactions) or more" :
            s.Dimension is < 1 or > 65_536 ? "--dim must be between 1 and 65536" :
            s.Writers is < 1 or > 64 ? "--writers must be between 1 and 64" :
            s.SyncIntervalMs < 0 ? "--sync-interval-ms must be 0 or more" :
            s.SegmentSizeBytes is < WalConfig.MinSegmentSizeBytes or > WalConfig.MaxSegmentSizeBytes
                ? $"--segment-size must be between {WalConfig.MinSegmentSizeBytes} and {WalConfig.MaxSegmentSizeBytes} bytes" : null;
        if (invalid is not null)
        {
            return CliConventions.Fail(ExitCodes.Usage, $"{invalid}.");
        }

        var config = new WalConfig
        {
            WalDir = s.WalDir,
            SyncIntervalMs = s.SyncIntervalMs,
            SegmentSizeBytes = s.SegmentSizeBytes,
            PreallocateSegments = s.PreallocateSegments,
            MaxWalSize = Math.Max(WalConfig.Default.MaxWalSize, s.SegmentSizeBytes),
        };
        using WalManager wal = WalManager.Open(config);
        using var acks = new AckProtocol(Console.OpenStandardOutput());
        acks.Ready(wal.LastLsn);

        var workload = new Workload(wal, acks, s);
        Task[] writers = [.. Enumerable.Range(0, s.Writers).Select(i => i % 2 == 0
            ? Task.Factory.StartNew(workload.RunSync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.Run(workload.RunAsync, CancellationToken.None))];

        // Runs until killed, cancelled (Ctrl+C), or a writer fails (e.g. stdout closed because the parent died).
        using (cancellationToken.Register(workload.Stop))
        {
            Task first = await Task.WhenAny(writers).ConfigureAwait(false);
            workload.Stop();
            try
            {
                await Task.WhenAll(writers).ConfigureAwait(false);
            }
            catch (Exception) when (first.IsFaulted)
            {
                // Reported below: the first failure is the cause, the others its consequences.
            }

            return first.Exception?.InnerException is { } failure ? OxiVecCli.Report(failure) : ExitCodes.Ok;
        }
    }

    /// <summary>The operation counter and the writer loops.</summary>
    private sealed class Workload(WalManager wal, AckProtocol acks, Settings settings)
    {
        private long _next;
        private volatile bool _stopping;

        public void Stop() => _stopping = true;

        public void RunSync()
        {
            while (!_stopping)
            {
                long n = Interlocked.Increment(ref _next);
                if (CrashWorkload.IsTransaction(n, settings.TxEvery))
                {
                    using WalTransaction tx = BuildTransaction(n, out int count);
                    long commit = tx.Commit();
                    acks.AckTransaction(commit, commit - count, count);
                }
                else
                {
                    acks.Ack(wal.Append(Insert(n)));
                }
            }
        }

        public async Task RunAsync()
        {
            while (!_stopping)
            {
                long n = Interlocked.Increment(ref _next);
                if (CrashWorkload.IsTransaction(n, settings.TxEvery))
                {
                    using WalTransaction tx = BuildTransaction(n, out int count);
                    long commit = await tx.CommitAsync().ConfigureAwait(false);
                    acks.AckTransaction(commit, commit - count, count);
                }
                else
                {
                    acks.Ack(await wal.AppendAsync(Insert(n)).ConfigureAwait(false));
                }
            }
        }

        private WalEntry.Insert Insert(long n, int member = CrashWorkload.Single) => new(
            CrashWorkload.Collection,
            CrashWorkload.Id(n, member),
            CrashWorkload.Vector(settings.Seed, n, member, settings.Dimension),
            CrashWorkload.Metadata(n, member));

        private WalTransaction BuildTransaction(long n, out int count)
        {
            count = CrashWorkload.TransactionSize(settings.Seed, n);
            WalTransaction tx = wal.BeginTransaction();
            for (int member = 0; member < count; member++)
            {
                tx.Add(Insert(n, member));
            }

            return tx;
        }
    }
}

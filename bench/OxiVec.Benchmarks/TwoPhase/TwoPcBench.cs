using System.Diagnostics;
using System.Globalization;
using System.Text;
using OxiVec.Benchmarks.Macro;
using OxiVec.Benchmarks.Store;
using OxiVec.Benchmarks.Trust;
using OxiVec.Client;
using OxiVec.Storage;
using OxiVec.Transactions;
using OxiVec.Wal;
using static OxiVec.Benchmarks.Scale.ScaleCommon;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.TwoPhase;

/// <summary>
/// The <c>2pc</c> verb (issue 17, Measured): commit latency (p50/p99) and throughput of a two-phase commit over two
/// local participants (databases in this process) and over two remote ones (<c>oxivec serve</c> child processes,
/// through <see cref="RemoteTransactionParticipant"/>), against a single local transaction of the same operations on one
/// database, at 1 and 8 concurrent writers. Every WAL and the decision log fsync each commit. Writes <c>2pc.md</c>.
/// </summary>
internal sealed class TwoPcBench(VerbOptions options)
{
    public const string Verb = "2pc";
    private const string Collection = "bench";
    private const int Dimension = 64;
    private const int PointsPerParticipant = 2;

    private sealed record Mode(string Name);

    private sealed record CellResult(string Mode, int Writers, int Round, double PerSecond, double P50Ms, double P99Ms);

    private static readonly int[] Writers = [1, 8];

    private static readonly Mode Single = new("single local transaction");
    private static readonly Mode Local = new("2PC, 2 local participants");
    private static readonly Mode Remote = new("2PC, 2 remote participants");
    private static readonly Mode[] Modes = [Single, Local, Remote];

    public static int RunVerb(string[] args) => new TwoPcBench(VerbOptions.Parse(Verb, args)).RunAsync().GetAwaiter().GetResult();

    private TimeSpan Measured => options.Quick ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(4);

    /// <summary>Transactions before a cell's measurement starts.</summary>
    private int WarmUp => options.Quick ? 20 : 100;

    /// <summary>Rounds of every cell, alternating modes within a round so that a slower spell of the machine hits all of them alike.</summary>
    private int Rounds => options.Quick ? 1 : 3;

    private async Task<int> RunAsync()
    {
        Directory.CreateDirectory(options.OutDir);
        string work = NewWorkDir(Verb);
        try
        {
            MachineInfo machine = MachineInfo.Collect(work);
            ThreadPool.GetMinThreads(out int workers, out int io);
            _ = ThreadPool.SetMinThreads(Math.Max(workers, 32 + Environment.ProcessorCount), io);
            var cells = new List<CellResult>();
            for (int round = 0; round < Rounds; round++)
            {
                Say(Verb, $"round {round + 1}/{Rounds}");
                foreach (Mode mode in Modes)
                {
                    foreach (int writers in Writers)
                    {
                        CellResult cell = await RunCellAsync(Path.Combine(work, $"cell-{cells.Count}"), mode, writers, round).ConfigureAwait(false);
                        Say(Verb, $"  {mode.Name}, {writers} writers: {cell.PerSecond:N0}/s, p50 {cell.P50Ms:0.00} ms, p99 {cell.P99Ms:0.00} ms");
                        cells.Add(cell);
                    }
                }
            }

            Scale.ScaleCharts.GroupedBars(
                Path.Combine(options.OutDir, "2pc.png"), "Transactions per second: two-phase commit vs one local transaction (fsync per commit)", "transactions/s",
                [.. Writers.Select(w => $"{w} writer{(w == 1 ? "" : "s")}")],
                [.. Modes.Select((m, i) => new Scale.BarSeries(m.Name, Scale.ScaleCharts.Palette[i % Scale.ScaleCharts.Palette.Length],
                    [.. Writers.Select(w => Spread.Of(cells.Where(c => c.Mode == m.Name && c.Writers == w).Select(c => c.PerSecond)))]))],
                log: false, Scale.ScaleCharts.Rate);
            string path = Path.Combine(options.OutDir, "2pc.md");
            File.WriteAllText(path, Render(machine, cells));
            Say(Verb, $"wrote {path}");
            return 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    private async Task<CellResult> RunCellAsync(string dir, Mode mode, int writers, int round)
    {
        await using var setup = await Setup.StartAsync(dir, mode).ConfigureAwait(false);
        float[][] vectors = Uniform(1_024, Dimension, 17_001);

        // Warm-up, not measured: the first calls compile the code paths of this process and of the servers.
        for (int i = 0; i < WarmUp; i++)
        {
            await setup.CommitAsync(writers, i, vectors).ConfigureAwait(false);
        }

        var latencies = new List<double>[writers];
        long ops = 0;
        using var stop = new CancellationTokenSource();
        long started = Stopwatch.GetTimestamp();
        Task[] loops = [.. Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = new List<double>(100_000);
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                long t = Stopwatch.GetTimestamp();
                await setup.CommitAsync(w, i, vectors).ConfigureAwait(false);
                mine.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                Interlocked.Increment(ref ops);
            }
        }))];
        stop.CancelAfter(Measured);
        await Task.WhenAll(loops).ConfigureAwait(false);
        double seconds = Seconds(started);
        double[] all = [.. latencies.SelectMany(l => l).Order()];
        return new CellResult(mode.Name, writers, round, ops / seconds, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    /// <summary>Ids are numbers (remote participants take Qdrant point ids): writer w's pool of 500 per participant.</summary>
    private static string Id(int writer, int i, int point) => ((writer * 1_000_000L) + ((i % 500) * PointsPerParticipant) + point).ToString(CultureInfo.InvariantCulture);

    private static List<TransactionOperation> Operations(int writer, int i, int participant, float[][] vectors) =>
        [.. Enumerable.Range(0, PointsPerParticipant).Select(p => TransactionOperation.Upsert(Collection, Id(writer, i, p), vectors[((writer * 131) + (i * PointsPerParticipant) + p + participant) % vectors.Length]))];

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static string S(Spread spread, string format) =>
        spread.Min == spread.Max ? spread.Median.ToString(format, CultureInfo.InvariantCulture)
            : $"{spread.Median.ToString(format, CultureInfo.InvariantCulture)} ({spread.Min.ToString(format, CultureInfo.InvariantCulture)}–{spread.Max.ToString(format, CultureInfo.InvariantCulture)})";

    private string Render(MachineInfo machine, List<CellResult> cells)
    {
        double[] Rates(Mode mode, int writers) => [.. cells.Where(c => c.Mode == mode.Name && c.Writers == writers).OrderBy(c => c.Round).Select(c => c.PerSecond)];
        Spread Of(Mode mode, int writers, Func<CellResult, double> value) => Spread.Of(cells.Where(c => c.Mode == mode.Name && c.Writers == writers).Select(value));
        Interval VsSingle(Mode mode, int writers) => Bootstrap.PairedRatio(Rates(mode, writers), Rates(Single, writers));
        static string Pct(double v) => $"{v * 100:0.0} %";
        var sb = new StringBuilder();
        Line(sb, "# OxiVec two-phase commit benchmark: 2PC over local and remote participants vs one local transaction");
        Line(sb);
        sb.Append(options.Stamp);
        Line(sb);
        Line(sb, $"Generated by the `2pc` verb of bench/OxiVec.Benchmarks on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(options.Quick ? " (**--quick**: smoke-test sizes, not figures to quote)" : "")}. Issue 17 asks for the measurement, not a goal.");
        Line(sb);
        Line(sb, $"**Measured** ({Rounds} rounds, each mode once per round, paired with the single local transaction of the same round), at 8 writers: 2PC over 2 local participants reached **{VsSingle(Local, 8).Describe(Pct)}** and over 2 remote participants **{VsSingle(Remote, 8).Describe(Pct)}** of the single local transaction's throughput.");
        Line(sb);
        Line(sb, "## Setup");
        Line(sb);
        Line(sb, $"- A transaction is {2 * PointsPerParticipant} upserts of {Dimension}-dimension vectors into a flat collection: {PointsPerParticipant} per participant for 2PC, all {2 * PointsPerParticipant} in one `VectorTransaction` on one database for the single local transaction. Ids from a pool of 500 per writer.");
        Line(sb, "- 2PC: `TwoPhaseCommit` with its decision log (begin and commit records fsynced, end record not waited for), prepares in parallel, then commits in parallel; each participant fsyncs its prepare and its commit. Every WAL fsyncs each commit (SyncIntervalMs = 0); concurrent commits share fsyncs (group commit).");
        Line(sb, "- Local participants: two `VectorDatabase`s in this process (`LocalTransactionParticipant`). Remote participants: two `oxivec serve` hosts, child processes of this benchmark on 127.0.0.1, driven over HTTP/1.1 by `OxiVecClient` (`RemoteTransactionParticipant`).");
        Line(sb, $"- Closed loops: each writer starts its next transaction when the previous one returned; {WarmUp} transactions of warm-up, then {Measured.TotalSeconds:0.#} s per cell, latency p50/p99 over all transactions of a cell; tables give the median over rounds with the range (min–max).");
        Line(sb);
        Line(sb, "## Transactions");
        Line(sb);
        Line(sb, "| Mode | Writers | Transactions/s, median (range) | vs single local transaction (95 % interval) | p50 (ms) | p99 (ms) |");
        Line(sb, "|---|---:|---:|---:|---:|---:|");
        foreach (Mode mode in Modes)
        {
            foreach (int writers in Writers)
            {
                string versus = mode == Single ? "–" : VsSingle(mode, writers).Describe(Pct);
                Line(sb, $"| {mode.Name} | {writers} | {S(Of(mode, writers, c => c.PerSecond), "N0")} | {versus} | {S(Of(mode, writers, c => c.P50Ms), "0.000")} | {S(Of(mode, writers, c => c.P99Ms), "0.000")} |");
            }
        }

        Line(sb);
        Line(sb, "![transactions per second by mode](2pc.png)");
        Line(sb);
        Line(sb, "Where the time goes: a single local transaction waits for one fsync; a 2PC waits for four in sequence (the begin record, the prepares in parallel, the commit record, the commits in parallel), and remote participants add two HTTP round trips. With concurrent writers the fsyncs of each step are shared.");
        Line(sb);
        sb.Append(FigureTable.Render(
        [
            new Figure("2PC transactions/s, 2 local participants, 8 writers", $"{Of(Local, 8, c => c.PerSecond).Median:N0}/s", $"single local transaction {Of(Single, 8, c => c.PerSecond).Median:N0}/s",
                VsSingle(Local, 8).Describe(Pct), "–", $"{2 * PointsPerParticipant} upserts per transaction, fsync per commit everywhere, one machine", Rounds),
            new Figure("2PC transactions/s, 2 remote participants, 8 writers", $"{Of(Remote, 8, c => c.PerSecond).Median:N0}/s", $"single local transaction {Of(Single, 8, c => c.PerSecond).Median:N0}/s",
                VsSingle(Remote, 8).Describe(Pct), "–", "oxivec serve child processes over HTTP on loopback, one machine", Rounds),
            new Figure("2PC p50 latency, 2 local participants, 1 writer", $"{Of(Local, 1, c => c.P50Ms).Median:0.00} ms", $"single local transaction {Of(Single, 1, c => c.P50Ms).Median:0.00} ms",
                "–", "–", "fsync per commit everywhere", Rounds),
        ]));
        MachineSection(sb, machine, options);
        return sb.ToString();
    }

    /// <summary>The databases (or servers) and the coordinator of one cell.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private readonly List<IDisposable> _owned = [];
        private readonly List<VectorDatabase> _databases = [];
        private readonly List<ITransactionParticipant> _participants = [];
        private TwoPhaseCommit? _coordinator;

        private Setup()
        {
        }

        public static async Task<Setup> StartAsync(string dir, Mode mode)
        {
            Directory.CreateDirectory(dir);
            var setup = new Setup();
            try
            {
                var databaseOptions = new VectorDatabaseOptions { Wal = WalConfig.Default with { SyncIntervalMs = 0 } };
                int count = mode == Single ? 1 : 2;
                for (int p = 0; p < count; p++)
                {
                    if (mode == Remote)
                    {
                        var server = Server.ServerProcess.Start(Path.Combine(dir, $"server{p}"), 0);
                        setup._owned.Add(server);
                        var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(30) };
                        var client = new OxiVecClient(http);
                        setup._owned.Add(http);
                        await client.CreateCollectionAsync(Collection, new VectorParams(Dimension, Distance.Cosine)).ConfigureAwait(false);
                        setup._participants.Add(new RemoteTransactionParticipant($"r{p}", client));
                    }
                    else
                    {
                        VectorDatabase database = VectorDatabase.Open(Path.Combine(dir, $"db{p}"), databaseOptions);
                        setup._databases.Add(database);
                        database.CreateCollection(Collection, new CollectionOptions(Dimension) { Index = IndexKind.Flat });
                        setup._participants.Add(new LocalTransactionParticipant($"p{p}", database));
                    }
                }

                if (mode != Single)
                {
                    setup._coordinator = TwoPhaseCommit.Open(Path.Combine(dir, "coordinator"), "bench");
                }

                return setup;
            }
            catch
            {
                await setup.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public async Task CommitAsync(int writer, int i, float[][] vectors)
        {
            if (_coordinator is null)
            {
                using VectorTransaction tx = _databases[0].BeginTransaction();
                for (int p = 0; p < 2; p++)
                {
                    foreach (TransactionOperation op in Operations(writer, i, p, vectors))
                    {
                        tx.Upsert(op.Collection, $"{op.Id}-{p}", op.Vector);
                    }
                }

                _ = await tx.CommitAsync().ConfigureAwait(false);
                return;
            }

            DistributedTransaction distributed = _coordinator.Begin();
            for (int p = 0; p < _participants.Count; p++)
            {
                distributed.Add(_participants[p], Operations(writer, i, p, vectors));
            }

            TwoPhaseCommitResult result = await distributed.CommitAsync().ConfigureAwait(false);
            if (!result.Committed)
            {
                throw new InvalidOperationException($"transaction {result.Gid} rolled back: {result.Participants.FirstOrDefault(p => p.PrepareError is not null)?.PrepareError?.Message}");
            }
        }

        public async ValueTask DisposeAsync()
        {
            _coordinator?.Dispose();
            foreach (VectorDatabase database in _databases)
            {
                await database.DisposeAsync().ConfigureAwait(false);
            }

            foreach (IDisposable owned in Enumerable.Reverse(_owned))
            {
                owned.Dispose();
            }
        }
    }
}

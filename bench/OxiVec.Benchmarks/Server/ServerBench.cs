using System.Globalization;
using OxiVec.Benchmarks.Macro;
using OxiVec.Storage;
using OxiVec.Wal;
using static OxiVec.Benchmarks.Scale.ScaleCommon;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Server;

/// <summary>
/// The <c>server</c> verb (issue 13, Measured): searches and single-point upserts over HTTP (Qdrant's REST API,
/// <see cref="OxiVec.Hosting.Server.OxiVecServer"/> in a child process) against the embedded
/// <see cref="VectorDatabase"/> on the same data in the same run, with a C# closed-loop driver and wrk. Writes
/// <c>server.md</c> and <c>server.png</c>.
/// </summary>
internal sealed partial class ServerBench(ServerBenchOptions options)
{
    public const string Verb = "server";
    public const int Dimension = 384;
    public const string SearchCollection = "search";
    public const string UpsertCollection = "upsert";

    private static readonly string SearchPath = $"/collections/{SearchCollection}/points/query";
    private static readonly string UpsertPath = $"/collections/{UpsertCollection}/points?wait=true";

    /// <summary>The verb's entry: host mode (<see cref="ServerHost.Flag"/>) or the benchmark.</summary>
    public static int RunVerb(string[] args) =>
        args.Length > 0 && args[0] == ServerHost.Flag ? ServerHost.Run(args[1..]) : args.Length > 0 && args[0] == CompareFlag ? RunCompare(args[1..]) : new ServerBench(ServerBenchOptions.Parse(args)).Run();

    public int Run() => RunAsync().GetAwaiter().GetResult();

    private async Task<int> RunAsync()
    {
        int c = options.Concurrency;
        Directory.CreateDirectory(options.Common.OutDir);
        string work = NewWorkDir(Verb);
        try
        {
            MachineInfo machine = MachineInfo.Collect(work);
            // Upsert loops that complete synchronously hold a pool thread each: give the pool one per client up front.
            ThreadPool.GetMinThreads(out int workers, out int io);
            _ = ThreadPool.SetMinThreads(Math.Max(workers, (2 * c) + Environment.ProcessorCount), io);
            float[][] points = Uniform(options.Points, Dimension, 384_001);
            float[][] queries = Uniform(options.Queries, Dimension, 384_002);
            float[][] writes = Uniform(options.Queries, Dimension, 384_003);
            string seed = Path.Combine(work, "seed");
            Load(seed, points);
            var dirs = new Dictionary<string, string>();
            foreach (string side in new[] { "embedded-0", "embedded-1000", "server-0", "server-1000" })
            {
                dirs[side] = Path.Combine(work, side);
                Copy(seed, dirs[side]);
            }

            using VectorDatabase embedded0 = Open(dirs["embedded-0"], 0);
            using VectorDatabase embedded1000 = Open(dirs["embedded-1000"], 1000);
            Say(Verb, "starting the servers (child processes)");
            (ServerProcess started0, ServerProcess started1000) = await StartBothAsync(dirs["server-0"], dirs["server-1000"]).ConfigureAwait(false);
            using ServerProcess server0 = started0;
            using ServerProcess server1000 = started1000;
            Say(Verb, $"servers: {server0.Url} (pid {server0.Id}, SyncIntervalMs = 0), {server1000.Url} (pid {server1000.Id}, SyncIntervalMs = 1000)");
            using var http0 = new HttpLoad(server0.Url, c);
            using var http1000 = new HttpLoad(server1000.Url, c);
            var workload = new Workload(queries, writes, [.. queries.Select(q => QdrantBodies.Query(q))],
                [.. writes.Select((w, i) => QdrantBodies.UpsertOne((ulong)i, w))], [.. writes.Select((_, i) => i.ToString(CultureInfo.InvariantCulture))]);
            // Also the first requests of each server process (JIT), outside every measured window.
            await CheckSameAnswersAsync(embedded0, http0, workload).ConfigureAwait(false);
            await CheckSameAnswersAsync(embedded1000, http1000, workload).ConfigureAwait(false);
            await WarmUpSearchesAsync(embedded1000, http1000, workload).ConfigureAwait(false);
            string? wrk = Wrk.Find() ?? (options.Common.Quick ? null : Wrk.Install(msg => Say(Verb, msg)));
            string script = Path.Combine(work, "query.lua");
            File.WriteAllText(script, Wrk.Script(SearchPath, workload.QueryBodies));
            if (wrk is null)
            {
                Say(Verb, "wrk is not installed (bench/scripts/install-wrk.sh installs it): skipping the wrk cell");
            }

            Cell[] cells =
            [
                new(false, 1, 1000), new(false, c, 1000),
                .. options.SearchesOnly ? Array.Empty<Cell>() : [new(true, 1, 0), new(true, c, 0), new(true, 1, 1000), new(true, c, 1000)],
            ];
            var rounds = new List<Round>();
            for (int r = 0; r < options.Runs; r++)
            {
                Say(Verb, $"round {r + 1}/{options.Runs}");
                var results = new Dictionary<Cell, IReadOnlyList<(CellResult, CellResult)>>();
                foreach (Cell cell in cells)
                {
                    (VectorDatabase db, HttpLoad client, ServerProcess server) = cell.SyncIntervalMs == 0 ? (embedded0, http0, server0) : (embedded1000, http1000, server1000);
                    var pairs = new List<(CellResult, CellResult)>();
                    for (int p = 0; p < (cell.Upsert ? 1 : options.SearchPairs); p++)
                    {
                        // Every other pair runs HTTP first (embedded, HTTP; HTTP, embedded; ...), so a load that rises or
                        // falls over the round (the machine is shared) weighs on both sides alike instead of on the second.
                        CellResult e, h;
                        if ((r + p) % 2 == 0)
                        {
                            e = await EmbeddedAsync(cell, db, workload).ConfigureAwait(false);
                            h = await HttpAsync(cell, client, new CpuClock(server), workload).ConfigureAwait(false);
                        }
                        else
                        {
                            h = await HttpAsync(cell, client, new CpuClock(server), workload).ConfigureAwait(false);
                            e = await EmbeddedAsync(cell, db, workload).ConfigureAwait(false);
                        }

                        Say(Verb, $"  {Describe(cell)}: embedded {e.PerSecond:N0}/s (p50 {e.P50Ms:0.000} ms, p99 {e.P99Ms:0.000} ms, CPU {e.SelfCpuUs:N0} µs/op), " +
                            $"HTTP {h.PerSecond:N0}/s (p50 {h.P50Ms:0.000} ms, p99 {h.P99Ms:0.000} ms, CPU server {h.ServerCpuUs:N0} + client {h.SelfCpuUs:N0} µs/op, allocated server {h.ServerBytes:N0} + client {h.SelfBytes:N0} B/op): {h.PerSecond / e.PerSecond:P0}");
                        pairs.Add((e, h));
                    }

                    results[cell] = pairs;
                }

                WrkResult? wrkResult = null;
                if (wrk is not null)
                {
                    // The server's CPU per search without the C# driver's share of the cores (wrk is a small C program).
                    TimeSpan serverCpu = server1000.TotalProcessorTime;
                    wrkResult = Wrk.Run(wrk, server1000.Url, script, Math.Min(Environment.ProcessorCount, c), c, options.WrkSeconds);
                    wrkResult = wrkResult with { ServerCpuUs = (server1000.TotalProcessorTime - serverCpu).TotalMicroseconds / Math.Max(1, wrkResult.Requests) };
                    Say(Verb, $"  wrk search, {c} connections: {wrkResult.PerSecond:N0}/s (p50 {wrkResult.P50Ms:0.000} ms, p99 {wrkResult.P99Ms:0.000} ms, CPU server {wrkResult.ServerCpuUs:N0} µs/op)");
                }

                rounds.Add(new Round(results, wrkResult));
            }

            var report = new ServerReport(options, machine, cells, rounds, wrk is not null);
            report.Chart(Path.Combine(options.Common.OutDir, "server.png"));
            string md = Path.Combine(options.Common.OutDir, "server.md");
            File.WriteAllText(md, report.Markdown());
            Say(Verb, $"wrote {md}");
            return 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    /// <summary>Starts the two servers in parallel (each recovers its copy); stops the one that started when the other fails.</summary>
    private static async Task<(ServerProcess Sync0, ServerProcess Sync1000)> StartBothAsync(string dir0, string dir1000)
    {
        Task<ServerProcess> sync0 = Task.Run(() => ServerProcess.Start(dir0, 0));
        Task<ServerProcess> sync1000 = Task.Run(() => ServerProcess.Start(dir1000, 1000));
        try
        {
            await Task.WhenAll(sync0, sync1000).ConfigureAwait(false);
        }
        catch
        {
            foreach (Task<ServerProcess> t in new[] { sync0, sync1000 }.Where(t => t.IsCompletedSuccessfully))
            {
                t.Result.Dispose();
            }

            throw;
        }

        return (sync0.Result, sync1000.Result);
    }

    /// <summary>Short name of a cell, as printed and charted.</summary>
    public static string Describe(Cell cell) =>
        cell.Upsert
            ? $"upsert, SyncIntervalMs = {cell.SyncIntervalMs}, {Clients(cell.Clients)}"
            : $"search, {Clients(cell.Clients)}";

    private static string Clients(int n) => n == 1 ? "1 client" : $"{n} clients";

    /// <summary>Requests of a run, serialised once: query vectors and bodies, upsert vectors, bodies and ids (index i = id i).</summary>
    private sealed record Workload(float[][] Queries, float[][] Writes, byte[][] QueryBodies, byte[][] UpsertBodies, string[] WriteIds)
    {
        /// <summary>The request a client sends at a step: clients walk the pool from different offsets.</summary>
        public static int Pick(int client, long sequence, int count) => (int)(((client * 7_919L) + sequence) % count);
    }

    private static VectorDatabase Open(string dir, int syncIntervalMs) =>
        VectorDatabase.Open(dir, new VectorDatabaseOptions { Wal = WalConfig.Default with { SyncIntervalMs = syncIntervalMs } });

    /// <summary>The data set once, in <paramref name="dir"/>: the search collection filled and an empty upsert collection, checkpointed.</summary>
    private void Load(string dir, float[][] points)
    {
        Say(Verb, $"loading {points.Length:N0} x {Dimension} (Cosine, HNSW defaults) through the embedded API, {Environment.ProcessorCount} threads");
        using VectorDatabase db = Open(dir, 1000);
        db.CreateCollection(SearchCollection, new CollectionOptions(Dimension) { Metric = Indexing.DistanceMetric.Cosine });
        db.CreateCollection(UpsertCollection, new CollectionOptions(Dimension) { Metric = Indexing.DistanceMetric.Cosine });
        Dictionary<string, MetadataValue> none = [];
        // One loader per core, each inserting batches of 1,000 (the HNSW graph links concurrent adds in parallel).
        int loaders = Environment.ProcessorCount;
        _ = RunThreads(loaders, t =>
        {
            for (int from = t * 1_000; from < points.Length; from += loaders * 1_000)
            {
                _ = db.InsertBatch(SearchCollection, Enumerable.Range(from, Math.Min(1_000, points.Length - from))
                    .Select(j => new VectorRecord(j.ToString(CultureInfo.InvariantCulture), points[j], none)));
            }
        });
        if (db.Count(SearchCollection) != points.Length)
        {
            throw new InvalidOperationException($"the search collection holds {db.Count(SearchCollection)} of {points.Length} points after loading");
        }

        // Both sides then open a copy of this state from the checkpoint (graph included), with nothing to replay.
        _ = db.Checkpoint();
    }

    private static void Copy(string from, string to)
    {
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            _ = Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        _ = Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    /// <summary>
    /// Both sides hold the same data: the first queries answer the same ids embedded and over HTTP; and an upsert
    /// answers Qdrant's completed update (the same point is upserted embedded, so the sides stay alike).
    /// </summary>
    private static async Task CheckSameAnswersAsync(VectorDatabase embedded, HttpLoad http, Workload w, bool searchesOnly = false)
    {
        for (int q = 0; q < Math.Min(5, w.Queries.Length); q++)
        {
            string[] expected = [.. embedded.Search(SearchCollection, w.Queries[q], QdrantBodies.Limit).Select(h => h.Id)];
            IReadOnlyList<string> actual = HttpLoad.QueryIds(await http.SendAsync(HttpMethod.Post, SearchPath, w.QueryBodies[q]).ConfigureAwait(false));
            if (!expected.SequenceEqual(actual))
            {
                throw new InvalidOperationException($"query {q}: the server answered ids [{string.Join(", ", actual)}], the embedded database [{string.Join(", ", expected)}]: the two sides do not hold the same data");
            }
        }

        if (searchesOnly)
        {
            return;
        }

        _ = await embedded.UpsertAsync(UpsertCollection, w.WriteIds[0], w.Writes[0]).ConfigureAwait(false);
        if (!HttpLoad.IsCompletedUpdate(await http.SendAsync(HttpMethod.Put, UpsertPath, w.UpsertBodies[0]).ConfigureAwait(false)))
        {
            throw new InvalidOperationException("the server's upsert answer is not {\"result\": {\"status\": \"completed\"}, \"status\": \"ok\"}");
        }
    }

    /// <summary>
    /// Brings both sides' search code to its steady state before the first round: the embedded side's was already
    /// exercised by the load, the server process's only by a few queries, and its tiered compiler (instrumented code,
    /// then the optimised recompiles) takes seconds of searching to settle. Searches at 1 client then at
    /// <see cref="ServerBenchOptions.Concurrency"/> clients on both sides; nothing is recorded.
    /// </summary>
    private async Task WarmUpSearchesAsync(VectorDatabase embedded, HttpLoad http, Workload w)
    {
        Say(Verb, $"warming up the searches of both sides ({2 * options.ServerWarmupSeconds:0.#} s each)");
        foreach (int clients in new[] { 1, options.Concurrency })
        {
            var cell = new Cell(false, clients, 1000);
            _ = ClosedLoop.Threads(clients, 0, options.ServerWarmupSeconds, new CpuClock(null), (client, sequence) =>
                _ = embedded.Search(SearchCollection, w.Queries[Workload.Pick(client, sequence, w.Queries.Length)], QdrantBodies.Limit));
            _ = await HttpAsync(cell, http, new CpuClock(null), w, 0, options.ServerWarmupSeconds).ConfigureAwait(false);
        }
    }

    private async Task<CellResult> EmbeddedAsync(Cell cell, VectorDatabase db, Workload w)
    {
        if (!cell.Upsert)
        {
            return ClosedLoop.Threads(cell.Clients, options.SearchWarmupSeconds, options.SearchSeconds, new CpuClock(null), (client, sequence) =>
                _ = db.Search(SearchCollection, w.Queries[Workload.Pick(client, sequence, w.Queries.Length)], QdrantBodies.Limit));
        }

        Dictionary<string, MetadataValue> none = [];
        return await ClosedLoop.TasksAsync(cell.Clients, options.WarmupSeconds, options.UpsertSeconds, new CpuClock(null), async (client, sequence) =>
        {
            int i = Workload.Pick(client, sequence, w.Writes.Length);
            _ = await db.UpsertAsync(UpsertCollection, w.WriteIds[i], w.Writes[i], none).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private Task<CellResult> HttpAsync(Cell cell, HttpLoad http, CpuClock cpu, Workload w) =>
        cell.Upsert
            ? HttpAsync(cell, http, cpu, w, options.WarmupSeconds, options.UpsertSeconds)
            : HttpAsync(cell, http, cpu, w, options.SearchWarmupSeconds, options.SearchSeconds);

    private static async Task<CellResult> HttpAsync(Cell cell, HttpLoad http, CpuClock cpu, Workload w, double warmupSeconds, double seconds) =>
        cell.Upsert
            ? await ClosedLoop.TasksAsync(cell.Clients, warmupSeconds, seconds, cpu, async (client, sequence) =>
                _ = await http.SendAsync(HttpMethod.Put, UpsertPath, w.UpsertBodies[Workload.Pick(client, sequence, w.UpsertBodies.Length)]).ConfigureAwait(false)).ConfigureAwait(false)
            : await ClosedLoop.TasksAsync(cell.Clients, warmupSeconds, seconds, cpu, async (client, sequence) =>
                // QueryHitsAsync has checked the status (2xx) and that the answer holds the k hits asked for.
                _ = await http.QueryHitsAsync(SearchPath, w.QueryBodies[Workload.Pick(client, sequence, w.QueryBodies.Length)]).ConfigureAwait(false)).ConfigureAwait(false);
}

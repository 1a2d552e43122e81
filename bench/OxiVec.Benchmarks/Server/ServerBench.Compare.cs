using System.Globalization;
using OxiVec.Storage;
using static OxiVec.Benchmarks.Scale.ScaleCommon;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Server;

/// <summary>
/// <c>server --compare VARIANT... [--runs R] [--concurrency C] [--quick] [--allow-dirty]</c>: an A/B of server settings
/// in one run, printed (no report). Each VARIANT is <c>name:KEY=VALUE,KEY=VALUE</c> (or <c>name:</c>), the environment
/// of one server child process (runtime settings such as <c>DOTNET_ThreadPool_UnfairSemaphoreSpinLimit</c>, or the
/// host's <see cref="ServerHost"/> switches), where the key <c>SERVER_DLL</c> (<see cref="ServerProcess.ServerAssemblyKey"/>)
/// runs the server from another build's OxiVec.Benchmarks.dll (a copy of the build before a change, say), and the key
/// <c>CLIENT_MIN_THREADS</c> (<see cref="ClientMinThreadsKey"/>) sets the driver's thread-pool minimum for that variant's windows; every
/// server opens its own copy of the same data. Each round measures the
/// embedded search, then every variant's HTTP search (C clients, 1 by default), in an order rotated each round, and
/// prints QPS, the ratio to that round's embedded QPS, the CPU time per search of the server and the client and the bytes
/// each allocated per search (the server's from its /metrics; "?" for a build that does not export them); the summary
/// gives medians with min–max.
/// </summary>
internal sealed partial class ServerBench
{
    /// <summary>The flag that selects the comparison as the first argument after the verb.</summary>
    public const string CompareFlag = "--compare";

    private const double CompareSeconds = 3;

    /// <summary>
    /// A variant key of the driver, not the server (the child ignores it): the benchmark process's thread-pool minimum
    /// of worker threads while that variant's windows run (by default one per client and two, as for the verb's upserts).
    /// </summary>
    public const string ClientMinThreadsKey = "CLIENT_MIN_THREADS";

    private static int RunCompare(string[] args)
    {
        var variants = new List<(string Name, Dictionary<string, string> Environment)>();
        var rest = new List<string>();
        foreach (string a in args)
        {
            if (a.StartsWith("--", StringComparison.Ordinal) || (rest.Count > 0 && rest[^1] is "--runs" or "--concurrency" or "--out"))
            {
                rest.Add(a);
                continue;
            }

            string[] parts = a.Split(':', 2);
            if (parts.Length != 2 || parts[0].Length == 0)
            {
                throw new ArgumentException($"a variant is name:KEY=VALUE,KEY=VALUE (or name:); got '{a}'");
            }

            variants.Add((parts[0], parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2))
                .ToDictionary(kv => kv[0], kv => kv.Length == 2 ? kv[1] : throw new ArgumentException($"'{string.Join('=', kv)}' in variant {parts[0]} is not KEY=VALUE"))));
        }

        if (variants.Count == 0)
        {
            throw new ArgumentException($"server {CompareFlag} needs at least one variant name:KEY=VALUE,...");
        }

        bool clientsGiven = rest.Contains("--concurrency");
        ServerBenchOptions options = ServerBenchOptions.Parse([.. rest]);
        return new ServerBench(options).CompareAsync(variants, clientsGiven ? options.Concurrency : 1).GetAwaiter().GetResult();
    }

    private async Task<int> CompareAsync(List<(string Name, Dictionary<string, string> Environment)> variants, int clients)
    {
        string work = NewWorkDir(Verb + "-compare");
        var servers = new List<ServerProcess>();
        var loads = new List<HttpLoad>();
        try
        {
            ThreadPool.GetMinThreads(out int workers, out int io);
            int raised = Math.Max(workers, (2 * clients) + Environment.ProcessorCount);
            _ = ThreadPool.SetMinThreads(raised, io);
            int MinThreads(int variant) => variants[variant].Environment.TryGetValue(ClientMinThreadsKey, out string? n) ? int.Parse(n, CultureInfo.InvariantCulture) : raised;
            float[][] queries = Uniform(options.Queries, Dimension, 384_002);
            string seed = Path.Combine(work, "seed");
            Load(seed, Uniform(options.Points, Dimension, 384_001));
            string embeddedDir = Path.Combine(work, "embedded");
            Copy(seed, embeddedDir);
            using VectorDatabase embedded = Open(embeddedDir, 1000);
            for (int i = 0; i < variants.Count; i++)
            {
                string dir = Path.Combine(work, "server-" + i.ToString(CultureInfo.InvariantCulture));
                Copy(seed, dir);
                servers.Add(ServerProcess.Start(dir, 1000, variants[i].Environment));
                loads.Add(new HttpLoad(servers[i].Url, clients));
                Say(Verb, $"variant {variants[i].Name}: pid {servers[i].Id}, {string.Join(' ', variants[i].Environment.Select(kv => $"{kv.Key}={kv.Value}"))}");
            }

            var workload = new Workload(queries, queries, [.. queries.Select(q => QdrantBodies.Query(q))], [], []);
            var cell = new Cell(false, clients, 1000);
            Func<CellResult> embeddedCell = () => ClosedLoop.Threads(clients, options.WarmupSeconds, options.Common.Quick ? options.SearchSeconds : CompareSeconds, new CpuClock(null), (client, sequence) =>
                _ = embedded.Search(SearchCollection, workload.Queries[Workload.Pick(client, sequence, workload.Queries.Length)], QdrantBodies.Limit));
            for (int i = 0; i < variants.Count; i++)
            {
                await CheckSameAnswersAsync(embedded, loads[i], workload, searchesOnly: true).ConfigureAwait(false);
                _ = await HttpAsync(cell, loads[i], new CpuClock(null), workload, 0, options.ServerWarmupSeconds).ConfigureAwait(false);
            }

            var results = variants.ToDictionary(v => v.Name, _ => new List<(double Ratio, CellResult Http)>());
            var embeddedResults = new List<CellResult>();
            for (int r = 0; r < options.Runs; r++)
            {
                _ = ThreadPool.SetMinThreads(raised, io);
                CellResult e = embeddedCell();
                embeddedResults.Add(e);
                Say(Verb, $"round {r + 1}/{options.Runs}: embedded {e.PerSecond:N0}/s, CPU {e.SelfCpuUs:N0} µs/search");
                for (int j = 0; j < variants.Count; j++)
                {
                    int i = (j + r) % variants.Count;
                    _ = ThreadPool.SetMinThreads(MinThreads(i), io);
                    CellResult h = await HttpAsync(cell, loads[i], new CpuClock(servers[i]), workload, options.WarmupSeconds, options.Common.Quick ? options.SearchSeconds : CompareSeconds).ConfigureAwait(false);
                    results[variants[i].Name].Add((h.PerSecond / e.PerSecond, h));
                    Say(Verb, $"  {variants[i].Name,-12} {h.PerSecond,7:N0}/s {h.PerSecond / e.PerSecond,7:P1}  p50 {h.P50Ms:0.000} ms  CPU server {h.ServerCpuUs,5:N0} + client {h.SelfCpuUs,5:N0} µs/search  " +
                        $"allocated server {Bytes(h.ServerBytes)} + client {Bytes(h.SelfBytes)} B/search");
                }
            }

            Say(Verb, $"summary: search, {clients} client(s), {options.Runs} rounds; embedded {Median(embeddedResults.Select(e => e.PerSecond)):N0}/s, CPU {Median(embeddedResults.Select(e => e.SelfCpuUs)):N0} µs/search (medians)");
            foreach ((string name, _) in variants)
            {
                List<(double Ratio, CellResult Http)> l = results[name];
                Say(Verb, $"  {name,-12} {Median(l.Select(x => x.Http.PerSecond)),7:N0}/s  HTTP/embedded {Median(l.Select(x => x.Ratio)):P1} ({l.Min(x => x.Ratio):P1}–{l.Max(x => x.Ratio):P1})  " +
                    $"CPU server {Median(l.Select(x => x.Http.ServerCpuUs)):N0} ({l.Min(x => x.Http.ServerCpuUs):N0}–{l.Max(x => x.Http.ServerCpuUs):N0}) + client {Median(l.Select(x => x.Http.SelfCpuUs)):N0} ({l.Min(x => x.Http.SelfCpuUs):N0}–{l.Max(x => x.Http.SelfCpuUs):N0}) µs/search; " +
                    $"allocated server {Bytes(Median(l.Select(x => x.Http.ServerBytes)))} + client {Bytes(Median(l.Select(x => x.Http.SelfBytes)))} B/search (medians)");
            }

            return 0;
        }
        finally
        {
            loads.ForEach(l => l.Dispose());
            servers.ForEach(s => s.Dispose());
            TryDelete(work);
        }
    }

    private static string Bytes(double bytes) => double.IsNaN(bytes) ? "?" : bytes.ToString("N0", CultureInfo.InvariantCulture);

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

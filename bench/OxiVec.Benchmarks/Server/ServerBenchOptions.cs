using System.Globalization;
using OxiVec.Benchmarks.Store;

namespace OxiVec.Benchmarks.Server;

/// <summary>
/// The <c>server</c> verb's command line: the shared <c>--quick</c>, <c>--out DIR</c>, <c>--allow-dirty</c>, plus
/// <c>--runs R</c> (rounds; default 10, 1 with <c>--quick</c>: the goal's interval resamples rounds, and 3 or 5
/// rounds on a shared machine gave intervals 20 points wide), <c>--concurrency C</c> (the high-concurrency cells;
/// default 8 or twice the logical cores, whichever is larger) and <c>--searches-only</c> (the search cells and wrk, no
/// upsert cells: the goal's rows, for iterating on the search path).
/// </summary>
/// <param name="Common">The options every verb has.</param>
/// <param name="Runs">Rounds; every figure is a median over them, every ratio a paired interval.</param>
/// <param name="Concurrency">Concurrent clients of the high-concurrency cells.</param>
/// <param name="SearchesOnly">Measure the search cells only (the report says the upserts were not measured).</param>
internal sealed record ServerBenchOptions(VerbOptions Common, int Runs, int Concurrency, bool SearchesOnly = false)
{
    public const string Usage = "server [--quick] [--runs R] [--concurrency C] [--searches-only] [--out DIR] [--allow-dirty]; server --compare name:KEY=VALUE,... ... [--quick] [--runs R] [--concurrency C] [--allow-dirty]";

    /// <summary>Sizes of one configuration (quick or full).</summary>
    public int Points => Common.Quick ? 1_000 : 20_000;

    /// <summary>Distinct query (and upsert) request bodies cycled through by the clients.</summary>
    public int Queries => Common.Quick ? 100 : 1_000;

    /// <summary>Measured seconds of one search window (each side of a pair).</summary>
    public double SearchSeconds => Common.Quick ? 0.3 : 2;

    /// <summary>
    /// Embedded/HTTP pairs of every search cell per round, back to back: the goal's ratio is an interval over all of
    /// them (rounds × pairs), so its verdict rests on more paired samples than the upserts' for about the same time
    /// (3 pairs of 2 s windows instead of 1 pair of 5 s).
    /// </summary>
    public int SearchPairs => Common.Quick ? 1 : 3;

    /// <summary>Unmeasured warm-up seconds before every search window (connections and caches; the code is warm by then).</summary>
    public double SearchWarmupSeconds => Common.Quick ? 0.1 : 0.5;

    /// <summary>Measured seconds of one upsert cell.</summary>
    public double UpsertSeconds => Common.Quick ? 0.3 : 3;

    /// <summary>Unmeasured warm-up seconds before every upsert window (JIT, connections, caches).</summary>
    public double WarmupSeconds => Common.Quick ? 0.1 : 1;

    /// <summary>Seconds of searching at each client count, on both sides, before the first round (the server's JIT settling).</summary>
    public double ServerWarmupSeconds => Common.Quick ? 0.5 : 5;

    /// <summary>Seconds of the wrk cell (wrk counts whole seconds).</summary>
    public int WrkSeconds => Common.Quick ? 1 : 5;

    public static ServerBenchOptions Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int? runs = null, concurrency = null;
        bool searchesOnly = false;
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runs":
                    runs = PositiveInt(args, ++i, "--runs");
                    break;
                case "--concurrency":
                    concurrency = PositiveInt(args, ++i, "--concurrency");
                    break;
                case "--searches-only":
                    searchesOnly = true;
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        VerbOptions common;
        try
        {
            common = VerbOptions.Parse("server", [.. rest]);
        }
        catch (ArgumentException ex) when (ex.Message.StartsWith("unknown argument", StringComparison.Ordinal))
        {
            throw new ArgumentException($"{ex.Message.Split(" (usage:")[0]} (usage: {Usage})", ex);
        }

        common = common with { CommandLine = "dotnet run -c Release --project bench/OxiVec.Benchmarks -- " + string.Join(' ', ["server", .. args]) };
        return new ServerBenchOptions(common, runs ?? (common.Quick ? 1 : 10), concurrency ?? Math.Max(8, 2 * Environment.ProcessorCount), searchesOnly);
    }

    private static int PositiveInt(string[] args, int i, string name) =>
        i < args.Length && int.TryParse(args[i], NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new ArgumentException($"{name} needs a positive integer (usage: {Usage})");
}

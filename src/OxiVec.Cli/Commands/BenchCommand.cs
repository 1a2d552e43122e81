using System.CommandLine;
using OxiVec.Benchmarks;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec bench [wal|store|recovery|profiles|micro] [--quick] [--out DIR] ...</c>: the benchmark harness of
/// bench/OxiVec.Benchmarks, run in this process. Its arguments are handed over untouched (see
/// <see cref="OxiVecCli.RunAsync"/>), so its own <c>--help</c> lists them.
/// </summary>
internal static class BenchCommand
{
    public const string Name = "bench";

    public static Command Create()
    {
        var rest = new Argument<string[]>("arguments")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "Passed to the harness: a verb (none = the WAL macro benchmark with its peers; store; recovery; profiles; micro) and its options (--quick, --out DIR, --dir DIR, ...).",
        };
        var command = new Command(
            Name,
            "Run the benchmarks: the disk's limit, WAL throughput and latency against FasterLog and SQLite, the guide's profile table, recovery, and search against USearch; writes markdown reports and charts (default: bench/results).")
        {
            rest,
        };
        command.SetAction(parse => Run(parse.GetValue(rest) ?? []));
        return command;
    }

    /// <summary>Runs the harness with <paramref name="arguments"/> as given on the command line.</summary>
    public static int Run(string[] arguments) => BenchmarkEntry.Run(arguments);
}

using OxiVec.Benchmarks.Store;

namespace OxiVec.Benchmarks.Trust;

/// <summary>
/// The <c>all</c> verb: every verb of <see cref="Program.Verbs"/> in one invocation on one code state, then
/// <c>readme</c> when the reports went to the repository's bench/results (the files the README links).
/// </summary>
internal static class AllVerb
{
    public const string Usage = "all [--quick] [--out DIR] [--allow-dirty]";

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        bool allowDirty = args.Contains("--allow-dirty");
        string? outDir = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--out" && i + 1 < args.Length)
            {
                outDir = args[++i];
            }
            else if (args[i] is not ("--quick" or "--allow-dirty"))
            {
                throw new ArgumentException($"unknown argument '{args[i]}' (usage: {Usage})");
            }
        }

        // Refuse before measuring anything: every report of the run is to name one code state.
        CodeState code = BenchCommon.DetectCodeState();
        code.EnsureMeasurable(allowDirty);
        string? root = BenchCommon.FindRepositoryRoot();
        string repositoryResults = root is null ? "" : Path.GetFullPath(Path.Combine(root, "bench", "results"));
        string output = Path.GetFullPath(outDir ?? (quick || root is null
            ? Path.Combine(Path.GetTempPath(), "oxivec-all-results-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture))
            : repositoryResults));
        Directory.CreateDirectory(output);

        string[] shared = ["--out", output, .. quick ? ["--quick"] : Array.Empty<string>(), .. allowDirty ? ["--allow-dirty"] : Array.Empty<string>()];
        foreach (BenchVerb verb in Program.Verbs)
        {
            Console.Error.WriteLine($"oxivec-bench all: {verb.Name} (commit {code.ShortCommit}, {code.Tree} tree)");
            int exit = verb.Run(shared);
            if (exit != 0)
            {
                Console.Error.WriteLine($"oxivec-bench all: {verb.Name} failed (exit code {exit}); the remaining verbs and the README were not run");
                return exit;
            }
        }

        if (output == repositoryResults)
        {
            return ReadmeVerb.Run(["--from", output]);
        }

        Console.Error.WriteLine($"oxivec-bench all: reports in {output}; README.md not rewritten (it quotes only the reports in bench/results)");
        return 0;
    }
}

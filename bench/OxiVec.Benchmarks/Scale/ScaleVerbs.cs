namespace OxiVec.Benchmarks.Scale;

/// <summary>
/// The verbs measuring the scale goals: <c>stall</c> (checkpoints never stall writes), <c>scale</c> (a million
/// vectors and Fashion-MNIST against USearch), <c>concurrency</c> (reads and writes together, parallel build),
/// <c>coldrecovery</c> (recovery with a cold page cache). Each takes <c>--quick</c> and <c>--out DIR</c>.
/// </summary>
internal static class ScaleVerbs
{
    public static readonly string[] Names = ["stall", "scale", "concurrency", "coldrecovery"];

    /// <summary>Runs the verb in <c>args[0]</c> when it is one of <see cref="Names"/>; false otherwise.</summary>
    public static bool TryRun(string[] args, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0 || !Names.Contains(args[0]))
        {
            return false;
        }

        Store.VerbOptions o = Store.VerbOptions.Parse(args[0], args[1..]);
        exitCode = args[0] switch
        {
            "stall" => new StallBench(o).Run(),
            "scale" => new ScaleBench(o).Run(),
            "concurrency" => new ConcurrencyBench(o).Run(),
            _ => new ColdRecoveryBench(o).Run(),
        };
        return true;
    }
}

namespace OxiVec.Benchmarks;

/// <summary>
/// The benchmarks as a library: <c>oxivec bench [verb] [options]</c> runs exactly what
/// <c>dotnet run -c Release --project bench/OxiVec.Benchmarks -- [verb] [options]</c> runs.
/// </summary>
public static class BenchmarkEntry
{
    /// <summary>Runs the verb named by <paramref name="args"/> (none: the WAL macro benchmark) and returns the exit code.</summary>
    public static int Run(string[] args) => Program.Main(args);
}

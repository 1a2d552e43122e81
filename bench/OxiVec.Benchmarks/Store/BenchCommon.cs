using System.Diagnostics;
using System.Globalization;
using System.Text;
using OxiVec.Benchmarks.Macro;
using OxiVec.Benchmarks.Trust;
using ScottPlot;

namespace OxiVec.Benchmarks.Store;

/// <summary>
/// Command line shared by the verbs (<c>store</c>, <c>recovery</c>, <c>profiles</c> and any verb registered in
/// <see cref="Program.Verbs"/>): <c>--quick</c>, <c>--out DIR</c> and <c>--allow-dirty</c>; parsing also detects the code
/// state (<see cref="CodeState"/>) and refuses a dirty tree unless <c>--allow-dirty</c> is given.
/// </summary>
/// <param name="Quick">Smoke-test sizes.</param>
/// <param name="OutDir">Where the report and its charts go.</param>
/// <param name="CommandLine">The command that reproduces the run.</param>
/// <param name="Code">The commit and tree state measured.</param>
internal sealed record VerbOptions(bool Quick, string OutDir, string CommandLine, CodeState Code)
{
    /// <summary>The verb's name as typed (the report stamp's <c>verb</c>).</summary>
    public string Verb { get; init; } = "";

    /// <summary>
    /// The <c>scale</c> verb's synthetic data set size (<c>--synthetic N</c>; null: the verb's default of 1,000,000,
    /// or 10,000 with <c>--quick</c>): a reduced full run where the whole million does not fit the time.
    /// </summary>
    public int? SyntheticCount { get; init; }

    /// <summary>The <c>failover</c> verb's lease TTL in seconds (<c>--lease-ttl N</c>; null: the verb's default of 2).</summary>
    public int? LeaseTtlSeconds { get; init; }

    /// <summary>
    /// The <c>stall</c> verb's store sizes and rounds (<c>--flat N</c>, <c>--hnsw N</c>, <c>--rounds N</c>; null: the
    /// mode's defaults): smaller stores while iterating. Any of them skips the checkpoint above 2 GiB.
    /// </summary>
    public (int? Flat, int? Hnsw, int? Rounds) StallSizes { get; init; }

    /// <summary>The stamp comment and code-state sentence every report starts with (after its title).</summary>
    public string Stamp => ReportStamp.Render(Verb, Code, Quick);

    public static VerbOptions Parse(string verb, string[] args)
    {
        bool quick = false, allowDirty = false;
        string? outDir = null;
        int? synthetic = null, leaseTtl = null, stallFlat = null, stallHnsw = null, stallRounds = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--allow-dirty":
                    allowDirty = true;
                    break;
                case "--out" when i + 1 < args.Length:
                    outDir = args[++i];
                    break;
                case "--synthetic" when verb == "scale" && i + 1 < args.Length:
                    synthetic = int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1_000
                        ? n
                        : throw new ArgumentException($"--synthetic '{args[i]}': expected a whole number of vectors, at least 1000");
                    break;
                case "--lease-ttl" when verb == "failover" && i + 1 < args.Length:
                    leaseTtl = int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out int ttl) && ttl is >= 1 and <= 60
                        ? ttl
                        : throw new ArgumentException($"--lease-ttl '{args[i]}': expected whole seconds from 1 to 60");
                    break;
                case "--flat" when verb == "stall" && i + 1 < args.Length:
                    stallFlat = PositiveCount(args[++i], "--flat", 1_000);
                    break;
                case "--hnsw" when verb == "stall" && i + 1 < args.Length:
                    stallHnsw = PositiveCount(args[++i], "--hnsw", 1_000);
                    break;
                case "--rounds" when verb == "stall" && i + 1 < args.Length:
                    stallRounds = PositiveCount(args[++i], "--rounds", 1);
                    break;
                default:
                    throw new ArgumentException(
                        $"unknown argument '{args[i]}' (usage: {verb} [--quick] [--out DIR] [--allow-dirty]{(verb == "scale" ? " [--synthetic N]" : verb == "failover" ? " [--lease-ttl SECONDS]" : verb == "stall" ? " [--flat N] [--hnsw N] [--rounds N]" : "")})");
            }
        }

        CodeState code = BenchCommon.DetectCodeState();
        code.EnsureMeasurable(allowDirty);
        outDir ??= quick
            ? Path.Combine(Path.GetTempPath(), $"oxivec-{verb}-results-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))
            : Path.Combine(
                BenchCommon.FindRepositoryRoot()
                ?? throw new DirectoryNotFoundException("cannot find the repository root (a directory holding OxiVec.slnx); pass --out DIR"),
                "bench", "results");
        string command = "dotnet run -c Release --project bench/OxiVec.Benchmarks -- " + string.Join(' ', new[] { verb }.Concat(args));
        return new VerbOptions(quick, Path.GetFullPath(outDir), command, code) { Verb = verb, SyntheticCount = synthetic, LeaseTtlSeconds = leaseTtl, StallSizes = (stallFlat, stallHnsw, stallRounds) };
    }

    private static int PositiveCount(string text, string option, int min) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min
            ? n
            : throw new ArgumentException($"{option} '{text}': expected a whole number, at least {min}");
}

/// <summary>Helpers shared by the store and recovery benchmarks.</summary>
internal static class BenchCommon
{
    /// <summary>
    /// How long the .NET thread pool's idle workers spin before they sleep, as configured for this process (environment
    /// first, then runtimeconfig): on a 2-core machine the spinning takes CPU from the work, so reports say which.
    /// </summary>
    public static string ThreadPoolSpinLimit() =>
        Environment.GetEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit") is { Length: > 0 } env
            ? $"up to {env} (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit)"
            : AppContext.GetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit") is { } configured
                ? $"up to {configured} (System.Threading.ThreadPool.UnfairSemaphoreSpinLimit)"
                : "as long as the runtime's default UnfairSemaphoreSpinLimit says";

    /// <summary>The repository root above the current directory, else above the program's directory; null if neither.</summary>
    public static string? FindRepositoryRoot() =>
        FindRepositoryRoot(Environment.CurrentDirectory) ?? FindRepositoryRoot(AppContext.BaseDirectory);

    /// <summary>The code state of the repository this run measures (see <see cref="CodeState.Detect"/>).</summary>
    public static CodeState DetectCodeState() => CodeState.Detect(FindRepositoryRoot());

    public static string? FindRepositoryRoot(string start)
    {
        for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "OxiVec.slnx")))
            {
                return d.FullName;
            }
        }

        return null;
    }

    public static string NewWorkDir(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"oxivec-{name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }

    /// <summary>Uniform random vectors in [-1, 1).</summary>
    public static float[][] Uniform(int count, int dim, int seed)
    {
        var rng = new Random(seed);
        var result = new float[count][];
        for (int i = 0; i < count; i++)
        {
            var v = new float[dim];
            for (int j = 0; j < dim; j++)
            {
                v[j] = (float)((rng.NextDouble() * 2) - 1);
            }

            result[i] = v;
        }

        return result;
    }

    /// <summary>Gaussian clusters: centres ~ N(0, 1) per coordinate, points = centre + N(0, sigma²).</summary>
    public static (float[][] Points, float[][] Queries) Clustered(int count, int queries, int dim, int clusters, double sigma, int seed)
    {
        var rng = new Random(seed);
        var centres = new double[clusters][];
        for (int c = 0; c < clusters; c++)
        {
            centres[c] = new double[dim];
            for (int j = 0; j < dim; j++)
            {
                centres[c][j] = Gaussian(rng);
            }
        }

        float[] Point()
        {
            double[] centre = centres[rng.Next(clusters)];
            var v = new float[dim];
            for (int j = 0; j < dim; j++)
            {
                v[j] = (float)(centre[j] + (sigma * Gaussian(rng)));
            }

            return v;
        }

        return Draw(Point, count, queries);
    }

    /// <summary>
    /// Embedding-like vectors: clusters in a <paramref name="rank"/>-dimensional latent space (centres ~ N(0, 1),
    /// points = centre + N(0, sigma²)), mapped to <paramref name="dim"/> dimensions by one random linear map, plus
    /// isotropic noise N(0, noise²) per component. Real embeddings have an intrinsic dimension far below their
    /// length, which isotropic clusters in the full dimension would not reproduce.
    /// </summary>
    public static (float[][] Points, float[][] Queries) LowRankClustered(
        int count, int queries, int dim, int rank, int clusters, double sigma, double noise, int seed)
    {
        var rng = new Random(seed);
        var map = new float[rank][];
        for (int r = 0; r < rank; r++)
        {
            map[r] = new float[dim];
            for (int j = 0; j < dim; j++)
            {
                map[r][j] = (float)(Gaussian(rng) / Math.Sqrt(rank));
            }
        }

        var centres = new double[clusters][];
        for (int c = 0; c < clusters; c++)
        {
            centres[c] = new double[rank];
            for (int r = 0; r < rank; r++)
            {
                centres[c][r] = Gaussian(rng);
            }
        }

        float[] Point()
        {
            double[] centre = centres[rng.Next(clusters)];
            var v = new float[dim];
            for (int j = 0; j < dim; j++)
            {
                v[j] = (float)(noise * Gaussian(rng));
            }

            for (int r = 0; r < rank; r++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(map[r], (float)(centre[r] + (sigma * Gaussian(rng))), v, v);
            }

            return v;
        }

        return Draw(Point, count, queries);
    }

    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary><paramref name="count"/> points, then <paramref name="queries"/> queries, from one generator (so the same seed gives the same sets).</summary>
    private static (float[][] Points, float[][] Queries) Draw(Func<float[]> point, int count, int queries)
    {
        float[][] points = [.. Enumerable.Range(0, count).Select(_ => point())];
        float[][] qs = [.. Enumerable.Range(0, queries).Select(_ => point())];
        return (points, qs);
    }

    public static double Seconds(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;

    public static string F(double value, int decimals = 0) => value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static void Line(StringBuilder sb, string text = "") => sb.Append(text).Append('\n');

    public static void MachineSection(StringBuilder sb, MachineInfo m, VerbOptions o)
    {
        Line(sb, "## Machine");
        Line(sb);
        Line(sb, "| | |");
        Line(sb, "|---|---|");
        Line(sb, $"| Date (UTC) | {m.Date:yyyy-MM-dd HH:mm} |");
        Line(sb, $"| CPU | {m.CpuModel}, {m.Cores} logical cores |");
        Line(sb, $"| Memory | {m.Memory} |");
        Line(sb, $"| Work directory | `{m.WorkDir}` on {m.FileSystem} ({m.Device}, mounted at {m.MountPoint}, {m.DiskSize}) |");
        Line(sb, $"| Device queue | {m.DeviceQueue} |");
        Line(sb, $"| Runtime | {m.Runtime}; GC {m.Gc} |");
        Line(sb, $"| OS | {m.Os}; {m.Kernel} |");
        Line(sb, $"| Code | {(o.Code.Commit is null ? "commit unknown" : $"commit `{o.Code.Commit}`")}, {o.Code.Tree} tree |");
        Line(sb, $"| Mode | {(o.Quick ? "quick (smoke-test sizes; numbers are indicative only)" : "full")} |");
        Line(sb);
        Line(sb, "Command:");
        Line(sb);
        Line(sb, "```");
        Line(sb, o.CommandLine);
        Line(sb, "```");
        Line(sb);
    }

    public static Plot NewPlot() => Macro.Charts.NewPlot();
}

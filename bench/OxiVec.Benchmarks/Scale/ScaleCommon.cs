using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using OxiVec.Benchmarks.Macro;

namespace OxiVec.Benchmarks.Scale;

/// <summary>Helpers shared by the scale verbs: percentiles, ids, process memory, formatting of spreads.</summary>
internal static class ScaleCommon
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A record id as the verbs write it: a prefix and a number.</summary>
    public static string Id(string prefix, long i) => prefix + i.ToString(Inv);

    /// <summary>Nearest-rank percentile of an ascending array (NaN when empty).</summary>
    public static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    /// <summary>"median (min–max)" with <paramref name="format"/> for each value.</summary>
    public static string S(Spread s, string format = "0.00") =>
        double.IsNaN(s.Median) ? "n/a"
        : s.Min == s.Max ? s.Median.ToString(format, Inv)
        : $"{s.Median.ToString(format, Inv)} ({s.Min.ToString(format, Inv)}–{s.Max.ToString(format, Inv)})";

    public static string N(double value, string format = "N0") => value.ToString(format, Inv);

    /// <summary>
    /// Resident anonymous memory of this process in bytes (RssAnon in /proc/self/status: heap pages actually in RAM,
    /// managed and native, without mapped files); after a full, compacting, decommitting garbage collection.
    /// </summary>
    public static long ResidentAnonBytes()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
            {
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], Inv) * 1024;
            }
        }

        return Environment.WorkingSet;
    }

    /// <summary>
    /// The CPU time this process has used so far (every thread, GC included). A build's CPU time per insert does
    /// not depend on how much of a shared machine the run got, unlike its wall-clock rate.
    /// </summary>
    public static TimeSpan ProcessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>Total size of the files under <paramref name="dir"/>.</summary>
    public static long DirectoryBytes(string dir) =>
        Directory.Exists(dir) ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;

    /// <summary>Runs <paramref name="body"/> on <paramref name="threads"/> dedicated threads released together; returns the wall seconds.</summary>
    public static double RunThreads(int threads, Action<int> body)
    {
        using var ready = new CountdownEvent(threads);
        using var start = new ManualResetEventSlim();
        var workers = new Thread[threads];
        for (int w = 0; w < threads; w++)
        {
            int index = w;
            workers[w] = new Thread(() =>
            {
                ready.Signal();
                start.Wait();
                body(index);
            });
            workers[w].Start();
        }

        ready.Wait();
        long t0 = Stopwatch.GetTimestamp();
        start.Set();
        foreach (Thread w in workers)
        {
            w.Join();
        }

        return Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    /// <summary>The exact top-<paramref name="k"/> ids of every query (squared L2, brute force, all cores).</summary>
    public static int[][] GroundTruth(float[][] points, float[][] queries, int k)
    {
        var truth = new int[queries.Length][];
        Parallel.For(0, queries.Length, q =>
        {
            Span<float> best = stackalloc float[k];
            Span<int> ids = stackalloc int[k];
            best.Fill(float.PositiveInfinity);
            ids.Fill(-1);
            for (int i = 0; i < points.Length; i++)
            {
                float d = System.Numerics.Tensors.TensorPrimitives.Distance(queries[q], points[i]);
                if (d >= best[k - 1])
                {
                    continue;
                }

                int j = k - 1;
                while (j > 0 && best[j - 1] > d)
                {
                    best[j] = best[j - 1];
                    ids[j] = ids[j - 1];
                    j--;
                }

                best[j] = d;
                ids[j] = i;
            }

            truth[q] = ids.ToArray();
        });
        return truth;
    }

    /// <summary>The code state the report measured (commit, clean or dirty tree) and, in quick mode, a warning.</summary>
    public static void QuickBanner(System.Text.StringBuilder sb, Store.VerbOptions options)
    {
        sb.Append(options.Stamp);
        if (options.Quick)
        {
            Store.BenchCommon.Line(sb, "> **Quick mode** (`--quick`): smoke-test sizes, single rounds; the figures only show that the verb works and are not the goals' measurements. Run without `--quick` for those.");
            Store.BenchCommon.Line(sb);
        }
    }

    /// <summary>Writes a line to the console prefixed by the verb.</summary>
    public static void Say(string verb, string text) =>
        Console.WriteLine($"{verb}: [{DateTime.UtcNow:HH:mm:ss}] {text}");
}

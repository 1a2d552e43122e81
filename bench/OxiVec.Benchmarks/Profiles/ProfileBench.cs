using System.Diagnostics;
using OxiVec.Benchmarks.Macro;
using OxiVec.Storage;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Profiles;

/// <summary>
/// The <c>profiles</c> verb: the guide's Quick Reference table measured. The same vectors are ingested one record
/// per <c>VectorDatabase.Insert</c> with each <see cref="Wal.WalConfig"/> preset, with 1 and with 32 writers, and
/// through the WAL-off baseline in the same run; the report gives inserts/s and the overhead against the baseline
/// next to the guide's claim and the issue's targets. Writes <c>profiles.md</c> and <c>profiles-overhead.png</c>.
/// </summary>
internal sealed class ProfileBench(ProfileOptions options)
{
    /// <summary>Writer counts of every profile and of the baseline.</summary>
    public static IReadOnlyList<int> WriterCounts { get; } = [1, 32];

    /// <summary>Sizes and budgets of one mode (full or quick).</summary>
    /// <param name="WarmupPasses">
    /// Passes of every cell over a short prefix before measuring. Tiered compilation recompiles hot methods in
    /// the background only after a quiet spell, and a single pass left the first measured round of the baseline
    /// at a third of its later speed.
    /// </param>
    internal sealed record Plan(
        int FlatCount, int FlatDimension, double FlatBudgetSeconds,
        int HnswCount, int HnswDimension, double HnswBudgetSeconds,
        int FlatWarmupCount, int HnswWarmupCount, double WarmupBudgetSeconds, int WarmupPasses)
    {
        /// <summary>
        /// Full mode. Flat: the issue's 200,000 x 128; with SyncIntervalMs = 0 every commit waits for an fsync, and
        /// the profile checkpoints every 1,000 inserts, so those cells are time-boxed at 6 s. HNSW: 768 dims,
        /// 10,000 vectors, so that the slowest cell (MaximumDurability, 1 writer, about 15 s) finishes inside its
        /// budget and the whole run stays near 15 minutes on 2 cores.
        /// </summary>
        public static Plan Full { get; } = new(200_000, 128, 6, 10_000, 768, 30, 5_000, 500, 0.5, 3);

        /// <summary>Smoke-test sizes (about a minute in all).</summary>
        public static Plan Quick { get; } = new(50_000, 128, 1.5, 2_000, 768, 4, 2_000, 300, 0.3, 2);
    }

    public int Run()
    {
        Plan plan = options.Quick ? Plan.Quick : Plan.Full;
        Directory.CreateDirectory(options.OutDir);
        Directory.CreateDirectory(options.WorkParent);
        string work = Path.Combine(options.WorkParent, $"oxivec-profiles-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        long runStart = Stopwatch.GetTimestamp();
        SystemLoad load = SystemLoad.Snapshot();
        try
        {
            MachineInfo machine = MachineInfo.Collect(work);
            Progress($"generating datasets ({plan.FlatCount:N0} x {plan.FlatDimension}, {plan.HnswCount:N0} x {plan.HnswDimension})");
            ProfileDataset[] datasets =
            [
                new("flat", IndexKind.Flat, Clustered(plan.FlatCount, 0, plan.FlatDimension, 50, 0.35, 7).Points, plan.FlatBudgetSeconds),
                new("hnsw", IndexKind.Hnsw, Clustered(plan.HnswCount, 0, plan.HnswDimension, 50, 0.35, 8).Points, plan.HnswBudgetSeconds),
            ];

            var runner = new ProfileCellRunner(work);
            Profile[] profiles = [Profile.Baseline, .. Profile.GuideRows, Profile.MaximumDurabilityWithoutCheckpoints, Profile.Control];

            // Warm-up (JIT tiering, first-file costs): short passes of every cell on a prefix, discarded, with a
            // pause after each so the background tier-1 compilation catches up.
            for (int pass = 1; pass <= plan.WarmupPasses; pass++)
            {
                Progress($"warm-up pass {pass}/{plan.WarmupPasses}");
                foreach (ProfileDataset data in datasets)
                {
                    int prefix = Math.Min(data.Index == IndexKind.Flat ? plan.FlatWarmupCount : plan.HnswWarmupCount, data.Count);
                    foreach (Profile profile in profiles)
                    {
                        foreach (int writers in WriterCounts)
                        {
                            _ = runner.Run(data, profile, writers, prefix, plan.WarmupBudgetSeconds);
                        }
                    }
                }

                Thread.Sleep(500);
            }

            // Paired rounds: every round runs each profile cell once, each right after (or, in alternate rounds,
            // right before) a baseline run of the same dataset and writer count, so that the pair shares the state of
            // the shared machine and the verdict can bootstrap over per-round ratios. The cells' order is shuffled per
            // round (fixed seeds), so no cell always follows the same one (whose writeback, garbage or background
            // checkpoint may spill over).
            var results = new Dictionary<CellKey, List<CellRun>>();
            var pairs = new Dictionary<CellKey, List<PairedRun>>();
            (Profile Profile, int Writers)[] cells = [.. profiles.Where(p => !p.IsBaseline).SelectMany(p => WriterCounts.Select(w => (p, w)))];
            foreach (ProfileDataset data in datasets)
            {
                for (int round = 1; round <= options.Runs; round++)
                {
                    new Random(round).Shuffle(cells);
                    int cell = 0;
                    foreach ((Profile profile, int writers) in cells)
                    {
                        cell++;
                        bool baselineFirst = round % 2 == 1;
                        CellRun first = runner.Run(data, baselineFirst ? Profile.Baseline : profile, writers, data.Count, data.BudgetSeconds);
                        CellRun second = runner.Run(data, baselineFirst ? profile : Profile.Baseline, writers, data.Count, data.BudgetSeconds);
                        (CellRun run, CellRun baseline) = baselineFirst ? (second, first) : (first, second);
                        Add(results, new CellKey(data.Name, profile.Name, writers), run);
                        Add(results, new CellKey(data.Name, Profile.Baseline.Name, writers), baseline);
                        Add(pairs, new CellKey(data.Name, profile.Name, writers), new PairedRun(run, baseline));
                        Progress(
                            $"{data.Description}, round {round}/{options.Runs}, cell {cell}/{cells.Length}: {profile.Name}, {writers} writer(s): "
                            + $"{F(run.PerSecond)} inserts/s ({run.Inserted:N0} in {run.Seconds:0.00} s{(run.TimeBoxed ? ", time-boxed" : "")}), "
                            + $"{run.Checkpoints} checkpoint(s), p99 {run.Latency.P99Us:0} µs; its baseline {F(baseline.PerSecond)} inserts/s");
                    }
                }
            }

            double totalSeconds = Seconds(runStart);
            var report = new ProfileReport(options, plan, machine, datasets, profiles, results, pairs, totalSeconds, SystemLoad.Describe(load));
            string png = Path.Combine(options.OutDir, "profiles-overhead.png");
            ProfileChart.Write(report, png);
            string md = Path.Combine(options.OutDir, "profiles.md");
            File.WriteAllText(md, report.Markdown());
            Progress($"wrote {md} and {png} ({totalSeconds:0} s)");
            return 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    private static void Add<T>(Dictionary<CellKey, List<T>> map, CellKey key, T value)
    {
        if (!map.TryGetValue(key, out List<T>? list))
        {
            map[key] = list = [];
        }

        list.Add(value);
    }

    private static void Progress(string text) => Console.Error.WriteLine("profiles: " + text);
}

using System.Globalization;
using System.Text;
using OxiVec.Benchmarks.Trust;
using OxiVec.Wal;

namespace OxiVec.Benchmarks.Macro;

/// <summary>
/// Issue 12's goal 2, group commit fills the fsync: with SyncIntervalMs = 0, the largest writer count (threads, and
/// asynchronous tasks) commits at least 16× one writer's rate of the same run, and its p99 commit latency is at most
/// 3 fsync times (the WAL's own average fsync of the same run). Each round ran the cells back to back, so the
/// ratios are paired per round and the verdicts come from their bootstrap intervals.
/// </summary>
internal static class GroupCommitGoal
{
    /// <summary>The goal's scaling factor over one writer.</summary>
    public const double ScaleTarget = 16;

    /// <summary>The goal's p99 ceiling, in fsync times.</summary>
    public const double P99TargetFsyncs = 3;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One row: threads or tasks at the largest writer count against one writer thread.</summary>
    public sealed record Row(string Writers, IReadOnlyList<WorkloadRun> Runs, Interval Scale, Verdict ScaleVerdict, Interval P99Fsyncs, Verdict P99Verdict);

    /// <summary>The rows the run has cells for (none without the SyncIntervalMs = 0 cells).</summary>
    public static IEnumerable<Row> Rows(BenchResults r)
    {
        int writers = r.Options.WriterCounts[^1];
        if (!r.Cells.TryGetValue(new CellKey(CellKind.Wal, 0, r.Options.WriterCounts[0]), out IReadOnlyList<WorkloadRun>? one) || one.Count == 0)
        {
            yield break;
        }

        foreach ((CellKind kind, string name) in new[] { (CellKind.Wal, $"{writers} threads"), (CellKind.WalAsync, $"{writers} async tasks") })
        {
            if (!r.Cells.TryGetValue(new CellKey(kind, 0, writers), out IReadOnlyList<WorkloadRun>? runs) || runs.Count != one.Count)
            {
                continue;
            }

            Interval scale = Bootstrap.PairedRatio([.. runs.Select(x => x.CommitsPerSecond)], [.. one.Select(x => x.CommitsPerSecond)]);
            Interval p99 = Bootstrap.Mean([.. runs.Select(x => x.Latency.P99Us / 1000 / x.WalAvgSyncMs)]);
            yield return new Row(name, runs, scale, Verdicts.AtLeast(scale, ScaleTarget), p99, Verdicts.AtMost(p99, P99TargetFsyncs));
        }
    }

    /// <summary>The report's section: the table, the verdicts and the commits-per-fsync histogram of each row.</summary>
    public static void Section(StringBuilder sb, BenchResults r)
    {
        List<Row> rows = [.. Rows(r)];
        if (rows.Count == 0)
        {
            return;
        }

        sb.Append("### Group commit at ").Append(r.Options.WriterCounts[^1]).Append(" writers (issue 12, goal 2)\n\n");
        sb.Append("SyncIntervalMs = 0. *× one writer* pairs each round's cell with the 1-writer cell of the same round. *p99 in fsyncs* divides each run's p99 commit latency by the WAL's own average fsync time in that run (`LifetimeAvgSyncLatencyMs`). *CPU per commit* is process CPU time (all threads) over commits. Async tasks await `WalManager.AppendAsync` on the thread pool, whose idle workers spin ").Append(Store.BenchCommon.ThreadPoolSpinLimit()).Append(" before they sleep (on 2 cores that spinning is CPU the commits lose: docs/architecture.md, *The thread pool's idle spinning*).\n\n");
        sb.Append("*Disk busy* is the share of the run's wall time the WAL spent inside fsyncs (fsyncs × their average time over the run's duration): below 100 % the disk waits for the next batch to form. *Context switches* are the process's per commit (getrusage): voluntary (a thread blocked) / involuntary (preempted or yielded).\n\n");
        sb.Append("| Writers | Commits/s | × one writer | Target ≥ 16× | p99 | WAL fsync avg | p99 in fsyncs | Target ≤ 3 | Commits per fsync | Disk busy | CPU per commit | Context switches per commit |\n");
        sb.Append("|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|\n");
        foreach (Row row in rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {row.Writers} | {Report.Rate(Med(row.Runs, x => x.CommitsPerSecond))} | {row.Scale.Describe(x => x.ToString("0.0", Inv) + "×")} | {Verdicts.Words(row.ScaleVerdict)} | ")
              .Append(CultureInfo.InvariantCulture, $"{Report.Latency(Med(row.Runs, x => x.Latency.P99Us))} | {Report.Latency(Med(row.Runs, x => x.WalAvgSyncMs * 1000))} | {row.P99Fsyncs.Describe(x => x.ToString("0.0", Inv))} | {Verdicts.Words(row.P99Verdict)} | ")
              .Append(CultureInfo.InvariantCulture, $"{Med(row.Runs, x => x.CommitsPerSync):0.0} | {Med(row.Runs, DiskBusy):0%} | {Report.Latency(Med(row.Runs, x => x.CpuMicrosPerCommit))} | ")
              .Append(CultureInfo.InvariantCulture, $"{Med(row.Runs, x => x.VoluntarySwitches / x.Commits):0.00} / {Med(row.Runs, x => x.InvoluntarySwitches / x.Commits):0.00} |\n");
        }

        sb.Append("\nCommits per fsync (`WalMetrics.CommitsPerSyncHistogram`, summed over the repeats): how many fsyncs acknowledged a batch of that size.\n\n");
        List<(int Min, int Max)> bars = [.. rows.SelectMany(x => x.Runs).SelectMany(x => x.SyncBatches ?? []).Select(b => (b.MinCommits, b.MaxCommits)).Distinct().OrderBy(b => b.MinCommits)];
        if (bars.Count == 0)
        {
            return;
        }

        sb.Append("| Writers | ").Append(string.Join(" | ", bars.Select(b => b.Max == int.MaxValue ? $"{b.Min}+" : b.Min == b.Max ? $"{b.Min}" : $"{b.Min}–{b.Max}"))).Append(" |\n");
        sb.Append("|---|").Append(string.Concat(bars.Select(_ => "---:|"))).Append('\n');
        foreach (Row row in rows)
        {
            IEnumerable<long> counts = bars.Select(b => row.Runs.SelectMany(x => x.SyncBatches ?? []).Where(x => x.MinCommits == b.Min).Sum(x => x.Syncs));
            sb.Append("| ").Append(row.Writers).Append(" | ").Append(string.Join(" | ", counts.Select(c => c.ToString("N0", Inv)))).Append(" |\n");
        }

        sb.Append('\n');
    }

    /// <summary>
    /// The report of <c>wal --group-commit</c>: the goal's section, the one-writer reference cell and the per-round figures
    /// (so an A/B comparison of two builds can pair rounds).
    /// </summary>
    public static string Render(BenchResults r)
    {
        var sb = new StringBuilder();
        HarnessOptions o = r.Options;
        sb.Append("# OxiVec group commit (issue 12, goal 2)\n\n");
        sb.Append(ReportStamp.Render("wal --group-commit", o.Code, o.Quick));
        sb.Append(CultureInfo.InvariantCulture, $"Produced by `{o.CommandLine()}` on {r.Machine.Date:yyyy-MM-dd HH:mm} UTC; {o.Repeats} round(s) of {o.RunDuration.TotalSeconds:0.#} s runs, the cells of a round back to back; whole run {r.Elapsed.TotalSeconds:F0} s. Other load: {r.OtherLoad}.\n\n");
        if (r.Cells.TryGetValue(new CellKey(CellKind.Wal, 0, o.WriterCounts[0]), out IReadOnlyList<WorkloadRun>? one) && one.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"One writer: {Report.Rate(Med(one, x => x.CommitsPerSecond))} commits/s, p99 {Report.Latency(Med(one, x => x.Latency.P99Us))}, fsync avg {Report.Latency(Med(one, x => x.WalAvgSyncMs * 1000))}, disk busy {Med(one, DiskBusy):0%}, ")
              .Append(CultureInfo.InvariantCulture, $"CPU per commit {Report.Latency(Med(one, x => x.CpuMicrosPerCommit))}, context switches per commit {Med(one, x => x.VoluntarySwitches / x.Commits):0.00} / {Med(one, x => x.InvoluntarySwitches / x.Commits):0.00}.\n\n");
        }

        Section(sb, r);
        sb.Append("Per round:\n\n| Round | Cell | Commits/s | p99 | p99 in fsyncs | Commits per fsync | Disk busy | CPU per commit | Context switches per commit |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach ((CellKey cell, IReadOnlyList<WorkloadRun> runs) in r.Cells.OrderBy(kv => kv.Key.Kind).ThenBy(kv => kv.Key.Writers))
        {
            for (int i = 0; i < runs.Count; i++)
            {
                WorkloadRun x = runs[i];
                sb.Append(CultureInfo.InvariantCulture, $"| {i + 1} | {cell} | {Report.Rate(x.CommitsPerSecond)} | {Report.Latency(x.Latency.P99Us)} | {x.Latency.P99Us / 1000 / x.WalAvgSyncMs:0.00} | {x.CommitsPerSync:0.0} | {DiskBusy(x):0%} | ")
                  .Append(CultureInfo.InvariantCulture, $"{Report.Latency(x.CpuMicrosPerCommit)} | {x.VoluntarySwitches / x.Commits:0.00} / {x.InvoluntarySwitches / x.Commits:0.00} |\n");
            }
        }

        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>The share of the run's wall time spent in fsyncs (fsyncs × the WAL's average fsync time over the run's duration).</summary>
    private static double DiskBusy(WorkloadRun x) => x.Syncs * x.WalAvgSyncMs / 1000 / x.Seconds;

    private static double Med(IReadOnlyList<WorkloadRun> runs, Func<WorkloadRun, double> pick) => Spread.Of(runs.Select(pick)).Median;
}

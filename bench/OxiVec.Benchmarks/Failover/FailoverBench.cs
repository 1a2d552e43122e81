using System.Globalization;
using System.Text;
using OxiVec.Benchmarks.Macro;
using OxiVec.Benchmarks.Store;
using OxiVec.Benchmarks.Trust;
using OxiVec.ClusterTests.History;
using OxiVec.ClusterTests.Infrastructure;
using static OxiVec.Benchmarks.Scale.ScaleCommon;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Failover;

/// <summary>
/// The <c>failover</c> verb (issue 16, Measured): three real <c>oxivec serve</c> cluster nodes on one etcd member
/// (the test harness of tests/OxiVec.ClusterTests, linked), 3 writers upserting unique ids through whichever node is
/// primary, the primary SIGKILLed repeatedly per mode (sync, quorum, async): the time from its death to the first
/// write acknowledged by the new primary (p50/p99 over the kills), acknowledged writes lost (checked against the final
/// primary), and throughput before the first and after the last kill. Writes <c>failover.md</c> and <c>failover.png</c>.
/// </summary>
internal sealed class FailoverBench(VerbOptions options)
{
    public const string Verb = "failover";
    private const int Writers = 3;

    /// <summary>The lease TTL of every node (<c>--lease-ttl</c>, default 2 s).</summary>
    private int LeaseTtlSeconds => options.LeaseTtlSeconds ?? 2;

    private sealed record ModeResult(AckMode Mode, IReadOnlyList<double> FailoverMs, HistoryVerdict Verdict, double BeforePerSecond, double AfterPerSecond, string? Error);

    public static int RunVerb(string[] args) => new FailoverBench(VerbOptions.Parse(Verb, args)).RunAsync().GetAwaiter().GetResult();

    private int Kills => options.Quick ? 2 : 10;

    private TimeSpan Window => options.Quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(5);

    private async Task<int> RunAsync()
    {
        Directory.CreateDirectory(options.OutDir);
        string work = NewWorkDir(Verb);
        try
        {
            MachineInfo machine = MachineInfo.Collect(work);
            var results = new List<ModeResult>();
            foreach (AckMode mode in (AckMode[])[AckMode.Sync, AckMode.Quorum, AckMode.Async])
            {
                ModeResult result = await RunModeAsync(mode).ConfigureAwait(false);
                Say(Verb, $"{mode}: failover p50 {Percentile(result.FailoverMs, 0.5):0} ms over {result.FailoverMs.Count} kills; {result.Verdict}{(result.Error is null ? "" : "; stopped: " + result.Error)}");
                results.Add(result);
            }

            Chart(results, Path.Combine(options.OutDir, "failover.png"));
            string path = Path.Combine(options.OutDir, "failover.md");
            File.WriteAllText(path, Render(machine, results));
            Say(Verb, $"wrote {path}");
            return results.Any(r => r.Verdict.Violations.Count > 0) ? 1 : 0;
        }
        finally
        {
            TryDelete(work);
        }
    }

    private async Task<ModeResult> RunModeAsync(AckMode mode)
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(mode, leaseTtlSeconds: LeaseTtlSeconds).ConfigureAwait(false);
        cluster.StartWriters(Writers);
        await cluster.WaitForAckAsync(_ => true, "to start").ConfigureAwait(false);
        double before = await RateAsync(cluster).ConfigureAwait(false);
        var failovers = new List<double>();
        string? error = null;
        long killedEpoch = 0;
        try
        {
            for (int kill = 0; kill < Kills; kill++)
            {
                (ClusterNodeProcess primary, long epoch) = await cluster.WaitForLeaderAsync(minEpoch: killedEpoch + 1).ConfigureAwait(false);
                TimeSpan since = cluster.Clock.Elapsed;
                await cluster.WaitForAckAsync(a => a.Node == primary.NodeId && a.StartedAt > since, $"by primary {primary.NodeId}").ConfigureAwait(false);
                await primary.KillAsync().ConfigureAwait(false);
                TimeSpan killedAt = cluster.Clock.Elapsed;
                killedEpoch = epoch;
                await primary.RestartAsync(FailoverCluster.Patience).ConfigureAwait(false);
                WriteAck first = await cluster.WaitForAckAsync(a => a.StartedAt > killedAt, "after the kill").ConfigureAwait(false);
                failovers.Add((first.AckedAt - killedAt).TotalMilliseconds);
                Say(Verb, $"  {mode} kill {kill + 1}: {primary.NodeId}@{epoch} -> {first.Node}, {(first.AckedAt - killedAt).TotalMilliseconds:0} ms");
            }
        }
        catch (TimeoutException e)
        {
            error = e.Message.Split('\n')[0];
        }

        double after = error is null ? await RateAsync(cluster).ConfigureAwait(false) : double.NaN;
        HistoryVerdict verdict = await cluster.CheckAsync().ConfigureAwait(false);
        return new ModeResult(mode, failovers, verdict, before, after, error);
    }

    /// <summary>Acknowledged writes per second over the measuring window (the writers keep running).</summary>
    private async Task<double> RateAsync(FailoverCluster cluster)
    {
        int acks = cluster.History.AckCount;
        TimeSpan from = cluster.Clock.Elapsed;
        await Task.Delay(Window).ConfigureAwait(false);
        return (cluster.History.AckCount - acks) / (cluster.Clock.Elapsed - from).TotalSeconds;
    }

    private static double Percentile(IReadOnlyList<double> values, double p)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    private static void Chart(IReadOnlyList<ModeResult> results, string path) =>
        Scale.ScaleCharts.GroupedBars(
            path, "Primary SIGKILLed: time to the first write acknowledged by the new primary", "ms",
            [.. results.Select(r => r.Mode.ToString().ToLowerInvariant())],
            [
                new Scale.BarSeries("p50", Scale.ScaleCharts.Palette[0], [.. results.Select(r => Spread.Of([Percentile(r.FailoverMs, 0.5)]))]),
                new Scale.BarSeries("p99", Scale.ScaleCharts.Palette[1], [.. results.Select(r => Spread.Of([Percentile(r.FailoverMs, 0.99)]))]),
            ],
            log: false, Scale.ScaleCharts.Millis);

    private string Render(MachineInfo machine, IReadOnlyList<ModeResult> results)
    {
        static string Ms(double v) => double.IsNaN(v) ? "–" : v.ToString("N0", CultureInfo.InvariantCulture);
        static string Rate(double v) => double.IsNaN(v) ? "–" : v.ToString("N0", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        Line(sb, "# OxiVec failover benchmark: the primary killed under a write load");
        Line(sb);
        sb.Append(options.Stamp);
        Line(sb);
        Line(sb, $"Generated by the `failover` verb of bench/OxiVec.Benchmarks on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(options.Quick ? " (**--quick**: smoke-test sizes, not figures to quote)" : "")}. Issue 16: with a lease TTL of T, failover within 2T, measured; no acknowledged write lost in sync and quorum modes.");
        Line(sb);
        Line(sb, "## Setup");
        Line(sb);
        Line(sb, $"- Three `oxivec serve --cluster` nodes (`--lease-ttl {LeaseTtlSeconds}`, `--sync-interval-ms 0`: every commit fsynced before it is acknowledged, on the primary and on the standbys) and one etcd 3.4 member, all on 127.0.0.1 of this machine; in sync and quorum modes one standby confirms each commit (remote flush).");
        Line(sb, $"- {Writers} closed-loop writers upsert single points with unique ids through whichever node is primary (following 307 redirects); every acknowledgement is recorded. {Kills} times per mode the primary is SIGKILLed once it has acknowledged a write, then restarted on its data directory (it rejoins).");
        Line(sb, "- Failover time: from the killed process's exit to the first write (sent after it) acknowledged by any node. It includes the lease running out (T), the election, the promotion and the client's redirect.");
        Line(sb, "- Every process (etcd, the nodes, the writers) shares this machine's cores and disk with whatever else runs on it (see Machine): the failover times include that contention.");
        Line(sb, $"- Lost: acknowledged writes missing from the final primary (read back after the run and checked with the tests' `HistoryChecker`). Throughput: acknowledged writes per second over {Window.TotalSeconds:0} s before the first kill and after the last failover.");
        Line(sb);
        Line(sb, "## Results");
        Line(sb);
        Line(sb, $"| Mode | Kills | Failover p50 (ms) | p99 (ms) | max (ms) | Acknowledged | Lost | Writes/s before | after | Check |");
        Line(sb, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (ModeResult r in results)
        {
            string check = r.Verdict.Violations.Count == 0 ? (r.Error is null ? "ok" : $"stopped: {FigureTable.Escape(r.Error)}") : $"**{r.Verdict.Violations.Count} violations**: {FigureTable.Escape(r.Verdict.Violations[0])}";
            Line(sb, $"| {r.Mode.ToString().ToLowerInvariant()} | {r.FailoverMs.Count} | {Ms(Percentile(r.FailoverMs, 0.5))} | {Ms(Percentile(r.FailoverMs, 0.99))} | {Ms(r.FailoverMs.DefaultIfEmpty(double.NaN).Max())} | {r.Verdict.Acknowledged:N0} | {r.Verdict.Lost.Count} | {Rate(r.BeforePerSecond)} | {Rate(r.AfterPerSecond)} | {check} |");
        }

        Line(sb);
        Line(sb, "![failover time by mode](failover.png)");
        Line(sb);
        double[] all = [.. results.SelectMany(r => r.FailoverMs)];
        sb.Append(FigureTable.Render(
        [
            new Figure("Failover time (primary SIGKILLed), p50 / p99", $"{Ms(Percentile(all, 0.5))} / {Ms(Percentile(all, 0.99))} ms", "–", "–", $"≤ {2 * LeaseTtlSeconds} s (2 × TTL {LeaseTtlSeconds} s)", $"{all.Length} kills, 3 nodes + 1 etcd on loopback, one machine", all.Length),
            new Figure("Acknowledged writes lost, sync + quorum", $"{results.Where(r => r.Mode != AckMode.Async).Sum(r => r.Verdict.Lost.Count)}", "–", "–", "0", $"{results.Where(r => r.Mode != AckMode.Async).Sum(r => r.Verdict.Acknowledged):N0} acknowledged", results.Count(r => r.Mode != AckMode.Async)),
        ]));
        MachineSection(sb, machine, options);
        return sb.ToString();
    }
}

using System.Text;
using OxiVec.Benchmarks.Trust;
using ScottPlot;
using static OxiVec.Benchmarks.Store.BenchCommon;

namespace OxiVec.Benchmarks.Store;

/// <summary>QPS of one engine read off its recall/QPS curve at a given recall.</summary>
/// <param name="Qps">Interpolated QPS (log-linear between the two sweep points around the recall); NaN when never reached.</param>
/// <param name="AtLeast">The smallest ef already exceeded the recall, so <paramref name="Qps"/> (its QPS) is a lower bound.</param>
internal readonly record struct MatchedQps(double Qps, bool AtLeast)
{
    public bool Reached => !double.IsNaN(Qps);

    public override string ToString() => !Reached ? "not reached" : (AtLeast ? "≥ " : "") + F(Qps);

    /// <summary>
    /// Interpolates the median QPS at <paramref name="recall"/> from sweep points of one engine and thread count:
    /// between the last point below the recall and the first reaching it, log(QPS) linear in recall.
    /// </summary>
    public static MatchedQps At(IEnumerable<SweepPoint> sweep, double recall) => At(sweep, recall, p => p.Qps.Median);

    /// <summary>As <see cref="At(IEnumerable{SweepPoint}, double)"/>, reading each point's QPS with <paramref name="qps"/> (one pass's, for paired intervals).</summary>
    public static MatchedQps At(IEnumerable<SweepPoint> sweep, double recall, Func<SweepPoint, double> qps)
    {
        SweepPoint[] points = [.. sweep.OrderBy(p => p.Ef)];
        int i = Array.FindIndex(points, p => p.Recall >= recall);
        if (i < 0)
        {
            return new MatchedQps(double.NaN, false);
        }

        if (i == 0)
        {
            return new MatchedQps(qps(points[0]), true);
        }

        SweepPoint lo = points[i - 1];
        SweepPoint hi = points[i];
        double t = (recall - lo.Recall) / (hi.Recall - lo.Recall);
        double log = Math.Log(qps(lo)) + (t * (Math.Log(qps(hi)) - Math.Log(qps(lo))));
        return new MatchedQps(Math.Exp(log), false);
    }
}

/// <summary>The store report's OxiVec-vs-USearch section and its charts.</summary>
internal static class PeerReport
{
    /// <summary>The target: at this recall@10, OxiVec's QPS at least USearch's on the same threads.</summary>
    public const double TargetRecall = 0.95;

    public static readonly double[] MatchedRecalls = [TargetRecall, 0.99];

    private const string Ours = "OxiVec";
    private const string Peer = "USearch";

    /// <summary>One line per data set and thread count: OxiVec / USearch QPS at the target recall, and whether the target holds.</summary>
    public static IEnumerable<string> TargetLines(PeerResult r)
    {
        foreach (int threads in r.Points.Select(p => p.Threads).Distinct())
        {
            MatchedQps ours = Matched(r, Ours, threads, TargetRecall);
            MatchedQps peer = Matched(r, Peer, threads, TargetRecall);
            yield return $"{r.Data.Key}, {threads} thread(s): OxiVec {ours} vs USearch {peer} QPS at recall@10 = {TargetRecall:0.00} → {Ratio(r, threads, ours, peer)} — {Verdict(r, threads, ours, peer)}";
        }
    }

    /// <summary>The store report's headline figures: OxiVec against USearch at the target recall, per data set and thread count.</summary>
    public static IEnumerable<Figure> Figures(PeerResult r)
    {
        foreach (int threads in r.Points.Select(p => p.Threads).Distinct())
        {
            yield return QpsFigure(
                r,
                threads,
                TargetRecall,
                goal: 1,
                $"{r.Data.Key}, the index alone (no database, no WAL), M = {PeerComparison.Parameters.M}, efConstruction = {PeerComparison.Parameters.EfConstruction}, squared L2, ef swept, QPS interpolated at the recall, warm (queries repeated)");
        }
    }

    /// <summary>
    /// One figure: OxiVec's QPS against USearch's at <paramref name="recall"/> on <paramref name="threads"/> threads,
    /// the ratio's interval over the paired passes, and the verdict against a floor of <paramref name="goal"/> x USearch.
    /// </summary>
    public static Figure QpsFigure(PeerResult r, int threads, double recall, double goal, string qualifiers)
    {
        ArgumentNullException.ThrowIfNull(r);
        MatchedQps ours = Matched(r, Ours, threads, recall);
        MatchedQps peer = Matched(r, Peer, threads, recall);
        return new Figure(
            $"HNSW QPS at recall@10 {recall:0.00}, {r.Data.Key}, {threads} thread(s)",
            ours.ToString(),
            $"USearch {peer}",
            Ratio(r, threads, ours, peer, recall),
            $"≥ {goal:0.##}× USearch: {Verdict(r, threads, ours, peer, recall, goal)}",
            qualifiers,
            r.Repeats);
    }

    /// <summary>The verdict of OxiVec's QPS against <paramref name="goal"/> x USearch's at <paramref name="recall"/> (plain words, with its reason when not decided by the interval).</summary>
    public static string QpsVerdict(PeerResult r, int threads, double recall, double goal)
    {
        ArgumentNullException.ThrowIfNull(r);
        return Verdict(r, threads, Matched(r, Ours, threads, recall), Matched(r, Peer, threads, recall), recall, goal);
    }

    /// <summary>OxiVec ÷ USearch at <paramref name="recall"/>: the median ratio with its interval over the paired passes, or "n/a".</summary>
    public static string QpsRatio(PeerResult r, int threads, double recall)
    {
        ArgumentNullException.ThrowIfNull(r);
        return Ratio(r, threads, Matched(r, Ours, threads, recall), Matched(r, Peer, threads, recall), recall);
    }

    public static void Section(StringBuilder sb, IReadOnlyList<PeerResult> results, IReadOnlyList<string> charts)
    {
        PeerResult first = results[0];
        Line(sb, "## Search: OxiVec HNSW vs USearch");
        Line(sb);
        Line(sb, $"Both engines index the same vectors (ids 0..n-1, inserted in order from one thread, timed) and answer the same queries. OxiVec is `HnswIndex` on its own (no database, no WAL; `Search(query, 10, new SearchOptions {{ Ef = ef }})`, which allocates its result list); USearch ({first.PeerDescription}) is the `Cloud.Unum.USearch` package's native library called through its C API with caller-owned result buffers, float32 vectors without quantisation, capacity reserved up front. Metric: squared L2 for both. Graph parameters: OxiVec's defaults M = {PeerComparison.Parameters.M}, efConstruction = {PeerComparison.Parameters.EfConstruction} ↔ USearch connectivity = {PeerComparison.Parameters.M} (base layer {PeerComparison.Parameters.MaxM0}, like OxiVec's MaxM0), expansion_add = {PeerComparison.Parameters.EfConstruction}; the sweep sets OxiVec's ef and USearch's expansion_search to the same value (both search with at least k = 10).");
        Line(sb);
        Line(sb, $"Recall@10 is the fraction of the exact top-10 (brute force, computed once per data set) that an engine returned, measured once per ef on one thread (a search's result does not depend on the thread count); that pass doubles as the warm-up. QPS: each cell is {first.Repeats} timed pass(es) of about {first.MinPassSeconds:0.##} s each (the query set repeated), the two engines alternating pass by pass; the table gives the median and (min–max). With more than one thread the query stream is split evenly among dedicated threads started together. Matched-recall QPS is interpolated (log QPS linear in recall) between the two sweep points around the recall; '≥' means the smallest ef already exceeded it.");
        Line(sb);
        for (int i = 0; i < results.Count; i++)
        {
            PeerResult r = results[i];
            Line(sb, $"### {r.Data.Description}");
            Line(sb);
            Line(sb, "| Engine | Vectors | Build time (s) | Inserts/s |");
            Line(sb, "|---|---:|---:|---:|");
            foreach (BuildResult b in r.Builds)
            {
                Line(sb, $"| {b.Engine} | {b.Count:N0} | {b.Seconds:0.00} | {F(b.PerSecond)} |");
            }

            Line(sb);
            Line(sb, "QPS at matched recall (median QPS, interpolated):");
            Line(sb);
            Line(sb, "| Threads | Recall@10 | OxiVec QPS | USearch QPS | OxiVec / USearch |");
            Line(sb, "|---:|---:|---:|---:|---:|");
            foreach (int threads in r.Points.Select(p => p.Threads).Distinct())
            {
                foreach (double recall in MatchedRecalls)
                {
                    MatchedQps ours = Matched(r, Ours, threads, recall);
                    MatchedQps peer = Matched(r, Peer, threads, recall);
                    Line(sb, $"| {threads} | {recall:0.00} | {ours} | {peer} | {Ratio(r, threads, ours, peer, recall)} |");
                }
            }

            Line(sb);
            foreach (int threads in r.Points.Select(p => p.Threads).Distinct())
            {
                MatchedQps ours = Matched(r, Ours, threads, TargetRecall);
                MatchedQps peer = Matched(r, Peer, threads, TargetRecall);
                Line(sb, $"- Target \"HNSW at recall@10 {TargetRecall:0.00}: QPS at least USearch's on the same threads\", {threads} thread(s): **{Verdict(r, threads, ours, peer)}** ({Ratio(r, threads, ours, peer)}).");
            }

            Line(sb);
            Line(sb, "The sweep:");
            Line(sb);
            Line(sb, "| ef | Threads | OxiVec recall@10 | OxiVec QPS, median (min–max) | USearch recall@10 | USearch QPS, median (min–max) | OxiVec / USearch QPS |");
            Line(sb, "|---:|---:|---:|---:|---:|---:|---:|");
            foreach (IGrouping<(int Threads, int Ef), SweepPoint> cell in r.Points.GroupBy(p => (p.Threads, p.Ef)))
            {
                SweepPoint o = cell.Single(p => p.Engine == Ours);
                SweepPoint u = cell.Single(p => p.Engine == Peer);
                Line(sb, $"| {cell.Key.Ef} | {cell.Key.Threads} | {o.Recall:0.000} | {QpsCell(o)} | {u.Recall:0.000} | {QpsCell(u)} | {o.Qps.Median / u.Qps.Median:0.00} |");
            }

            Line(sb);
            Line(sb, $"![OxiVec vs USearch, {r.Data.Key}]({charts[i]})");
            Line(sb);
        }
    }

    /// <summary>Recall@10 (x) against QPS (y, log scale): one line per engine and thread count, ef labels on the 1-thread lines.</summary>
    public static void Chart(PeerResult r, string path)
    {
        Plot plot = NewPlot();
        var all = new List<double>();
        foreach (string engine in new[] { Ours, Peer })
        {
            Color color = engine == Ours ? Color.FromHex("#1f77b4") : Color.FromHex("#ff7f0e");
            foreach (int threads in r.Points.Select(p => p.Threads).Distinct())
            {
                SweepPoint[] points = [.. r.Points.Where(p => p.Engine == engine && p.Threads == threads).OrderBy(p => p.Ef)];
                double[] xs = [.. points.Select(p => p.Recall)];
                double[] ys = [.. points.Select(p => Math.Log10(p.Qps.Median))];
                all.AddRange(points.Select(p => p.Qps.Median));
                var line = plot.Add.Scatter(xs, ys, color);
                line.LineWidth = 2.5f;
                line.MarkerSize = 9;
                line.LinePattern = threads == 1 ? LinePattern.Solid : LinePattern.Dashed;
                line.MarkerShape = threads == 1 ? MarkerShape.FilledCircle : MarkerShape.OpenCircle;
                line.LegendText = $"{engine}, {threads} thread(s)";
                if (threads == 1)
                {
                    foreach (SweepPoint p in points)
                    {
                        var text = plot.Add.Text($"{p.Ef}", p.Recall, Math.Log10(p.Qps.Median));
                        text.LabelFontSize = 11;
                        text.LabelFontColor = color;
                        text.LabelOffsetX = 5;
                        text.LabelOffsetY = engine == Ours ? 4 : -16;
                    }
                }
            }
        }

        foreach (double recall in MatchedRecalls)
        {
            var v = plot.Add.VerticalLine(recall);
            v.LinePattern = LinePattern.Dotted;
            v.Color = Colors.Gray;
        }

        // Half-decade limits and ticks: the curves span about one decade.
        double minY = Math.Floor((Math.Log10(all.Min()) - 0.05) * 2) / 2;
        double maxY = Math.Ceiling((Math.Log10(all.Max()) + 0.05) * 2) / 2;
        var ticks = new List<double>();
        for (double d = minY; d <= maxY; d += 0.5)
        {
            ticks.Add(d);
        }

        plot.Axes.Left.SetTicks([.. ticks], [.. ticks.Select(d => F(Math.Pow(10, d)))]);
        double minX = Math.Min(TargetRecall, r.Points.Min(p => p.Recall)) - 0.01;
        plot.Axes.SetLimits(minX, 1.002, minY, maxY);
        plot.Title($"recall@10 vs queries/s: OxiVec HNSW and USearch, {r.Data.Key} (labels: ef / expansion_search)");
        plot.XLabel("recall@10 vs exact (dotted: 0.95 and 0.99)");
        plot.YLabel("queries / s (log scale)");
        plot.ShowLegend(Edge.Bottom);
        plot.SavePng(path, 1200, 650);
    }

    private static MatchedQps Matched(PeerResult r, string engine, int threads, double recall) =>
        MatchedQps.At(r.Points.Where(p => p.Engine == engine && p.Threads == threads), recall);

    private static string QpsCell(SweepPoint p) => $"{F(p.Qps.Median)} ({F(p.Qps.Min)}–{F(p.Qps.Max)})";

    /// <summary>
    /// OxiVec ÷ USearch at <paramref name="recall"/>, pass by pass (the engines alternate passes, so pass j of each
    /// ran back to back): the bootstrap interval of the per-pass ratios, or null when either never reached the recall.
    /// </summary>
    private static Interval? RatioInterval(PeerResult r, int threads, double recall)
    {
        SweepPoint[] ours = [.. r.Points.Where(p => p.Engine == Ours && p.Threads == threads)];
        SweepPoint[] peer = [.. r.Points.Where(p => p.Engine == Peer && p.Threads == threads)];
        int passes = ours.Concat(peer).Min(p => p.Passes.Count);
        if (passes == 0)
        {
            return null;
        }

        var o = new double[passes];
        var u = new double[passes];
        for (int j = 0; j < passes; j++)
        {
            int pass = j;
            MatchedQps a = MatchedQps.At(ours, recall, p => p.Passes[pass]);
            MatchedQps b = MatchedQps.At(peer, recall, p => p.Passes[pass]);
            if (!a.Reached || !b.Reached)
            {
                return null;
            }

            (o[j], u[j]) = (a.Qps, b.Qps);
        }

        return Bootstrap.PairedRatio(o, u);
    }

    private static string Ratio(PeerResult r, int threads, MatchedQps ours, MatchedQps peer, double recall = TargetRecall)
    {
        if (!ours.Reached || !peer.Reached || RatioInterval(r, threads, recall) is not { } interval)
        {
            return "n/a";
        }

        // A lower bound on ours makes the ratio a lower bound, one on the peer's an upper bound.
        string prefix = (ours.AtLeast, peer.AtLeast) switch
        {
            (true, false) => "≥ ",
            (false, true) => "≤ ",
            (true, true) => "~",
            _ => "",
        };
        return prefix + interval.Describe(x => $"{x:0.00}x");
    }

    /// <summary>
    /// Met only when the whole interval of the per-pass ratios is at or above <paramref name="goal"/> (and USearch's
    /// figure is not a mere lower bound); not met only when the whole interval is below it (and OxiVec's is not a
    /// lower bound); else inconclusive.
    /// </summary>
    private static string Verdict(PeerResult r, int threads, MatchedQps ours, MatchedQps peer, double recall = TargetRecall, double goal = 1)
    {
        if (!ours.Reached)
        {
            return "not met (OxiVec never reached the recall)";
        }

        if (!peer.Reached)
        {
            return "met (USearch never reached the recall)";
        }

        if (RatioInterval(r, threads, recall) is not { } interval)
        {
            return "inconclusive (no per-pass QPS)";
        }

        Verdict v = Verdicts.AtLeast(interval, goal);
        if ((v == Trust.Verdict.Met && peer.AtLeast) || (v == Trust.Verdict.NotMet && ours.AtLeast))
        {
            return "inconclusive (recall above the target at the smallest ef)";
        }

        return Verdicts.Words(v) + (interval.Rounds < Verdicts.MinimumRounds ? " (1 pass: no interval)" : "");
    }
}

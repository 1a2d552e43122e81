using System.Globalization;
using ScottPlot;

namespace OxiVec.Benchmarks.Macro;

/// <summary>The three PNG charts of the report (ScottPlot 5), all with logarithmic value axes.</summary>
internal static class Charts
{
    private const int Width = 1200;
    private const int Height = 650;

    private static readonly Color[] PolicyColors =
    [
        Color.FromHex("#d62728"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#1f77b4"),
    ];

    // Distinct markers: the positive-interval lines often lie on top of each other.
    private static readonly MarkerShape[] PolicyMarkers =
    [
        MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond,
    ];

    private static readonly Lazy<bool> SansFont = new(RegisterSansFont);

    private static readonly Color[] WriterColors = [Color.FromHex("#4c72b0"), Color.FromHex("#dd8452"), Color.FromHex("#55a868")];

    /// <summary>Commits/s against writers (log2 x, log10 y): one line per sync policy, the no-WAL baseline and the disk's fsync rates.</summary>
    public static void WriteCommits(BenchResults r, string path)
    {
        HarnessOptions o = r.Options;
        var plot = NewPlot();
        double[] xs = [.. o.WriterCounts.Select(w => Math.Log2(w))];

        var all = new List<double>();
        for (int i = 0; i < o.SyncIntervals.Count; i++)
        {
            int sync = o.SyncIntervals[i];
            double[] ys = [.. o.WriterCounts.Select(w => Median(r, new CellKey(CellKind.Wal, sync, w), x => x.CommitsPerSecond))];
            AddLine(plot, xs, ys, PolicyColors[i % PolicyColors.Length], $"SyncIntervalMs = {sync} ({Workload.ProfileName(sync)})", LinePattern.Solid, all)
                ?.MarkerShape = PolicyMarkers[i % PolicyMarkers.Length];
        }

        double[] baseline = [.. o.WriterCounts.Select(w => Median(r, new CellKey(CellKind.Baseline, 0, w), x => x.OpsPerSecond))];
        _ = AddLine(plot, xs, baseline, Colors.Black, "no-WAL baseline (in-memory insert)", LinePattern.Dashed, all);

        double overwrite = Spread.Of(r.FsyncOverwrite.Select(p => p.Rate)).Median;
        double preallocated = Spread.Of(r.FsyncPreallocated.Select(p => p.Rate)).Median;
        AddLevel(plot, overwrite, Colors.Gray, "disk: fdatasync/s, overwrite", LinePattern.Dotted, all);
        AddLevel(plot, preallocated, Colors.Purple, "disk: fdatasync/s, into preallocated space", LinePattern.Dotted, all);

        SaveCommitsPlot(plot, "OxiVec WAL: commits per second (one insert per commit)", xs, o.WriterCounts, all, path);
    }

    /// <summary>
    /// Commits/s against writers (log2 x, log10 y) for OxiVec and its peers on the same records: solid lines are
    /// durable per commit (OxiVec SyncIntervalMs = 0, FasterLog commit per record, SQLite FULL), dashed lines the
    /// periodic or process-crash-safe variants (OxiVec 1000, FasterLog committing every second, SQLite NORMAL).
    /// </summary>
    public static void WritePeers(BenchResults r, string path)
    {
        HarnessOptions o = r.Options;
        var plot = NewPlot();
        double[] xs = [.. o.WriterCounts.Select(w => Math.Log2(w))];
        var all = new List<double>();
        (CellKind Kind, int Sync, Color Color, MarkerShape Marker, string Label)[] series =
        [
            (CellKind.Wal, 0, Color.FromHex("#d62728"), MarkerShape.FilledCircle, "OxiVec, SyncIntervalMs = 0 (fsync per commit, group commit)"),
            (CellKind.FasterLog, 0, Color.FromHex("#1f77b4"), MarkerShape.FilledSquare, "FasterLog, commit per record (durable)"),
            (CellKind.Sqlite, 0, Color.FromHex("#9467bd"), MarkerShape.FilledTriangleUp, "SQLite WAL, synchronous=FULL, group commit (durable)"),
            (CellKind.Wal, Workload.PeerIntervalMs, Color.FromHex("#d62728"), MarkerShape.OpenCircle, "OxiVec, SyncIntervalMs = 1000"),
            (CellKind.FasterLog, Workload.PeerIntervalMs, Color.FromHex("#1f77b4"), MarkerShape.OpenSquare, "FasterLog, commit every 1 s (enqueue only)"),
            (CellKind.Sqlite, Workload.PeerIntervalMs, Color.FromHex("#9467bd"), MarkerShape.OpenTriangleUp, "SQLite WAL, synchronous=NORMAL, group commit"),
        ];
        foreach ((CellKind kind, int sync, Color color, MarkerShape marker, string label) in series)
        {
            double[] ys = [.. o.WriterCounts.Select(w => Median(r, new CellKey(kind, sync, w), x => x.CommitsPerSecond))];
            AddLine(plot, xs, ys, color, label, sync == 0 ? LinePattern.Solid : LinePattern.Dashed, all)?.MarkerShape = marker;
        }

        AddLevel(plot, Spread.Of(r.FsyncOverwrite.Select(p => p.Rate)).Median, Colors.Gray, "disk: fdatasync/s, overwrite", LinePattern.Dotted, all);

        SaveCommitsPlot(plot, "Commits per second, OxiVec and peers on the same records (one record per commit)", xs, o.WriterCounts, all, path);
    }

    /// <summary>Titles, the writers axis (log2 positions <paramref name="xs"/>), the log commits/s axis, the legend; saves the PNG.</summary>
    private static void SaveCommitsPlot(Plot plot, string title, double[] xs, IReadOnlyList<int> writerCounts, List<double> all, string path)
    {
        plot.Title(title);
        plot.XLabel("concurrent writers (threads)");
        plot.YLabel("commits / s (log scale)");
        plot.Axes.Bottom.SetTicks(xs, [.. writerCounts.Select(w => w.ToString(CultureInfo.InvariantCulture))]);
        plot.Axes.SetLimitsX(xs[0] - 0.3, xs[^1] + 0.3);
        LogAxis(plot, all, v => Report.Rate(v));
        plot.ShowLegend(Edge.Right);
        plot.Legend.FontSize = 12;
        plot.SavePng(path, Width, Height);
    }

    /// <summary>p50 and p99 commit latency, grouped by sync policy, one pair of bars per writer count (log10 y).</summary>
    public static void WriteLatency(BenchResults r, string path)
    {
        HarnessOptions o = r.Options;
        var plot = NewPlot();
        var values = new List<(double Position, double Us, Color Color)>();
        var groupCenters = new List<double>();
        var groupLabels = new List<string>();
        double groupWidth = (o.WriterCounts.Count * 2.2) + 1.2;
        for (int g = 0; g < o.SyncIntervals.Count; g++)
        {
            int sync = o.SyncIntervals[g];
            double left = g * groupWidth;
            for (int i = 0; i < o.WriterCounts.Count; i++)
            {
                CellKey key = new(CellKind.Wal, sync, o.WriterCounts[i]);
                Color c = WriterColors[i % WriterColors.Length];
                values.Add((left + (i * 2.2), Median(r, key, x => x.Latency.P50Us), c.WithAlpha(0.45)));
                values.Add((left + (i * 2.2) + 0.95, Median(r, key, x => x.Latency.P99Us), c));
            }

            groupCenters.Add(left + ((o.WriterCounts.Count * 2.2) - 1.25) / 2);
            groupLabels.Add($"SyncIntervalMs = {sync}\n{Workload.ProfileName(sync)}");
        }

        double[] finite = [.. values.Select(v => v.Us).Where(v => v > 0 && !double.IsNaN(v))];
        // The bars grow from a power of ten at least half a decade below the smallest value, so that it shows.
        double floor = finite.Length == 0 ? 0 : Math.Floor(Math.Log10(finite.Min()) - 0.5);
        var bars = new List<Bar>();
        foreach ((double position, double us, Color color) in values)
        {
            if (us > 0 && !double.IsNaN(us))
            {
                bars.Add(new Bar
                {
                    Position = position,
                    ValueBase = floor,
                    Value = Math.Log10(us),
                    FillColor = color,
                    LineWidth = 0,
                    Size = 0.9,
                    Label = Report.Latency(us),
                });
            }
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 10;
        barPlot.ValueLabelStyle.Rotation = -90;
        barPlot.ValueLabelStyle.Alignment = Alignment.MiddleLeft;

        for (int i = 0; i < o.WriterCounts.Count; i++)
        {
            Color c = WriterColors[i % WriterColors.Length];
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"{o.WriterCounts[i]} writer(s), p50", FillColor = c.WithAlpha(0.45) });
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"{o.WriterCounts[i]} writer(s), p99", FillColor = c });
        }

        plot.Title("OxiVec WAL: commit latency (p50 light, p99 dark)");
        plot.YLabel("commit latency (log scale)");
        plot.Axes.Bottom.SetTicks([.. groupCenters], [.. groupLabels]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        double top = finite.Length == 0 ? 1 : Math.Ceiling(Math.Log10(finite.Max()) + 0.6);
        plot.Axes.SetLimitsY(floor, top);
        plot.Axes.SetLimitsX(-1, (o.SyncIntervals.Count * groupWidth) - 0.8);
        plot.Axes.Left.TickGenerator = LogTicks(floor, top, us => Report.Latency(us));
        plot.ShowLegend(Edge.Right);
        plot.Legend.FontSize = 12;
        plot.SavePng(path, Width, Height);
    }

    /// <summary>A new plot, with DejaVu Sans registered once when the machine has it (shared by every bench chart).</summary>
    internal static Plot NewPlot()
    {
        _ = SansFont.Value;
        return new Plot();
    }

    /// <summary>
    /// SkiaSharp's dependency-free Linux build cannot look fonts up by family, so ScottPlot falls back to a serif
    /// face; register DejaVu Sans from its usual place when it is there.
    /// </summary>
    private static bool RegisterSansFont()
    {
        string[] dirs = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts/dejavu", "/usr/share/fonts/dejavu-sans-fonts"];
        string? dir = dirs.FirstOrDefault(d => File.Exists(Path.Combine(d, "DejaVuSans.ttf")));
        if (dir is null)
        {
            return false;
        }

        const string Name = "DejaVu Sans";
        Fonts.AddFontFile(Name, Path.Combine(dir, "DejaVuSans.ttf"), bold: false, italic: false);
        string bold = Path.Combine(dir, "DejaVuSans-Bold.ttf");
        if (File.Exists(bold))
        {
            Fonts.AddFontFile(Name, bold, bold: true, italic: false);
        }

        Fonts.Default = Name;
        return true;
    }

    private static ScottPlot.Plottables.Scatter? AddLine(Plot plot, double[] xs, double[] ys, Color color, string label, LinePattern pattern, List<double> all)
    {
        // Log scale: plot log10 of the values; cells that were not measured are left out.
        double[] px = [.. xs.Where((_, i) => ys[i] > 0)];
        double[] py = [.. ys.Where(y => y > 0).Select(Math.Log10)];
        if (px.Length == 0)
        {
            return null;
        }

        all.AddRange(ys.Where(y => y > 0));
        var line = plot.Add.Scatter(px, py, color);
        line.LegendText = label;
        line.LineWidth = 2.5f;
        line.MarkerSize = 10;
        line.LinePattern = pattern;
        return line;
    }

    private static void AddLevel(Plot plot, double value, Color color, string label, LinePattern pattern, List<double> all)
    {
        if (!(value > 0))
        {
            return;
        }

        all.Add(value);
        var line = plot.Add.HorizontalLine(Math.Log10(value), 1.5f, color, pattern);
        line.LegendText = $"{label} ({Report.Rate(value)})";
    }

    private static void LogAxis(Plot plot, List<double> values, Func<double, string> format)
    {
        double[] v = [.. values.Where(x => x > 0 && !double.IsNaN(x))];
        double low = v.Length == 0 ? 0 : Math.Floor(Math.Log10(v.Min()));
        double high = v.Length == 0 ? 1 : Math.Ceiling(Math.Log10(v.Max()) + 0.15);
        plot.Axes.SetLimitsY(low, high);
        plot.Axes.Left.TickGenerator = LogTicks(low, high, format);
    }

    /// <summary>Major ticks at powers of ten (labelled with the real value), minor ticks at 2..9 × each power.</summary>
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double low, double high, Func<double, string> format)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int e = (int)low; e <= (int)high; e++)
        {
            ticks.AddMajor(e, format(Math.Pow(10, e)));
            for (int k = 2; k <= 9 && e < (int)high; k++)
            {
                ticks.AddMinor(e + Math.Log10(k));
            }
        }

        return ticks;
    }

    private static double Median(BenchResults r, CellKey key, Func<WorkloadRun, double> pick) =>
        r.Cells.TryGetValue(key, out IReadOnlyList<WorkloadRun>? runs) && runs.Count > 0 ? Spread.Of(runs.Select(pick)).Median : double.NaN;
}

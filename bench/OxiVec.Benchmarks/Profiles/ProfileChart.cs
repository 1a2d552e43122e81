using System.Globalization;
using ScottPlot;

namespace OxiVec.Benchmarks.Profiles;

/// <summary>
/// <c>profiles-overhead.png</c>: the measured overhead per profile, one bar per dataset × writer count (median,
/// with its 95 % bootstrap interval as a whisker), the guide's claimed slowdown as a band behind each group, and the
/// issue's target as a dashed ceiling over the bars it applies to.
/// </summary>
internal static class ProfileChart
{
    private const double BarWidth = 0.8;
    private const double GroupGap = 1.4;

    private static readonly Color[] SeriesColors =
    [
        Color.FromHex("#9ecae1"), Color.FromHex("#3182bd"), Color.FromHex("#fdae6b"), Color.FromHex("#e6550d"),
    ];

    public static void Write(ProfileReport report, string path)
    {
        Plot plot = Store.BenchCommon.NewPlot();
        var series = report.Datasets.SelectMany(d => ProfileBench.WriterCounts.Select(w => (Dataset: d, Writers: w))).ToList();
        double groupWidth = series.Count + GroupGap;
        var bars = new List<Bar>();
        var groupCenters = new List<double>();
        var groupLabels = new List<string>();
        var values = new List<double> { 0 };
        Color bandColor = Color.FromHex("#2ca02c").WithAlpha(0.25);
        Color targetColor = Color.FromHex("#d62728");

        Profile[] groups = [.. report.Profiles.Where(p => !p.IsBaseline)];
        int g = 0;
        foreach (Profile profile in groups)
        {
            double left = g * groupWidth;
            double right = left + series.Count - 1;
            if (!profile.IsDiagnostic)
            {
                var band = plot.Add.Rectangle(left - 0.6, right + 0.6, profile.ClaimLow * 100, profile.ClaimHigh * 100);
                band.FillColor = bandColor;
                band.LineWidth = 0;
                values.Add(profile.ClaimHigh * 100);
            }

            for (int s = 0; s < series.Count; s++)
            {
                CellSummary c = report.Cells.Single(c => c.Dataset == series[s].Dataset && c.Profile == profile && c.Writers == series[s].Writers);
                double x = left + s;
                double median = c.Overhead!.Estimate * 100;
                bars.Add(new Bar
                {
                    Position = x,
                    Value = median,
                    FillColor = SeriesColors[s % SeriesColors.Length],
                    LineWidth = 0,
                    Size = BarWidth,
                    Label = median.ToString("0.0", CultureInfo.InvariantCulture) + (c.TimeBoxedRuns > 0 ? "*" : ""),
                });
                values.Add(median);
                if (c.Runs.Count > 1)
                {
                    Whisker(plot, x, c.Overhead!.Low * 100, c.Overhead!.High * 100);
                    values.Add(c.Overhead!.Low * 100);
                    values.Add(c.Overhead!.High * 100);
                }

                if (c.HasTarget)
                {
                    double target = profile.TargetMax!.Value * 100;
                    var line = plot.Add.Line(x - (BarWidth / 2) - 0.1, target, x + (BarWidth / 2) + 0.1, target);
                    line.Color = targetColor;
                    line.LineWidth = 2.5f;
                    line.LinePattern = LinePattern.Dashed;
                    values.Add(target);
                }
            }

            groupCenters.Add((left + right) / 2);
            groupLabels.Add(profile.IsControl
                ? $"{profile.Name}\n(WAL off again: the pairing's noise)"
                : profile.IsDiagnostic
                ? $"{profile.Name}\n(diagnostic: sync 0 ms, no auto checkpoints)"
                : $"{profile.Name}\nsync {profile.Wal!.SyncIntervalMs:N0} ms, checkpoint every {profile.Wal.CheckpointInterval:N0}");
            g++;
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 11;

        for (int s = 0; s < series.Count; s++)
        {
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = $"{series[s].Dataset.Description}, {series[s].Writers} writer{(series[s].Writers == 1 ? "" : "s")}",
                FillColor = SeriesColors[s % SeriesColors.Length],
            });
        }

        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "guide's claimed slowdown", FillColor = bandColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "issue target (ceiling)", LineColor = targetColor, LineWidth = 2.5f, LinePattern = LinePattern.Dashed });

        plot.Title("OxiVec WAL profiles: insert overhead vs the WAL-off baseline (paired rounds; whiskers: 95 % interval; * time-boxed)");
        plot.YLabel("overhead = 1 − inserts/s ÷ baseline inserts/s (%)");
        plot.Axes.Bottom.SetTicks([.. groupCenters], [.. groupLabels]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        double low = Math.Min(0, values.Min()) - 5;
        double high = Math.Max(10, values.Max()) * 1.12;
        plot.Axes.SetLimits(-1, (groups.Length * groupWidth) - GroupGap, low, high);
        plot.Add.HorizontalLine(0, 1, Colors.Black);
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.FontSize = 12;
        plot.SavePng(path, 1600, 720);
    }

    private static void Whisker(Plot plot, double x, double low, double high)
    {
        var stem = plot.Add.Line(x, low, x, high);
        stem.Color = Colors.Black;
        stem.LineWidth = 1.5f;
        foreach (double y in new[] { low, high })
        {
            var cap = plot.Add.Line(x - 0.15, y, x + 0.15, y);
            cap.Color = Colors.Black;
            cap.LineWidth = 1.5f;
        }
    }
}

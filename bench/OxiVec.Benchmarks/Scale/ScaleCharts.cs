using System.Globalization;
using ScottPlot;

namespace OxiVec.Benchmarks.Scale;

/// <summary>One series of a grouped bar chart: a value (median) and its min–max per group.</summary>
internal sealed record BarSeries(string Name, string Color, IReadOnlyList<Macro.Spread> Values);

/// <summary>The grouped bar chart the scale verbs share (ScottPlot 5, as the other reports).</summary>
internal static class ScaleCharts
{
    public const int Width = 1200;
    public const int Height = 650;

    public static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

    /// <summary>
    /// Bars per group (one per series) with min–max whiskers; on a log10 axis when <paramref name="log"/>
    /// (bars grow from a power of ten below the smallest value). <paramref name="goal"/> draws a dashed level.
    /// </summary>
    public static void GroupedBars(
        string path, string title, string yLabel, IReadOnlyList<string> groups, IReadOnlyList<BarSeries> series,
        bool log, Func<double, string> format, (double Value, string Label)? goal = null)
    {
        Plot plot = Macro.Charts.NewPlot();
        double slot = series.Count + 1.0;
        double[] finite = [.. series.SelectMany(s => s.Values).SelectMany(v => new[] { v.Median, v.Max, v.Min }).Where(v => v > 0 && !double.IsNaN(v))];
        if (goal is { } g0 && g0.Value > 0)
        {
            finite = [.. finite, g0.Value];
        }

        double floor = !log || finite.Length == 0 ? 0 : Math.Floor(Math.Log10(finite.Min()) - 0.3);
        double Y(double v) => log ? Math.Log10(v) : v;
        var bars = new List<Bar>();
        for (int s = 0; s < series.Count; s++)
        {
            Color color = Color.FromHex(series[s].Color);
            for (int gi = 0; gi < groups.Count && gi < series[s].Values.Count; gi++)
            {
                Macro.Spread v = series[s].Values[gi];
                if (!(v.Median > 0))
                {
                    continue;
                }

                bars.Add(new Bar
                {
                    Position = (gi * slot) + s,
                    ValueBase = floor,
                    Value = Y(v.Median),
                    FillColor = color,
                    LineWidth = 0,
                    Size = 0.9,
                    Label = format(v.Median),
                });
                if (v.Max > v.Min && v.Min > 0)
                {
                    var whisker = plot.Add.Line((gi * slot) + s, Y(v.Min), (gi * slot) + s, Y(v.Max));
                    whisker.Color = Colors.Black;
                    whisker.LineWidth = 1.5f;
                }
            }

            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name, FillColor = color });
        }

        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 11;
        if (goal is { } g && g.Value > 0)
        {
            var line = plot.Add.HorizontalLine(Y(g.Value), 2f, Colors.Black, LinePattern.Dashed);
            line.LegendText = g.Label;
        }

        plot.Axes.Bottom.SetTicks(
            [.. groups.Select((_, i) => (i * slot) + ((series.Count - 1) / 2.0))],
            [.. groups]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.SetLimitsX(-1, (groups.Count * slot) - 1);
        if (log)
        {
            double top = finite.Length == 0 ? 1 : Math.Ceiling(Math.Log10(finite.Max()) + 0.4);
            plot.Axes.SetLimitsY(floor, top);
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            for (int e = (int)floor; e <= (int)top; e++)
            {
                ticks.AddMajor(e, format(Math.Pow(10, e)));
            }

            plot.Axes.Left.TickGenerator = ticks;
        }
        else
        {
            double top = finite.Length == 0 ? 1 : finite.Max() * 1.2;
            plot.Axes.SetLimitsY(0, top);
        }

        plot.Title(title);
        plot.YLabel(yLabel);
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.FontSize = 12;
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Milliseconds with a sensible number of decimals.</summary>
    public static string Millis(double ms) =>
        ms >= 100 ? ms.ToString("0", CultureInfo.InvariantCulture) + " ms"
        : ms >= 1 ? ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms"
        : ms.ToString("0.000", CultureInfo.InvariantCulture) + " ms";

    /// <summary>A rate such as 12.3k/s.</summary>
    public static string Rate(double perSecond) =>
        perSecond >= 1e6 ? (perSecond / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M/s"
        : perSecond >= 1e3 ? (perSecond / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "k/s"
        : perSecond.ToString("0", CultureInfo.InvariantCulture) + "/s";
}

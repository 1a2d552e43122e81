using System.Globalization;
using Spectre.Console;

namespace OxiVec.Samples.SemanticSearch;

/// <summary>Shows a <see cref="SampleReport"/>: each query's hits, then recall and timings.</summary>
internal static class ReportView
{
    /// <summary>Writes the report to <paramref name="console"/>.</summary>
    public static void Show(IAnsiConsole console, SampleReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        foreach (QueryAnswer answer in report.Answers)
        {
            var table = new Table { Title = new TableTitle($"\"{Markup.Escape(answer.Query)}\" ({answer.Elapsed.TotalMilliseconds:F1} ms, embedding included)") }
                .AddColumn(new TableColumn("#").RightAligned())
                .AddColumn("package")
                .AddColumn("section")
                .AddColumn(new TableColumn("score").RightAligned())
                .AddColumn("description");
            for (int i = 0; i < answer.Hits.Count; i++)
            {
                Hit hit = answer.Hits[i];
                table.AddRow(
                    (i + 1).ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(hit.Name),
                    Markup.Escape(hit.Section),
                    hit.Score.ToString("F3", CultureInfo.InvariantCulture),
                    Markup.Escape(FirstLine(hit.Description)));
            }

            console.Write(table);
        }

        var figures = new Table { Title = new TableTitle("Recall and timings") }.AddColumn("measure").AddColumn("value");
        figures.AddRow("corpus", Markup.Escape($"{report.CorpusSource}: {report.CorpusSize:N0} packages, {report.Indexed:N0} indexed"));
        figures.AddRow("embedding", $"{report.Embedded:N0} texts in {report.EmbeddingTime.TotalSeconds:F1} s ({report.EmbeddingsPerSecond:N0}/s)");
        figures.AddRow("indexing (HNSW upserts)", $"{report.Indexed:N0} records in {report.IndexingTime.TotalSeconds:F1} s ({report.UpsertsPerSecond:N0}/s)");
        figures.AddRow(
            $"recall@{report.K}, HNSW against exact",
            report.Recall is { } recall ? $"{recall:F3} over {report.RecallQueries:N0} held-out descriptions" : "no recall query");
        figures.AddRow("HNSW search latency", Describe(report.HnswSearch));
        figures.AddRow("exact search latency", Describe(report.ExactSearch));
        console.Write(figures);
    }

    private static string Describe(Latency latency) =>
        string.Create(CultureInfo.InvariantCulture, $"mean {latency.MeanMs:F2} ms, p50 {latency.P50Ms:F2} ms, p99 {latency.P99Ms:F2} ms");

    private static string FirstLine(string text)
    {
        int newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? text : text[..newline];
    }
}

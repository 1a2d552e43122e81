using System.Text.RegularExpressions;
using OxiVec.Samples.SemanticSearch;
using Spectre.Console;

namespace OxiVec.Samples.Tests;

/// <summary>
/// The sample end to end on a small corpus (2,000 package descriptions of this machine's package lists, or of
/// dpkg's status file where apt has no lists): real embeddings, the VectorData provider over an embedded database,
/// recall against exact search. Bounded by the corpus size: about 2,100 texts to embed.
/// </summary>
public sealed partial class SemanticSearchSmokeTests
{
    [Fact]
    public async Task Sample_On2000Descriptions_FindsACompressionToolForCompressFilesQuickly_AndMeasuresRecall()
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
        });
        var options = new SampleOptions { Limit = 2_000, RecallQueries = 100, Queries = ["compress files quickly", "read PDF files"] };

        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(5)); // a hung run fails instead of stalling CI

        SampleReport report = await SemanticSearchCommand.RunAsync(options, dataDirectory: null, console, bound.Token);

        Assert.InRange(report.Indexed, 1, 2_000);
        Assert.Equal(report.Indexed + report.RecallQueries, report.Embedded);
        QueryAnswer compress = report.Answers[0];
        Assert.Equal(10, compress.Hits.Count);
        Assert.True(
            compress.Hits.Any(h => CompressionTool().IsMatch(h.Name) || Compression().IsMatch(h.Description)),
            "no compression tool in the top 10 for 'compress files quickly': " + string.Join(", ", compress.Hits.Select(h => h.Name)));
        Assert.True(compress.Hits.Zip(compress.Hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), "hits are not ordered by score");
        Assert.NotNull(report.Recall);
        Assert.InRange(report.Recall.Value, 0.9, 1.0);
        Assert.Contains("recall@10", output.ToString(), StringComparison.Ordinal);
        Assert.Contains(report.CorpusSource, output.ToString(), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^(gzip|xz-utils|zstd|lz4|pigz|bzip2|pbzip2|lzop|lzip|plzip|pixz|brotli|p7zip(-full)?|7zip|zip|ncompress)$")]
    private static partial Regex CompressionTool();

    [GeneratedRegex(@"compress", RegexOptions.IgnoreCase)]
    private static partial Regex Compression();
}

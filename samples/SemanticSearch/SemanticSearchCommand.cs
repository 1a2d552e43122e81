using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.VectorData;
using OxiVec.Samples.SemanticSearch.Corpus;
using OxiVec.Samples.SemanticSearch.Embeddings;
using OxiVec.Storage;
using OxiVec.VectorData;
using OxiVec.Wal;
using Spectre.Console;

namespace OxiVec.Samples.SemanticSearch;

/// <summary>
/// The sample's command line, and <see cref="RunAsync"/>: load the corpus and the model, open an OxiVec database,
/// run the sample through the Microsoft.Extensions.VectorData provider, show the report.
/// </summary>
internal static class SemanticSearchCommand
{
    /// <summary>The collection the packages go into.</summary>
    public const string CollectionName = "debian-packages";

    /// <summary>The root command and its options.</summary>
    public static RootCommand Create()
    {
        Option<int?> limit = new("--limit") { Description = "Packages to index, spread evenly over the corpus (default: all).", HelpName = "N" };
        Option<int> recallQueries = new("--recall-queries")
        {
            Description = "Held-out package descriptions searched to measure recall@k.",
            DefaultValueFactory = _ => 200,
            HelpName = "N",
        };
        Option<string[]> queries = new("--query") { Description = "A query to answer (repeatable; replaces the built-in ones).", HelpName = "TEXT" };
        Option<int> top = new("--top") { Description = "Hits per query, and the k of recall@k.", DefaultValueFactory = _ => 10, HelpName = "K" };
        Option<string?> corpus = new("--corpus")
        {
            Description = "A Debian control file (a Packages list or a dpkg status file) instead of apt-cache dumpavail.",
            HelpName = "FILE",
        };
        Option<string?> data = new("--data")
        {
            Description = "The database directory, kept afterwards; its collection debian-packages is rebuilt (default: a temporary directory, removed at the end).",
            HelpName = "DIR",
        };

        var command = new RootCommand(
            "Semantic search over Debian's package descriptions with all-MiniLM-L6-v2 embeddings, computed locally, " +
            "indexed in OxiVec through Microsoft.Extensions.VectorData; reports recall@k of HNSW against exact search.")
        {
            limit, recallQueries, queries, top, corpus, data,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string[]? asked = parse.GetValue(queries);
            if (parse.GetValue(limit) is <= 0 || parse.GetValue(recallQueries) < 0 || parse.GetValue(top) <= 0)
            {
                await Console.Error.WriteLineAsync("--limit and --top must be positive, --recall-queries not negative.").ConfigureAwait(false);
                return 1;
            }

            var options = new SampleOptions
            {
                Limit = parse.GetValue(limit),
                RecallQueries = parse.GetValue(recallQueries),
                Queries = asked is { Length: > 0 } ? asked : SampleOptions.DefaultQueries,
                Top = parse.GetValue(top),
                CorpusFile = parse.GetValue(corpus),
            };
            await RunAsync(options, parse.GetValue(data), AnsiConsole.Console, cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>Runs the sample and shows its report.</summary>
    /// <param name="options">What to do.</param>
    /// <param name="dataDirectory">The database directory, or null for a temporary one removed at the end.</param>
    /// <param name="console">Where progress and results go.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<SampleReport> RunAsync(
        SampleOptions options, string? dataDirectory, IAnsiConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        DebianCorpus corpus = await DebianCorpus.LoadAsync(options.CorpusFile, cancellationToken).ConfigureAwait(false);

        var loading = Stopwatch.StartNew();
        using var generator = new MiniLmEmbeddingGenerator(options.EmbeddingBatchSize);
        console.MarkupLineInterpolated($"Model: {MiniLmEmbeddingGenerator.ModelId} ({MiniLmEmbeddingGenerator.Dimensions} dimensions, ONNX Runtime on the CPU), loaded in {loading.Elapsed.TotalSeconds:F1} s.");

        string directory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "oxivec-semantic-search-" + Guid.NewGuid().ToString("n")[..12]);
        try
        {
            // HighThroughput: commits reach the operating system at once and the disk within a second, enough for a
            // collection this sample rebuilds from the package lists anyway.
            using (var database = VectorDatabase.Open(directory, new VectorDatabaseOptions { Wal = WalConfig.HighThroughput }))
            using (VectorStore store = new OxiVecVectorStore(database, new OxiVecVectorStoreOptions { EmbeddingGenerator = generator }))
            using (VectorStoreCollection<string, PackageRecord> collection = store.GetCollection<string, PackageRecord>(CollectionName))
            {
                console.MarkupLineInterpolated($"Database: {directory}");
                SampleReport report = await new SemanticSearchRun(options, generator, collection, console)
                    .RunAsync(corpus, cancellationToken).ConfigureAwait(false);
                ReportView.Show(console, report);
                return report;
            }
        }
        finally
        {
            if (dataDirectory is null && Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}

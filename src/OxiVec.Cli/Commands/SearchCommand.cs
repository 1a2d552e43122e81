using System.CommandLine;
using OxiVec.Cli.Data;
using OxiVec.Cli.Output;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec search --data DIR --collection NAME --queries F [-k 10] [--ef N] [--exact] [--filter EXPR]</c>: one JSON line
/// <c>{"ids": [...], "scores": [...]}</c> per query, best first, in the order of the queries file (.fvecs, .npy or
/// .jsonl with a "vector" per line). Every query is checked before the first search, so a bad file prints nothing.
/// </summary>
internal static class SearchCommand
{
    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string?> walOption = StoreOptions.Wal();
        Option<string> collectionOption = StoreOptions.Collection("The collection to search.");
        Option<string> queriesOption = new("--queries")
        {
            Description = "The query vectors: .fvecs, .npy (2-D '<f4') or .jsonl ({\"vector\": [...]} per line; \"id\" and \"metadata\" are ignored).",
            Required = true,
            HelpName = "F",
        };
        Option<int> kOption = new("-k", "--k") { Description = "Results per query.", DefaultValueFactory = _ => 10, HelpName = "K" };
        Option<int?> efOption = new("--ef") { Description = "HNSW beam width for these searches (default: the collection's efSearch).", HelpName = "N" };
        Option<bool> exactOption = new("--exact") { Description = "Exact brute-force search instead of the index." };
        Option<string?> filterOption = new("--filter")
        {
            Description = "Only records whose metadata matches, e.g. 'group = 3 and (i >= 100 or tag in [\"a\", \"b\"]) and not done = true'.",
            HelpName = "EXPR",
        };
        var command = new Command(
            "search",
            "Search a collection with each vector of a file; prints one JSON line {\"ids\": [...], \"scores\": [...]} per query, best first. " +
            "Scores: cosine similarity or dot product (higher is closer), or Euclidean distance (lower is closer).")
        {
            dataOption, walOption, collectionOption, queriesOption, kOption, efOption, exactOption, filterOption,
        };
        command.SetAction(parse => Run(
            parse.GetValue(dataOption)!, parse.GetValue(walOption), parse.GetValue(collectionOption)!, parse.GetValue(queriesOption)!,
            parse.GetValue(kOption), parse.GetValue(efOption), parse.GetValue(exactOption), parse.GetValue(filterOption)));
        return command;
    }

    private static int Run(string data, string? wal, string collection, string queries, int k, int? ef, bool exact, string? filterText)
    {
        if (k < 1)
        {
            return Cli.Fail(ExitCodes.Usage, $"-k must be at least 1, not {k}.");
        }

        if (ef is < 1)
        {
            return Cli.Fail(ExitCodes.Usage, $"--ef must be at least 1, not {ef}.");
        }

        MetadataFilter? filter = null;
        if (filterText is not null)
        {
            try
            {
                filter = MetadataFilter.Parse(filterText);
            }
            catch (FormatException ex)
            {
                return Cli.Fail(ExitCodes.Usage, $"invalid --filter '{filterText}': {ex.Message}");
            }
        }

        VectorFileReader reader = VectorFileReader.Open(queries, requireIds: false);
        using VectorDatabase database = StoreOptions.Open(data, wal, WalConfig.Default, create: false);
        CollectionInfo info = StoreOptions.RequireCollection(database, collection);
        if (reader.Dimension is { } dimension && dimension != info.Options.Dimension)
        {
            return Cli.Fail(
                ExitCodes.Usage,
                $"{queries}: the queries have dimension {dimension}, but collection '{collection}' has dimension {info.Options.Dimension}.");
        }

        var vectors = new List<float[]>();
        foreach (FileRecord record in reader.Read())
        {
            VectorFileCheck.Check(reader, record, info.Options.Metric);
            vectors.Add(record.Vector);
        }

        var options = new VectorSearchOptions { Filter = filter, Ef = ef, Exact = exact };
        using var stdout = new StdOut();
        using var lines = new JsonLines(stdout.Stream);
        foreach (float[] query in vectors)
        {
            IReadOnlyList<SearchResult> results = database.Search(collection, query, k, options);
            lines.WriteObject(json =>
            {
                json.WriteStartArray("ids");
                foreach (SearchResult result in results)
                {
                    json.WriteStringValue(result.Id);
                }

                json.WriteEndArray();
                json.WriteStartArray("scores");
                foreach (SearchResult result in results)
                {
                    json.WriteNumberValue(result.Score);
                }

                json.WriteEndArray();
            });
        }

        return ExitCodes.Ok;
    }
}

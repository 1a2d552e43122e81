using System.CommandLine;
using OxiVec.Cli.Output;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec export --data DIR --collection NAME</c>: prints every record as a JSON line <c>{"id", "vector", "metadata"}</c>,
/// sorted by id (ordinal), floats with round-trip precision: the output is a .jsonl file <c>import</c> reads back.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string?> walOption = StoreOptions.Wal();
        Option<string> collectionOption = StoreOptions.Collection("The collection to export.");
        var command = new Command(
            "export",
            "Print every record of a collection as JSON lines {\"id\", \"vector\", \"metadata\"}, sorted by id; 'import' reads the output back.")
        {
            dataOption, walOption, collectionOption,
        };
        command.SetAction(parse => Run(parse.GetValue(dataOption)!, parse.GetValue(walOption), parse.GetValue(collectionOption)!));
        return command;
    }

    private static int Run(string data, string? wal, string collection)
    {
        using VectorDatabase database = StoreOptions.Open(data, wal, WalConfig.Default, create: false);
        StoreOptions.RequireCollection(database, collection);
        IReadOnlyList<VectorRecord> records = database.Export(collection);
        using var stdout = new StdOut();
        using var lines = new JsonLines(stdout.Stream);
        foreach (VectorRecord record in records)
        {
            lines.WriteObject(json => RecordJson.Write(json, record));
        }

        return ExitCodes.Ok;
    }
}

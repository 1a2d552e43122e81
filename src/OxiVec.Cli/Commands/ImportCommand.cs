using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OxiVec.Cli.Data;
using OxiVec.Cli.Output;
using OxiVec.Storage;
using OxiVec.Wal;
using Spectre.Console;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec import --data DIR --collection NAME --file F [--batch B] [--upsert] ...</c>: imports a .fvecs, .npy or
/// .jsonl file, creating the collection (with the file's dimension) when it is missing. The whole file is checked
/// before anything is written, so a bad file imports nothing; the records then go in as transactions of B.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string?> walOption = StoreOptions.Wal();
        Option<string> collectionOption = StoreOptions.Collection("The collection (created when missing, with the file's dimension, --metric and --index).");
        Option<string> fileOption = new("--file")
        {
            Description = "The file: .fvecs (ids v{row}), .npy (2-D '<f4', ids v{row}) or .jsonl ({\"id\", \"vector\", \"metadata\"} per line).",
            Required = true,
            HelpName = "F",
        };
        Option<string?> metricOption = StoreOptions.Metric();
        Option<string?> indexOption = StoreOptions.Index();
        Option<int?> mOption = StoreOptions.HnswM();
        Option<int?> efConstructionOption = StoreOptions.EfConstruction();
        Option<int?> efSearchOption = StoreOptions.EfSearch();
        Option<int> batchOption = StoreOptions.Batch(1000, "Records per transaction (each is written all or nothing).");
        Option<bool> upsertOption = new("--upsert") { Description = "Replace records whose id exists (otherwise an existing id is an error)." };
        Option<int> syncOption = new("--sync-interval-ms")
        {
            Description = "WAL fsync interval (0: fsync every transaction before acknowledging it).",
            DefaultValueFactory = _ => WalConfig.Default.SyncIntervalMs,
            HelpName = "S",
        };
        Option<int?> keepOption = RetentionOption.Create();
        var command = new Command(
            "import",
            "Import vectors from a .fvecs, .npy or .jsonl file, creating the collection when missing. The whole file is checked first: a bad file imports nothing.")
        {
            dataOption, walOption, collectionOption, fileOption, metricOption, indexOption, mOption, efConstructionOption, efSearchOption,
            batchOption, upsertOption, syncOption, keepOption,
        };
        command.SetAction((parse, cancellationToken) => Cli.RunInBackground(() => Run(
            parse.GetValue(dataOption)!, parse.GetValue(walOption), parse.GetValue(collectionOption)!, parse.GetValue(fileOption)!,
            new CollectionRequest(
                parse.GetValue(metricOption), parse.GetValue(indexOption), parse.GetValue(mOption),
                parse.GetValue(efConstructionOption), parse.GetValue(efSearchOption)),
            parse.GetValue(batchOption), parse.GetValue(upsertOption), parse.GetValue(syncOption), parse.GetValue(keepOption), cancellationToken)));
        return command;
    }

    private static int Run(
        string data, string? wal, string collection, string file, CollectionRequest request, int batch, bool upsert, int syncIntervalMs,
        int? keepLast, CancellationToken cancellationToken)
    {
        if (batch is < 1 or > 1_000_000)
        {
            return Cli.Fail(ExitCodes.Usage, $"--batch must be between 1 and 1000000, not {batch}.");
        }

        if (syncIntervalMs is < 0 or > 3_600_000)
        {
            return Cli.Fail(ExitCodes.Usage, $"--sync-interval-ms must be between 0 and 3600000, not {syncIntervalMs}.");
        }

        if (RetentionOption.Check(keepLast) is { } keepError)
        {
            return Cli.Fail(ExitCodes.Usage, keepError);
        }

        VectorFileReader reader = VectorFileReader.Open(file, requireIds: true);

        // The automatic checkpoints delete nothing unless --keep-last says so: the CLI does not know the application's retention.
        WalConfig config = WalConfig.Default with { SyncIntervalMs = syncIntervalMs, RetentionPolicy = RetentionOption.Policy(keepLast) };
        using VectorDatabase database = StoreOptions.Open(data, wal, config, create: true);
        if (reader.Dimension is not { } dimension)
        {
            if (database.CollectionExists(collection))
            {
                Console.Out.WriteLine($"imported 0 records from '{file}' into '{collection}': the file holds no vectors");
                return ExitCodes.Ok;
            }

            return Cli.Fail(ExitCodes.Usage, $"{file}: the file holds no vectors, so there is no dimension to create collection '{collection}' with.");
        }

        PlannedCollection target = request.Plan(database, collection, dimension, $"'{file}' has dimension {dimension}");
        Func<string, bool>? exists = target.Exists && !upsert ? id => database.Get(collection, id) is not null : null;
        var clock = Stopwatch.StartNew();
        (long checkedCount, long imported, Exception? failure, long failedAt) = ProgressDisplay.Run(show: true, progress =>
        {
            ProgressDisplay.Bar checking = progress.Add($"Checking {Path.GetFileName(file)}", reader.Length);
            long count;
            try
            {
                count = VectorFileCheck.CheckAll(reader, target.Options.Metric, exists, checking.Set, collection, cancellationToken);
            }
            catch (OperationCanceledException ex)
            {
                checking.Stop();
                return (0L, 0L, (Exception?)ex, -1L);
            }

            checking.Complete();
            target.CreateIfMissing(database);
            ProgressDisplay.Bar importing = progress.Add($"Importing into {collection}", count);
            long written = 0;
            long position = -1;
            try
            {
                var pending = new List<FileRecord>(Math.Min(batch, 65_536));
                foreach (FileRecord record in reader.Read())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    pending.Add(record);
                    if (pending.Count == batch)
                    {
                        position = pending[0].Position;
                        Write(database, collection, pending, upsert);
                        written += pending.Count;
                        importing.Advance(pending.Count);
                        pending.Clear();
                        position = -1; // a failure now is the reader's, and its message says where
                    }
                }

                if (pending.Count > 0)
                {
                    position = pending[0].Position;
                    Write(database, collection, pending, upsert);
                    written += pending.Count;
                    importing.Advance(pending.Count);
                }

                importing.Complete();
                return (count, written, (Exception?)null, -1L);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                importing.Stop();
                return (count, written, ex, position);
            }
        });
        clock.Stop();

        if (failure is not null)
        {
            // The engine refusing a record the check accepted (the file changed meanwhile) is bad input too.
            int code = failure is ArgumentException or InvalidOperationException or KeyNotFoundException
                ? ExitCodes.Usage
                : OxiVecCli.ExitCodeOf(failure);
            if (checkedCount == 0)
            {
                return Cli.Fail(code, $"import of '{file}' interrupted while checking the file; nothing was imported.");
            }

            string what = failure is OperationCanceledException ? "interrupted" : failedAt < 0
                ? $"failed: {failure.Message.TrimEnd('.')}"
                : $"failed writing the batch that starts at {reader.Where(failedAt)}: {failure.Message.TrimEnd('.')}";
            return Cli.Fail(
                code,
                $"import of '{file}' {what}. {imported} of its {checkedCount} records (the first {imported} in file order) were imported and are durable; the rest were not.");
        }

        double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        if (Cli.IsInteractive)
        {
            AnsiConsole.MarkupLine(
                $"[bold green]✔[/] Imported [bold]{imported:N0}[/] records from {Markup.Escape(file)} into [bold]{Markup.Escape(collection)}[/] " +
                $"({Markup.Escape(target.Describe())}) in {seconds:F2} s: [aqua]{imported / seconds:N0} records/s[/].");
        }
        else
        {
            Console.Out.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"imported {imported} records from '{file}' into '{collection}' in {seconds:F2} s ({imported / seconds:F0} records/s)"));
        }

        return ExitCodes.Ok;
    }

    private static void Write(VectorDatabase database, string collection, List<FileRecord> records, bool upsert)
    {
        if (records.Count == 1)
        {
            FileRecord r = records[0];
            if (upsert)
            {
                database.Upsert(collection, r.Id!, r.Vector, r.Metadata);
            }
            else
            {
                database.Insert(collection, r.Id!, r.Vector, r.Metadata);
            }

            return;
        }

        using VectorTransaction tx = database.BeginTransaction();
        foreach (FileRecord r in records)
        {
            if (upsert)
            {
                tx.Upsert(collection, r.Id!, r.Vector, r.Metadata);
            }
            else
            {
                tx.Insert(collection, r.Id!, r.Vector, r.Metadata);
            }
        }

        tx.Commit();
    }
}

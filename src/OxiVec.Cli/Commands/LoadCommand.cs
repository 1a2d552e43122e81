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
/// <c>oxivec load --data DIR --collection NAME --dim D --count N [--start I] [--batch B] ...</c>: writes the
/// deterministic records <c>v{start}</c>..<c>v{start+count-1}</c> (see <see cref="DeterministicVectors"/>), creating the
/// collection when it is missing. Each record is one insert, or each batch of B one transaction (all or nothing).
/// With <c>--print-acks</c> it prints <c>ack v{i}</c> once record i (or its whole batch) is acknowledged.
/// </summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string?> walOption = StoreOptions.Wal();
        Option<string> collectionOption = StoreOptions.Collection("The collection (created when missing, with --dim, --metric and --index).");
        Option<int> dimOption = new("--dim") { Description = "Vector dimension (1 to 65536).", Required = true, HelpName = "D" };
        Option<long> countOption = new("--count") { Description = "How many records to write.", Required = true, HelpName = "N" };
        Option<long> startOption = new("--start")
        {
            Description = "Index of the first record (ids v{start}.. v{start+count-1}); to continue an earlier load.",
            DefaultValueFactory = _ => 0,
            HelpName = "I",
        };
        Option<int> batchOption = StoreOptions.Batch(1, "Records per write: 1 (default) inserts one by one; B > 1 commits each B records as one atomic transaction.");
        Option<string?> metricOption = StoreOptions.Metric();
        Option<string?> indexOption = StoreOptions.Index();
        Option<int?> mOption = StoreOptions.HnswM();
        Option<int?> efConstructionOption = StoreOptions.EfConstruction();
        Option<int?> efSearchOption = StoreOptions.EfSearch();
        Option<int> syncOption = new("--sync-interval-ms")
        {
            Description = "WAL fsync interval: 0 fsyncs every write before acknowledging it; S > 0 acknowledges once the OS has the write and fsyncs every S ms (a process crash loses nothing, a power loss at most S ms).",
            DefaultValueFactory = _ => WalConfig.Default.SyncIntervalMs,
            HelpName = "S",
        };
        Option<int> checkpointOption = new("--checkpoint-interval")
        {
            Description = "Operations between automatic checkpoints (WalConfig.CheckpointInterval).",
            DefaultValueFactory = _ => WalConfig.Default.CheckpointInterval,
            HelpName = "C",
        };
        Option<long> seedOption = new("--seed") { Description = "Seed of the deterministic vectors.", DefaultValueFactory = _ => 42, HelpName = "X" };
        Option<bool> acksOption = new("--print-acks")
        {
            Description = "Print 'ack v{i}' on stdout, flushed, once record i (or its whole batch) is acknowledged; no progress bar.",
        };
        Option<int?> keepOption = RetentionOption.Create();
        var command = new Command(
            "load",
            "Write deterministic pseudo-random records v{i} (metadata {\"i\": i, \"group\": i % 10}), creating the collection when missing. " +
            "The same --seed and index always give the same vector.")
        {
            dataOption, walOption, collectionOption, dimOption, countOption, startOption, batchOption, metricOption, indexOption,
            mOption, efConstructionOption, efSearchOption, syncOption, checkpointOption, seedOption, acksOption, keepOption,
        };
        command.SetAction((parse, cancellationToken) => Cli.RunInBackground(() => Run(
            new Settings(
                parse.GetValue(dataOption)!, parse.GetValue(walOption), parse.GetValue(collectionOption)!, parse.GetValue(dimOption),
                parse.GetValue(countOption), parse.GetValue(startOption), parse.GetValue(batchOption),
                new CollectionRequest(
                    parse.GetValue(metricOption), parse.GetValue(indexOption), parse.GetValue(mOption),
                    parse.GetValue(efConstructionOption), parse.GetValue(efSearchOption)),
                parse.GetValue(syncOption), parse.GetValue(checkpointOption), parse.GetValue(seedOption), parse.GetValue(acksOption),
                parse.GetValue(keepOption)),
            cancellationToken)));
        return command;
    }

    /// <summary>The arguments of one load.</summary>
    public sealed record Settings(
        string Data, string? Wal, string Collection, int Dimension, long Count, long Start, int Batch, CollectionRequest Request,
        int SyncIntervalMs, int CheckpointInterval, long Seed, bool PrintAcks, int? KeepLast = null)
    {
        /// <summary>The command line (after the executable) that runs this load.</summary>
        public IReadOnlyList<string> Arguments()
        {
            List<string> args =
            [
                "load", "--data", Data, "--collection", Collection, "--dim", Str(Dimension), "--count", Str(Count), "--start", Str(Start),
                "--batch", Str(Batch), "--sync-interval-ms", Str(SyncIntervalMs), "--checkpoint-interval", Str(CheckpointInterval), "--seed", Str(Seed),
            ];
            if (Wal is not null)
            {
                args.AddRange(["--wal", Wal]);
            }

            if (Request.Metric is not null)
            {
                args.AddRange(["--metric", Request.Metric]);
            }

            if (Request.Index is not null)
            {
                args.AddRange(["--index", Request.Index]);
            }

            foreach ((string option, int? value) in (ReadOnlySpan<(string, int?)>)[("--hnsw-m", Request.M), ("--ef-construction", Request.EfConstruction), ("--ef-search", Request.EfSearch)])
            {
                if (value is { } given)
                {
                    args.AddRange([option, Str(given)]);
                }
            }

            if (PrintAcks)
            {
                args.Add("--print-acks");
            }

            if (KeepLast is { } keep)
            {
                args.AddRange(["--keep-last", Str(keep)]);
            }

            return args;
        }

        private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
    }

    private static int Run(Settings s, CancellationToken cancellationToken)
    {
        string? invalid =
            s.Dimension is < 1 or > 65_536 ? $"--dim must be between 1 and 65536, not {s.Dimension}" :
            s.Count < 0 ? $"--count must be 0 or more, not {s.Count}" :
            s.Start < 0 ? $"--start must be 0 or more, not {s.Start}" :
            s.Count > long.MaxValue - s.Start ? "--start plus --count is too large" :
            s.Batch is < 1 or > 1_000_000 ? $"--batch must be between 1 and 1000000, not {s.Batch}" :
            s.SyncIntervalMs is < 0 or > 3_600_000 ? $"--sync-interval-ms must be between 0 and 3600000, not {s.SyncIntervalMs}" :
            s.CheckpointInterval < 1 ? $"--checkpoint-interval must be at least 1, not {s.CheckpointInterval}" : null;
        if (invalid is not null)
        {
            return Cli.Fail(ExitCodes.Usage, $"{invalid}.");
        }

        if (RetentionOption.Check(s.KeepLast) is { } keepError)
        {
            return Cli.Fail(ExitCodes.Usage, keepError);
        }

        // The automatic checkpoints delete nothing unless --keep-last says so: the CLI does not know the application's retention.
        var config = WalConfig.Default with
        {
            SyncIntervalMs = s.SyncIntervalMs,
            CheckpointInterval = s.CheckpointInterval,
            RetentionPolicy = RetentionOption.Policy(s.KeepLast),
        };
        using VectorDatabase database = StoreOptions.Open(s.Data, s.Wal, config, create: true);
        PlannedCollection target = s.Request.Plan(database, s.Collection, s.Dimension, $"--dim is {s.Dimension}");
        bool created = target.CreateIfMissing(database);
        using AckWriter? acks = s.PrintAcks ? new AckWriter(Console.OpenStandardOutput()) : null;

        var clock = Stopwatch.StartNew();
        long end = s.Start + s.Count;
        long next = s.Start;
        Exception? failure = null;
        ProgressDisplay.Run(!s.PrintAcks, progress =>
        {
            ProgressDisplay.Bar bar = progress.Add($"Loading {s.Collection}", s.Count);
            try
            {
                while (next < end)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int n = (int)Math.Min(s.Batch, end - next);
                    Write(database, s, next, n);
                    acks?.Range("ack v", next, n);
                    next += n;
                    bar.Advance(n);
                }

                bar.Complete();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                bar.Stop();
                failure = ex;
            }

            return 0;
        });
        clock.Stop();

        long written = next - s.Start;
        if (failure is not null)
        {
            string before = written == 0
                ? "nothing was loaded before it"
                : $"{written} records (v{s.Start}..v{next - 1}) were loaded and acknowledged before it";
            if (failure is OperationCanceledException)
            {
                return Cli.Fail(ExitCodes.Interrupted, $"interrupted: {before}; rerun with --start {next} --count {end - next} to continue.");
            }

            if (failure is InvalidOperationException)
            {
                long batchEnd = Math.Min(next + s.Batch, end);
                long existing = next;
                while (existing < batchEnd && database.Get(s.Collection, DeterministicVectors.Id(existing)) is null)
                {
                    existing++;
                }

                if (existing < batchEnd)
                {
                    return Cli.Fail(
                        ExitCodes.Usage,
                        $"record 'v{existing}' already exists in collection '{s.Collection}'; {(s.Batch > 1 ? "nothing of its batch was written; " : "")}" +
                        $"{before}. Use --start to load ids that do not exist yet.");
                }
            }

            return Cli.Fail(
                OxiVecCli.ExitCodeOf(failure),
                $"load failed writing v{next}{(s.Batch > 1 ? $"..v{Math.Min(next + s.Batch, end) - 1}" : "")} ({failure.GetType().Name}): {failure.Message.TrimEnd('.')}; {before}.");
        }

        double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        string summary = string.Create(
            CultureInfo.InvariantCulture,
            $"loaded {written} records into '{s.Collection}' in {seconds:F2} s ({written / seconds:F0} records/s)");
        if (Cli.IsInteractive && !s.PrintAcks)
        {
            if (created)
            {
                AnsiConsole.MarkupLine($"[grey]Created collection '{Markup.Escape(s.Collection)}': {Markup.Escape(target.Describe())}.[/]");
            }

            AnsiConsole.MarkupLine(
                $"[bold green]✔[/] Loaded [bold]{written:N0}[/] records{(written > 0 ? $" (v{s.Start}..v{end - 1})" : "")} into [bold]{Markup.Escape(s.Collection)}[/] " +
                $"in {seconds:F2} s: [aqua]{written / seconds:N0} records/s[/]; the collection holds {database.Count(s.Collection):N0}.");
        }
        else
        {
            Console.Out.WriteLine(summary);
            Console.Out.Flush();
        }

        return ExitCodes.Ok;
    }

    /// <summary>Writes records <paramref name="first"/>.. as one insert, or as one transaction when the batch is larger.</summary>
    private static void Write(VectorDatabase database, Settings s, long first, int count)
    {
        if (s.Batch == 1)
        {
            database.Insert(s.Collection, DeterministicVectors.Id(first), DeterministicVectors.Vector(s.Seed, first, s.Dimension), DeterministicVectors.Metadata(first));
            return;
        }

        using VectorTransaction tx = database.BeginTransaction();
        for (long i = first; i < first + count; i++)
        {
            tx.Insert(s.Collection, DeterministicVectors.Id(i), DeterministicVectors.Vector(s.Seed, i, s.Dimension), DeterministicVectors.Metadata(i));
        }

        tx.Commit();
    }
}

using System.CommandLine;
using System.Globalization;
using OxiVec.Cli;
using OxiVec.Cli.Commands;
using OxiVec.Cli.Output;
using OxiVec.Storage;
using OxiVec.Wal;
using CliConventions = OxiVec.Cli.Cli;

namespace OxiVec.CrashWorker;

/// <summary>
/// <c>OxiVec.CrashWorker crash-store-worker --data DIR [--seed S] [--dim D] [--sync-interval-ms S] [--checkpoint-interval C]
/// [--transactions N]</c>: the victim of the
/// database crash tests. Opens the database (creating collections <c>a</c> and <c>b</c> when missing), finds the last
/// committed transaction of its workload (<see cref="StoreWorkload"/>), prints <c>ready {n}</c>, then commits the next
/// transactions one after the other, each spanning both collections, printing <c>ack {n}</c> after each commit
/// returned, until it is killed.
/// </summary>
internal static class CrashStoreWorkerCommand
{
    public const string Name = "crash-store-worker";

    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<long> seedOption = new("--seed") { Description = "Seed of the workload.", DefaultValueFactory = _ => 1 };
        Option<int> dimOption = new("--dim") { Description = "Vector dimension.", DefaultValueFactory = _ => 8, HelpName = "D" };
        Option<int> syncOption = new("--sync-interval-ms") { Description = "WAL fsync interval (0: fsync every commit).", DefaultValueFactory = _ => 0, HelpName = "S" };
        Option<int> checkpointOption = new("--checkpoint-interval")
        {
            Description = "Operations between automatic checkpoints (small: the kills also hit checkpoints).",
            DefaultValueFactory = _ => WalConfig.Default.CheckpointInterval,
            HelpName = "C",
        };
        Option<long> limitOption = new("--transactions")
        {
            Description = "Stop after this many transactions (0: run until killed).",
            DefaultValueFactory = _ => 0,
            HelpName = "N",
        };
        var command = new Command(Name, "Commit transactions spanning two collections until killed, printing 'ack <n>' after each commit (for crash tests).");
        command.Options.Add(dataOption);
        command.Options.Add(seedOption);
        command.Options.Add(dimOption);
        command.Options.Add(syncOption);
        command.Options.Add(checkpointOption);
        command.Options.Add(limitOption);
        command.SetAction((parse, cancellationToken) => CliConventions.RunInBackground(() => Run(
            parse.GetValue(dataOption)!, parse.GetValue(seedOption), parse.GetValue(dimOption), parse.GetValue(syncOption),
            parse.GetValue(checkpointOption), parse.GetValue(limitOption), cancellationToken)));
        return command;
    }

    private static int Run(
        string data, long seed, int dimension, int syncIntervalMs, int checkpointInterval, long limit, CancellationToken cancellationToken)
    {
        if (dimension is < 1 or > 4096 || syncIntervalMs < 0 || checkpointInterval < 1 || limit < 0)
        {
            return CliConventions.Fail(ExitCodes.Usage, "--dim must be 1 to 4096, --checkpoint-interval at least 1, --sync-interval-ms and --transactions 0 or more.");
        }

        var config = WalConfig.Default with { SyncIntervalMs = syncIntervalMs, CheckpointInterval = checkpointInterval };
        using VectorDatabase database = VectorDatabase.Open(data, new VectorDatabaseOptions { Wal = config });
        if (!database.CollectionExists(StoreWorkload.A))
        {
            database.CreateCollection(StoreWorkload.A, StoreWorkload.OptionsA(dimension));
        }

        if (!database.CollectionExists(StoreWorkload.B))
        {
            database.CreateCollection(StoreWorkload.B, StoreWorkload.OptionsB(dimension));
        }

        long last = StoreWorkload.LastTransaction(database.Export(StoreWorkload.A).Select(r => r.Id[StoreWorkload.A.Length..]));
        using var acks = new AckWriter(Console.OpenStandardOutput());
        acks.Line(string.Create(CultureInfo.InvariantCulture, $"ready {last}"));
        for (long n = last + 1; limit == 0 || n <= limit; n++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            List<StoreWorkload.Step> steps = StoreWorkload.Transaction(seed, n, s => database.Get(StoreWorkload.A, StoreWorkload.A + s) is not null);
            using (VectorTransaction tx = database.BeginTransaction())
            {
                foreach (StoreWorkload.Step step in steps)
                {
                    Stage(tx, StoreWorkload.A, step, seed, n, dimension);
                    Stage(tx, StoreWorkload.B, step, seed, n, dimension);
                }

                tx.Commit();
            }

            acks.Line(string.Create(CultureInfo.InvariantCulture, $"ack {n}"));
        }

        return ExitCodes.Ok;
    }

    private static void Stage(VectorTransaction tx, string collection, StoreWorkload.Step step, long seed, long n, int dimension)
    {
        string id = collection + step.Suffix;
        switch (step.Kind)
        {
            case StoreWorkload.Kind.Delete:
                tx.Delete(collection, id);
                break;
            case StoreWorkload.Kind.Insert:
                tx.Insert(collection, id, StoreWorkload.Vector(seed, n, id, dimension), StoreWorkload.Metadata(n));
                break;
            case StoreWorkload.Kind.Upsert:
                tx.Upsert(collection, id, StoreWorkload.Vector(seed, n, id, dimension), StoreWorkload.Metadata(n));
                break;
            case StoreWorkload.Kind.Update:
                tx.Update(collection, id, StoreWorkload.Vector(seed, n, id, dimension), StoreWorkload.Metadata(n));
                break;
        }
    }
}

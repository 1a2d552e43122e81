using System.CommandLine;
using System.Globalization;
using OxiVec.Cli.Crash;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec crash-torture-worker --data DIR --from N [--seed S] [--checkpoint-interval C] [--segment-size BYTES]
/// [--operations K]</c> (hidden): the victim of the torture test. Opens the database with fsync per commit, 64 KiB
/// segments, <c>KeepLast(2)</c> retention and compression of every sealed segment at each checkpoint, then runs
/// operations N, N+1, ... of <see cref="TortureWorkload"/> one after the other until killed.
/// </summary>
/// <remarks>
/// Stdout, each line written and flushed with one write call: <c>opening</c> before the database is opened;
/// <c>ready {N-1}</c> once it is open; then per operation <c>begin {n} {kind}</c> before it and
/// <c>ack {n} {description}</c> after it returned. The caller says where to start (<c>--from</c>): the worker cannot
/// tell from the data whether the last operation was a checkpoint or a delete. The state it draws operations from is
/// read from the database itself.
/// </remarks>
internal static class CrashTortureWorkerCommand
{
    public const string Name = "crash-torture-worker";

    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<long> fromOption = new("--from") { Description = "The first operation to run (the database holds operations 1 .. N-1).", Required = true, HelpName = "N" };
        Option<long> seedOption = new("--seed") { Description = "Seed of the workload.", DefaultValueFactory = _ => 1 };
        Option<int> checkpointOption = new("--checkpoint-interval")
        {
            Description = "Operations between automatic (background) checkpoints, besides the workload's own.",
            DefaultValueFactory = _ => 1_000_000,
            HelpName = "C",
        };
        Option<long> segmentOption = new("--segment-size")
        {
            Description = "WAL segment size in bytes.",
            DefaultValueFactory = _ => WalConfig.MinSegmentSizeBytes,
            HelpName = "BYTES",
        };
        Option<long> limitOption = new("--operations") { Description = "Stop after this many operations (0: run until killed).", DefaultValueFactory = _ => 0, HelpName = "K" };
        var command = new Command(Name, "Run the torture workload (writes, transactions, checkpoints, drops) until killed, printing 'ack <n> ...' after each operation (for crash tests).")
        {
            Hidden = true,
        };
        command.Options.Add(dataOption);
        command.Options.Add(fromOption);
        command.Options.Add(seedOption);
        command.Options.Add(checkpointOption);
        command.Options.Add(segmentOption);
        command.Options.Add(limitOption);
        command.SetAction((parse, cancellationToken) => Cli.RunInBackground(() => Run(
            parse.GetValue(dataOption)!, parse.GetValue(fromOption), parse.GetValue(seedOption), parse.GetValue(checkpointOption),
            parse.GetValue(segmentOption), parse.GetValue(limitOption), cancellationToken)));
        return command;
    }

    private static int Run(string data, long from, long seed, int checkpointInterval, long segmentSize, long limit, CancellationToken cancellationToken)
    {
        if (from < 1 || checkpointInterval < 1 || limit < 0 || segmentSize is < WalConfig.MinSegmentSizeBytes or > WalConfig.MaxSegmentSizeBytes)
        {
            return Cli.Fail(ExitCodes.Usage, "--from and --checkpoint-interval must be 1 or more, --operations 0 or more, --segment-size 64 KiB to 1 GiB.");
        }

        using var acks = new AckWriter(Console.OpenStandardOutput());
        acks.Line("opening");
        using VectorDatabase database = VectorDatabase.Open(
            data, new VectorDatabaseOptions { Wal = TortureWorkload.WalConfig(segmentSize, checkpointInterval) });
        TortureWorkload.State state = Read(database);
        acks.Line(string.Create(CultureInfo.InvariantCulture, $"ready {from - 1}"));
        for (long n = from; limit == 0 || n < from + limit; n++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TortureWorkload.Op op = TortureWorkload.Next(seed, n, state);
            acks.Line(string.Create(CultureInfo.InvariantCulture, $"begin {n} {op.KindName}"));
            Execute(database, seed, op);
            state.Apply(op);
            acks.Line(string.Create(CultureInfo.InvariantCulture, $"ack {n} {op.Describe()}"));
        }

        return ExitCodes.Ok;
    }

    /// <summary>The workload's view of the database: its collections and, per record, the operation that wrote it (metadata "op").</summary>
    public static TortureWorkload.State Read(VectorDatabase database)
    {
        var state = new TortureWorkload.State();
        foreach (CollectionInfo collection in database.ListCollections())
        {
            state.AddCollection(collection.Name);
            foreach (VectorRecord record in database.Export(collection.Name))
            {
                state.Set(collection.Name, record.Id, record.Metadata["op"].AsLong);
            }
        }

        return state;
    }

    private static void Execute(VectorDatabase database, long seed, TortureWorkload.Op op)
    {
        switch (op.Kind)
        {
            case TortureWorkload.OpKind.Checkpoint:
                database.Checkpoint();
                break;
            case TortureWorkload.OpKind.Create:
                database.CreateCollection(op.Collection!, TortureWorkload.Options(op.Collection!));
                break;
            case TortureWorkload.OpKind.Drop:
                if (!database.DropCollection(op.Collection!))
                {
                    throw new InvalidOperationException($"operation {op.N}: collection {op.Collection} to drop does not exist.");
                }

                break;
            case TortureWorkload.OpKind.Single:
                Single(database, seed, op.N, op.Writes[0]);
                break;
            case TortureWorkload.OpKind.Batch:
                database.InsertBatch(op.Writes[0].Collection, op.Writes.Select(w => new VectorRecord(
                    w.Id, TortureWorkload.Vector(seed, op.N, w.Collection, w.Id), TortureWorkload.Metadata(op.N, w.Collection, w.Id))));
                break;
            default:
                using (VectorTransaction tx = database.BeginTransaction())
                {
                    foreach (TortureWorkload.Write w in op.Writes)
                    {
                        Stage(tx, seed, op.N, w);
                    }

                    tx.Commit();
                }

                break;
        }
    }

    private static void Single(VectorDatabase database, long seed, long n, TortureWorkload.Write w)
    {
        float[] vector = TortureWorkload.Vector(seed, n, w.Collection, w.Id);
        switch (w.Kind)
        {
            case TortureWorkload.WriteKind.Insert:
                database.Insert(w.Collection, w.Id, vector, TortureWorkload.Metadata(n, w.Collection, w.Id));
                break;
            case TortureWorkload.WriteKind.Upsert:
                database.Upsert(w.Collection, w.Id, vector, TortureWorkload.Metadata(n, w.Collection, w.Id));
                break;
            case TortureWorkload.WriteKind.Update:
                database.Update(w.Collection, w.Id, vector, TortureWorkload.Metadata(n, w.Collection, w.Id));
                break;
            default:
                if (!database.Delete(w.Collection, w.Id))
                {
                    throw new InvalidOperationException($"operation {n}: {w.Collection}/{w.Id} to delete does not exist.");
                }

                break;
        }
    }

    private static void Stage(VectorTransaction tx, long seed, long n, TortureWorkload.Write w)
    {
        switch (w.Kind)
        {
            case TortureWorkload.WriteKind.Insert:
                tx.Insert(w.Collection, w.Id, TortureWorkload.Vector(seed, n, w.Collection, w.Id), TortureWorkload.Metadata(n, w.Collection, w.Id));
                break;
            case TortureWorkload.WriteKind.Upsert:
                tx.Upsert(w.Collection, w.Id, TortureWorkload.Vector(seed, n, w.Collection, w.Id), TortureWorkload.Metadata(n, w.Collection, w.Id));
                break;
            case TortureWorkload.WriteKind.Update:
                tx.Update(w.Collection, w.Id, TortureWorkload.Vector(seed, n, w.Collection, w.Id), TortureWorkload.Metadata(n, w.Collection, w.Id));
                break;
            default:
                tx.Delete(w.Collection, w.Id);
                break;
        }
    }
}

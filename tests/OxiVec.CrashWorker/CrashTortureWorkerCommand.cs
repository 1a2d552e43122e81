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
/// <c>OxiVec.CrashWorker crash-torture-worker --data DIR --from N[,N...] [--seed S] [--checkpoint-interval C] [--segment-size BYTES]
/// [--operations K] [--no-preallocate]</c>: the victim of the torture test. Opens the database with fsync per commit, 64 KiB
/// segments, <c>KeepLast(1)</c> retention and compression of every sealed segment at each checkpoint, then runs one
/// writer thread per number given to <c>--from</c>: writer w runs its operations N_w, N_w+1, ... of
/// <see cref="TortureWorkload"/> until killed, concurrently with the others and with background checkpoints.
/// </summary>
/// <remarks>
/// Stdout, each line written and flushed with one write call: <c>opening</c> before the database is opened;
/// <c>ready {sum of N_w - 1}</c> once it is open; then per operation <c>begin {w}:{n} {kind}</c> before it and
/// <c>ack {w}:{n} {description}</c> after it returned. The caller says where each writer starts (<c>--from</c>): the
/// worker cannot tell from the data whether the last operation was a checkpoint or a delete. The state each writer
/// draws operations from is read from the database itself (its own ids). Collections t0 and t1 must exist.
/// A writer that fails other than by being killed prints the error on stderr and ends the process with exit code 3.
/// </remarks>
internal static class CrashTortureWorkerCommand
{
    public const string Name = "crash-torture-worker";

    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string> fromOption = new("--from")
        {
            Description = "Per writer, the first operation to run (the database holds its operations 1 .. N-1); one writer thread per number.",
            Required = true,
            HelpName = "N[,N...]",
        };
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
        Option<bool> noPreallocateOption = new("--no-preallocate")
        {
            Description = "Segments are not preallocated (WalConfig.PreallocateSegments = false): no spares, so every rotation names the next segment on the write path before writing into it.",
        };
        var command = new Command(Name, "Run the torture workload (writes, transactions, checkpoints, drops) until killed, printing 'ack <n> ...' after each operation (for crash tests).");
        command.Options.Add(dataOption);
        command.Options.Add(fromOption);
        command.Options.Add(seedOption);
        command.Options.Add(checkpointOption);
        command.Options.Add(segmentOption);
        command.Options.Add(limitOption);
        command.Options.Add(noPreallocateOption);
        command.SetAction((parse, cancellationToken) => CliConventions.RunInBackground(() => Run(
            parse.GetValue(dataOption)!, parse.GetValue(fromOption)!, parse.GetValue(seedOption), parse.GetValue(checkpointOption),
            parse.GetValue(segmentOption), parse.GetValue(limitOption), !parse.GetValue(noPreallocateOption), cancellationToken)));
        return command;
    }

    private static int Run(string data, string fromList, long seed, int checkpointInterval, long segmentSize, long limit, bool preallocate, CancellationToken cancellationToken)
    {
        long[] from = [.. fromList.Split(',').Select(f => long.TryParse(f, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : 0)];
        if (from.Any(f => f < 1) || from.Length > 16 || checkpointInterval < 1 || limit < 0 || segmentSize is < WalConfig.MinSegmentSizeBytes or > WalConfig.MaxSegmentSizeBytes)
        {
            return CliConventions.Fail(ExitCodes.Usage, "--from takes 1 to 16 numbers of 1 or more; --checkpoint-interval must be 1 or more, --operations 0 or more, --segment-size 64 KiB to 1 GiB.");
        }

        using var acks = new AckWriter(Console.OpenStandardOutput());
        var acksLock = new Lock();
        void Line(string line)
        {
            lock (acksLock)
            {
                acks.Line(line);
            }
        }

        Line("opening");
        using VectorDatabase database = VectorDatabase.Open(
            data, new VectorDatabaseOptions { Wal = TortureWorkload.WalConfig(segmentSize, checkpointInterval) with { PreallocateSegments = preallocate } });
        if (!database.CollectionExists(TortureWorkload.Hnsw) || !database.CollectionExists(TortureWorkload.Flat))
        {
            return CliConventions.Fail(ExitCodes.Usage, $"collections {TortureWorkload.Hnsw} and {TortureWorkload.Flat} must exist before the writers start.");
        }

        TortureWorkload.State[] states = Read(database, from.Length);
        Line(string.Create(CultureInfo.InvariantCulture, $"ready {from.Sum() - from.Length}"));
        Thread[] writers = [.. Enumerable.Range(0, from.Length).Select(w => new Thread(() =>
        {
            try
            {
                for (long n = from[w]; limit == 0 || n < from[w] + limit; n++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    TortureWorkload.Op op = TortureWorkload.Next(seed, w, n, states[w]);
                    Line(string.Create(CultureInfo.InvariantCulture, $"begin {w}:{n} {op.KindName}"));
                    Execute(database, seed, op);
                    states[w].Apply(op);
                    Line(string.Create(CultureInfo.InvariantCulture, $"ack {w}:{n} {op.Describe()}"));
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception ex)
            {
                // Never an acknowledgement: the checker sees the exit code and this message.
                Console.Error.WriteLine($"writer {w} failed: {ex}");
                Environment.Exit(ExitCodes.InternalError);
            }
        }) { Name = $"torture writer {w}" })];
        foreach (Thread writer in writers)
        {
            writer.Start();
        }

        foreach (Thread writer in writers)
        {
            writer.Join();
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// Each writer's view of the database: its collections (t0 and t1 for every writer; the others only for writer 0)
    /// and, per record of its own ids, the operation that wrote it (metadata "op").
    /// </summary>
    public static TortureWorkload.State[] Read(VectorDatabase database, int writers)
    {
        TortureWorkload.State[] states = [.. Enumerable.Range(0, writers).Select(_ => new TortureWorkload.State())];
        foreach (CollectionInfo collection in database.ListCollections())
        {
            bool shared = collection.Name is TortureWorkload.Hnsw or TortureWorkload.Flat;
            for (int w = 0; w < writers; w++)
            {
                if (shared || w == 0)
                {
                    states[w].AddCollection(collection.Name);
                }
            }

            foreach (VectorRecord record in database.Export(collection.Name))
            {
                int w = TortureWorkload.WriterOf(record.Id);
                if (w < 0 || w >= writers || !states[w].HasCollection(collection.Name))
                {
                    throw new InvalidDataException($"{collection.Name}/{record.Id} belongs to no writer of this run.");
                }

                states[w].Set(collection.Name, record.Id, record.Metadata["op"].AsLong);
            }
        }

        return states;
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

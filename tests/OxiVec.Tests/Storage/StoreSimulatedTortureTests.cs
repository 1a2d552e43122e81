using System.Collections.Concurrent;
using System.Globalization;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using Xunit.Abstractions;

namespace OxiVec.Tests.Storage;

/// <summary>
/// The concurrent torture on the fault-injecting disk: three writer threads (single writes, transactions across two
/// collections, atomic batches, manual checkpoints), a checkpointer thread that checkpoints while they write, plus
/// background checkpoints, <c>KeepLast(1)</c> retention,
/// compression of sealed segments, rotation of 64 KiB segments and zero-filled spare segments, with the WAL and the
/// checkpoints both on a <see cref="SimulatedDisk"/>. The power fails at a random I/O operation (the process dies
/// there), the disk keeps what was synced plus a random treatment of unsynced writes, and the reopened store must hold
/// every acknowledged write with its exact vector and metadata and, per writer, at most the whole of the one
/// operation it had in flight, never part of it. The checkpoint it recovered from must itself be exact: per writer,
/// the state after a whole number of its operations.
/// </summary>
/// <remarks>
/// Each writer owns its ids (<c>w{writer}-k{key}</c>), so its model is independent of the others' interleaving.
/// Seeds: <c>OXIVEC_CRASH_SEED</c> replays a run (the crash point and the workload; the interleaving of threads is
/// the scheduler's); <c>OXIVEC_SIM_TORTURE_CRASHES</c> changes the number of power losses (2,000 by default).
/// </remarks>
public sealed class StoreSimulatedTortureTests(ITestOutputHelper output)
{
    private const int Writers = 3;
    private const int Keys = 24;
    private const int Dimension = 16;
    private const int OpsPerWriter = 250;
    private static readonly string[] Collections = ["flat", "hnsw"];
    private static readonly int PowerLosses = EnvInt("OXIVEC_SIM_TORTURE_CRASHES") ?? 2_000;
    private static readonly int Seed = EnvInt("OXIVEC_CRASH_SEED") ?? 20_261_201;

    /// <summary>Where the power losses landed, counted over the run (each must happen, or the run proves less than it claims).</summary>
    private sealed class Tally
    {
        public int Runs;
        public int InCheckpoint;
        public int InRetention;
        public int InCompression;
        public int AtSegmentBoundary;
        public int TornTails;
        public int AbortedTransactions;
        public int FromCheckpoint;
        public int InFlightCommitted;
        public int SparesUsed;
        public int CompressedSeen;
        public long Acknowledged;
        public int CheckpointsUnderWrites;
        public int CheckpointsVerified;

        public override string ToString() =>
            $"{Runs} power losses, {Acknowledged} acknowledged operations; landed inside a checkpoint {InCheckpoint}, inside retention {InRetention}, " +
            $"inside compression {InCompression}, at a segment boundary {AtSegmentBoundary}; torn tails {TornTails}, aborted transactions {AbortedTransactions}, " +
            $"recoveries from a checkpoint {FromCheckpoint} (content checked exact {CheckpointsVerified}), checkpoints taken while writers wrote {CheckpointsUnderWrites}, in-flight operations found committed {InFlightCommitted}, runs with a spare segment file {SparesUsed}, with a compressed segment {CompressedSeen}";
    }

    private sealed record Write(string Collection, int Key, bool Delete);

    /// <summary>One writer's view: per (collection, key) the operation that wrote it last.</summary>
    private sealed class WriterModel
    {
        public Dictionary<(string, int), long> Acknowledged { get; } = [];

        public List<Write>? InFlight { get; set; }

        public long InFlightOp { get; set; }

        public long Acks { get; set; }

        /// <summary>The state after each acknowledged operation (index 0: before the first), for checking a checkpoint's content.</summary>
        public List<Dictionary<(string, int), long>> History { get; } = [[]];

        public Dictionary<(string, int), long> WithInFlight()
        {
            var state = new Dictionary<(string, int), long>(Acknowledged);
            foreach (Write w in InFlight ?? [])
            {
                if (w.Delete)
                {
                    state.Remove((w.Collection, w.Key));
                }
                else
                {
                    state[(w.Collection, w.Key)] = InFlightOp;
                }
            }

            return state;
        }
    }

    [Fact]
    public void ConcurrentWritersWithCheckpointsRetentionCompressionAndSpares_PowerLossAnywhere_KeepEveryAcknowledgedWriteWhole()
    {
        output.WriteLine($"seed {Seed} (set OXIVEC_CRASH_SEED to replay), {PowerLosses} power losses");
        var tally = new Tally();
        using var temp = new TempDirectory();
        for (int run = 0; run < PowerLosses; run++)
        {
            RunOne(temp.Sub($"r{run}"), Seed, run, tally);
        }

        output.WriteLine(tally.ToString());
        Assert.True(
            tally.InCheckpoint > 0 && tally.InRetention > 0 && tally.AtSegmentBoundary > 0 && tally.TornTails > 0
            && tally.AbortedTransactions > 0 && tally.FromCheckpoint > 0 && tally.SparesUsed > 0 && tally.CompressedSeen > 0
            && tally.CheckpointsUnderWrites > 0 && tally.CheckpointsVerified > 0,
            $"seed {Seed}: not every kind of crash happened: {tally}");
    }

    private static void RunOne(string dir, int seed, int run, Tally tally)
    {
        int runSeed = unchecked((seed * 1_000_003) + run);
        var random = new Random(runSeed);
        string data = Path.GetFullPath(dir);
        var disk = new SimulatedDisk
        {
            CrashAtOperation = random.Next(1, 600),
            CheckpointDirectory = Path.Combine(data, "checkpoints"),
        };
        var options = new VectorDatabaseOptions
        {
            Wal = WalConfig.MaximumDurability with
            {
                SegmentSizeBytes = WalConfig.MinSegmentSizeBytes,
                MaxWalSize = 1L << 30,
                RetentionPolicy = RetentionPolicy.KeepLast(1),
                EnableCompression = true,
                CompressionThresholdAgeHours = 0,
                CheckpointInterval = random.Next(10, 60),
                ZeroFillSegments = true, // the zero-filled spare's path is crashed too
            },
        };
        var mode = (CrashMode)random.Next(3);
        string context = $"seed {seed}, run {run} (crash at I/O operation {disk.CrashAtOperation}, {mode}, checkpoint interval {options.Wal.CheckpointInterval})";

        var models = Enumerable.Range(0, Writers).Select(_ => new WriterModel()).ToArray();
        var createdCollections = new List<string>();
        string? creating = null;
        var failures = new ConcurrentQueue<Exception>();
        VectorDatabase? db = null;
        try
        {
            db = VectorDatabase.Open(data, options, disk, disk);
            foreach (string c in Collections)
            {
                creating = c;
                db.CreateCollection(c, c == "flat"
                    ? new CollectionOptions(Dimension) { Index = IndexKind.Flat }
                    : new CollectionOptions(Dimension) { Index = IndexKind.Hnsw, Hnsw = new HnswParameters { M = 4, EfConstruction = 16, EfSearch = 16 } });
                createdCollections.Add(c);
                creating = null;
            }

            using var progress = new Progress();
            Thread[] threads = [.. Enumerable.Range(0, Writers).Select(w => new Thread(() => Writer(db, runSeed, w, models[w], failures, progress)) { Name = $"writer {w}" })];
            var checkpointer = new Thread(() => Checkpointer(db, progress, failures)) { Name = "checkpointer" };
            checkpointer.Start();
            foreach (Thread t in threads)
            {
                t.Start();
            }

            foreach (Thread t in threads)
            {
                t.Join();
            }

            progress.WritersDone.Cancel();
            checkpointer.Join();
            tally.CheckpointsUnderWrites += progress.CheckpointsUnderWrites;
        }
        catch (Exception ex) when (IsCrash(ex))
        {
            // The process died while opening or creating the collections.
        }
        finally
        {
            disk.CrashAtOperation = 1; // the power fails now, if it has not yet: nothing more reaches the disk
            try
            {
                db?.Dispose();
            }
            catch (Exception ex) when (IsCrash(ex))
            {
            }
        }

        Assert.True(failures.IsEmpty, $"{context}: a writer failed other than by the crash: {string.Join(" | ", failures)}");
        // Where the process died: the operation the disk refused, and what the disk held at that moment.
        string op = disk.CrashedOperation ?? "";
        bool inCheckpoint = disk.CheckpointNames().Any(n => n.EndsWith(".tmp", StringComparison.Ordinal))
            || op.StartsWith("mkdir ", StringComparison.Ordinal) || op.StartsWith("mvdir ", StringComparison.Ordinal) || op.EndsWith("checkpoint file", StringComparison.Ordinal);
        bool inRetention = disk.CheckpointNames().Count(n => !n.EndsWith(".tmp", StringComparison.Ordinal)) > 1
            || (op.StartsWith("rmdir ", StringComparison.Ordinal) && !op.EndsWith(".tmp", StringComparison.Ordinal))
            || (op.StartsWith("delete ", StringComparison.Ordinal) && (op.EndsWith(".wal", StringComparison.Ordinal) || op.EndsWith(".walz", StringComparison.Ordinal)));
        bool inCompression = disk.ListFiles(".walz.tmp").Count > 0 || disk.ListFiles(".walz").Any(z => disk.ListFiles(".wal").Contains(z[..^1])) || op.Contains(".walz", StringComparison.Ordinal);
        bool newSegment = disk.ListFiles(".wal.tmp").Count > 0 || op.EndsWith("@0", StringComparison.Ordinal)
            || (op.StartsWith("rename ", StringComparison.Ordinal) && op.EndsWith(".wal", StringComparison.Ordinal));
        bool spares = disk.ListFiles(".tmp").Any(n => n.StartsWith("spare-", StringComparison.Ordinal)) || op.Contains("spare-", StringComparison.Ordinal);

        SimulatedDisk after = disk.Crash(random, mode);
        WalVerifyReport beforeOpen = new WalReader(after, null).Verify();
        bool emptyNewest = beforeOpen.Segments.Count > 1 && beforeOpen.Segments[^1].Records == 0;

        using VectorDatabase reopened = Reopen(data, options, after, context);
        if (reopened.LastCheckpoint is { } loaded)
        {
            CheckCheckpointIsExact(after, loaded, models, runSeed, context);
            tally.CheckpointsVerified++;
        }
        foreach (string c in createdCollections)
        {
            Assert.True(reopened.CollectionExists(c), $"{context}: the acknowledged collection '{c}' is gone.");
        }

        Assert.True(
            reopened.ListCollections().All(c => createdCollections.Contains(c.Name) || c.Name == creating),
            $"{context}: collections [{string.Join(", ", reopened.ListCollections().Select(c => c.Name))}], created [{string.Join(", ", createdCollections)}].");

        var actual = Enumerable.Range(0, Writers).Select(_ => new Dictionary<(string, int), long>()).ToArray();
        foreach (CollectionInfo collection in reopened.ListCollections())
        {
            foreach (VectorRecord record in reopened.Export(collection.Name))
            {
                (int w, int key) = ParseId(record.Id, context);
                long n = record.Metadata["n"].AsLong;
                Assert.True(
                    record.Metadata["w"].AsLong == w && record.Metadata["pad"].AsString == Pad(n, key) && record.Metadata.Count == 3
                    && record.Vector.Span.SequenceEqual(Vector(runSeed, w, n, collection.Name, key)),
                    $"{context}: {collection.Name}/{record.Id} does not hold exactly what writer {w}'s operation {n} wrote.");
                actual[w][(collection.Name, key)] = n;
            }
        }

        for (int w = 0; w < Writers; w++)
        {
            WriterModel model = models[w];
            if (Same(actual[w], model.Acknowledged))
            {
                continue;
            }

            Assert.True(
                Same(actual[w], model.WithInFlight()),
                $"{context}: writer {w} recovered {Describe(actual[w])}; after its {model.Acks} acknowledged operations it held {Describe(model.Acknowledged)}, " +
                $"and with operation {model.InFlightOp} in flight ({string.Join(' ', model.InFlight?.Select(x => (x.Delete ? "-" : "+") + x.Collection + "/" + x.Key) ?? [])}) {Describe(model.WithInFlight())}.");
            tally.InFlightCommitted++;
        }

        tally.Runs++;
        tally.Acknowledged += models.Sum(m => m.Acks);
        tally.InCheckpoint += inCheckpoint ? 1 : 0;
        tally.InRetention += inRetention ? 1 : 0;
        tally.InCompression += inCompression ? 1 : 0;
        tally.AtSegmentBoundary += newSegment || emptyNewest ? 1 : 0;
        tally.SparesUsed += spares ? 1 : 0;
        tally.CompressedSeen += disk.ListFiles(".walz").Count > 0 ? 1 : 0;
        tally.TornTails += reopened.Recovery.TornTailBytes > 0 ? 1 : 0;
        tally.AbortedTransactions += reopened.WalOpenReport.AbortedTransactionLsn is null ? 0 : 1;
        tally.FromCheckpoint += reopened.Recovery.CheckpointLsn > 0 ? 1 : 0;
    }

    /// <summary>What the writers and the checkpointer share: acknowledgements count, every 16th one asks for a checkpoint.</summary>
    private sealed class Progress : IDisposable
    {
        public long Acks;
        public int CheckpointsUnderWrites;

        public SemaphoreSlim CheckpointDue { get; } = new(0);

        public CancellationTokenSource WritersDone { get; } = new();

        public void Dispose()
        {
            CheckpointDue.Dispose();
            WritersDone.Dispose();
        }
    }

    /// <summary>
    /// Checkpoints whenever the writers have acknowledged 16 more operations, while they go on writing; counts those
    /// during which some acknowledgement happened (the checkpoint streamed under concurrent writes).
    /// </summary>
    private static void Checkpointer(VectorDatabase db, Progress progress, ConcurrentQueue<Exception> failures)
    {
        try
        {
            while (true)
            {
                progress.CheckpointDue.Wait(progress.WritersDone.Token);
                long before = Interlocked.Read(ref progress.Acks);
                db.Checkpoint();
                if (Interlocked.Read(ref progress.Acks) != before)
                {
                    progress.CheckpointsUnderWrites++;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The writers are done.
        }
        catch (Exception ex) when (IsCrash(ex))
        {
            // The process died here.
        }
        catch (Exception ex)
        {
            failures.Enqueue(new InvalidOperationException($"checkpointer: {ex}", ex));
        }
    }

    /// <summary>
    /// The checkpoint recovery loaded holds an exact state: for each writer, exactly its state after some number of
    /// its operations (each whole), with every record's exact vector and metadata; a fuzzy or torn capture (part of a
    /// commit, a record read while its slot was rewritten) holds a state no prefix of the writer's operations gives.
    /// </summary>
    private static void CheckCheckpointIsExact(SimulatedDisk disk, CheckpointInfo loaded, WriterModel[] models, int runSeed, string context)
    {
        CheckpointData data = CheckpointFiles.Read(new CheckpointEntry(loaded.Sequence, loaded.CoveredLsn, loaded.Path), disk);
        var captured = Enumerable.Range(0, Writers).Select(_ => new Dictionary<(string, int), long>()).ToArray();
        foreach (CheckpointCollection collection in data.Collections)
        {
            collection.Index?.Dispose();
            foreach (VectorRecord record in collection.Records)
            {
                (int w, int key) = ParseId(record.Id, context);
                long n = record.Metadata["n"].AsLong;
                Assert.True(
                    record.Vector.Span.SequenceEqual(Vector(runSeed, w, n, collection.Name, key)) && record.Metadata["pad"].AsString == Pad(n, key),
                    $"{context}: checkpoint {loaded.Path} holds {collection.Name}/{record.Id} with contents that are not writer {w}'s operation {n}'s.");
                captured[w][(collection.Name, key)] = n;
            }
        }

        for (int w = 0; w < Writers; w++)
        {
            WriterModel model = models[w];
            bool prefix;
            lock (model.History)
            {
                prefix = model.History.Any(state => Same(captured[w], state)) || Same(captured[w], model.WithInFlight());
            }

            Assert.True(prefix, $"{context}: checkpoint {loaded.Path} (LSN {loaded.CoveredLsn}) holds {Describe(captured[w])} of writer {w}: no prefix of its operations gives that.");
        }
    }

    /// <summary>Opens the crashed disk; a failure names the seed and run to replay it.</summary>
    private static VectorDatabase Reopen(string data, VectorDatabaseOptions options, SimulatedDisk after, string context)
    {
        try
        {
            return VectorDatabase.Open(data, options, after, after);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            throw new InvalidOperationException($"{context}: reopening after the power loss failed: {ex.Message}", ex);
        }
    }

    /// <summary>One writer thread: operations 1, 2, ... until the disk dies (or <see cref="OpsPerWriter"/>).</summary>
    private static void Writer(VectorDatabase db, int runSeed, int w, WriterModel model, ConcurrentQueue<Exception> failures, Progress progress)
    {
        for (long n = 1; n <= OpsPerWriter; n++)
        {
            var random = new Random(HashCode.Combine(runSeed, w, n));
            int roll = random.Next(100);
            List<Write> writes = roll < 2 ? [] : Plan(random, ref roll, model.Acknowledged);
            model.InFlight = writes;
            model.InFlightOp = n;
            try
            {
                if (roll < 2)
                {
                    db.Checkpoint();
                }
                else if (roll < 55)
                {
                    Write x = writes[0];
                    if (x.Delete)
                    {
                        Assert.True(db.Delete(x.Collection, Id(w, x.Key)));
                    }
                    else
                    {
                        db.Upsert(x.Collection, Id(w, x.Key), Vector(runSeed, w, n, x.Collection, x.Key), Metadata(w, n, x.Key));
                    }
                }
                else if (roll < 85)
                {
                    using VectorTransaction tx = db.BeginTransaction();
                    foreach (Write x in writes)
                    {
                        if (x.Delete)
                        {
                            tx.Delete(x.Collection, Id(w, x.Key));
                        }
                        else
                        {
                            tx.Upsert(x.Collection, Id(w, x.Key), Vector(runSeed, w, n, x.Collection, x.Key), Metadata(w, n, x.Key));
                        }
                    }

                    tx.Commit();
                }
                else
                {
                    db.InsertBatch(writes[0].Collection, writes.Select(x => new VectorRecord(Id(w, x.Key), Vector(runSeed, w, n, x.Collection, x.Key), Metadata(w, n, x.Key))));
                }
            }
            catch (Exception ex) when (IsCrash(ex))
            {
                return; // the process died here: this operation is in flight
            }
            catch (Exception ex)
            {
                failures.Enqueue(new InvalidOperationException($"writer {w}, operation {n}: {ex}", ex));
                return;
            }

            foreach (Write x in writes)
            {
                if (x.Delete)
                {
                    model.Acknowledged.Remove((x.Collection, x.Key));
                }
                else
                {
                    model.Acknowledged[(x.Collection, x.Key)] = n;
                }
            }

            model.InFlight = null;
            model.Acks = n;
            lock (model.History)
            {
                model.History.Add(new Dictionary<(string, int), long>(model.Acknowledged));
            }

            if (Interlocked.Increment(ref progress.Acks) % 16 == 0)
            {
                progress.CheckpointDue.Release(); // the checkpointer takes a checkpoint now, while the writers go on
            }
        }
    }

    /// <summary>
    /// The writes of an operation: one upsert or delete (roll below 55), a transaction of 2 to 5 distinct keys over
    /// both collections (below 85), or a batch of 2 to 4 inserts of absent keys into one collection.
    /// </summary>
    /// <remarks>A batch with too few absent keys becomes a transaction: <paramref name="roll"/> is changed to say so.</remarks>
    private static List<Write> Plan(Random random, ref int roll, Dictionary<(string, int), long> state)
    {
        if (roll >= 85)
        {
            string c = Collections[random.Next(2)];
            int[] absent = [.. Enumerable.Range(0, Keys).Where(k => !state.ContainsKey((c, k))).OrderBy(_ => random.Next())];
            if (absent.Length >= 2)
            {
                return [.. absent.Take(random.Next(2, 5)).Select(k => new Write(c, k, Delete: false))];
            }

            roll = 60; // too few absent ids: a transaction instead
        }

        int count = roll < 55 ? 1 : random.Next(2, 6);
        var writes = new List<Write>(count);
        var used = new HashSet<(string, int)>();
        for (int i = 0; i < count; i++)
        {
            string c = i < 2 && count > 1 ? Collections[i] : Collections[random.Next(2)];
            int key;
            do
            {
                key = random.Next(Keys);
            }
            while (!used.Add((c, key)));

            writes.Add(new Write(c, key, Delete: state.ContainsKey((c, key)) && random.Next(10) < 3));
        }

        return writes;
    }

    private static string Id(int w, int key) => string.Create(CultureInfo.InvariantCulture, $"w{w}-k{key}");

    private static (int Writer, int Key) ParseId(string id, string context)
    {
        string[] parts = id.Split('-');
        Assert.True(parts.Length == 2 && parts[0].StartsWith('w') && parts[1].StartsWith('k'), $"{context}: unexpected id '{id}'.");
        return (int.Parse(parts[0].AsSpan(1), CultureInfo.InvariantCulture), int.Parse(parts[1].AsSpan(1), CultureInfo.InvariantCulture));
    }

    private static float[] Vector(int runSeed, int w, long n, string collection, int key)
    {
        var random = new Random(HashCode.Combine(runSeed, w, n, collection.Length, key));
        return [.. Enumerable.Range(0, Dimension).Select(_ => (float)random.NextDouble() + 0.01f)];
    }

    private static Dictionary<string, MetadataValue> Metadata(int w, long n, int key) => new(StringComparer.Ordinal)
    {
        ["w"] = (long)w,
        ["n"] = n,
        ["pad"] = Pad(n, key),
    };

    /// <summary>0 to 899 characters, so records vary in size and segments fill at different records.</summary>
    private static string Pad(long n, int key) => new('p', (int)((n * 131 + key * 17) % 900));

    private static bool Same(Dictionary<(string, int), long> a, Dictionary<(string, int), long> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out long v) && v == kv.Value);

    private static string Describe(Dictionary<(string, int), long> state) =>
        "{" + string.Join(", ", state.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key.Item1}/{kv.Key.Item2}@{kv.Value}")) + "}";

    /// <summary>True when <paramref name="ex"/> is the simulated process death, or a failure it caused (it is then the inner exception).</summary>
    private static bool IsCrash(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is SimulatedCrashException)
            {
                return true;
            }
        }

        return false;
    }

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;
}

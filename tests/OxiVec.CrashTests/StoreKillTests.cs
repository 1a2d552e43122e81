using System.Diagnostics;
using System.Globalization;
using OxiVec.CrashTests.Infrastructure;
using OxiVec.CrashWorker;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;
using Xunit.Abstractions;

namespace OxiVec.CrashTests;

/// <summary>
/// Kills real database writers with SIGKILL at random moments, then reopens the database in this process: every
/// acknowledged write is there with its exact content, every transaction is all there or not at all (across two
/// collections), and nothing beyond the last transaction started exists.
/// </summary>
public sealed class StoreKillTests(ITestOutputHelper output)
{
    /// <summary>Kill rounds of the transaction test; <c>OXIVEC_STORE_CRASH_ROUNDS</c> raises it for a soak run.</summary>
    private static readonly int Rounds = EnvInt("OXIVEC_STORE_CRASH_ROUNDS") ?? 14;

    /// <summary>
    /// At most this many rounds are added, each killing at a checkpoint file event, when the planned rounds left a kind of
    /// kill the test requires untried: whether a kill timed on a checkpoint's directory lands before the checkpoint
    /// finishes depends on how fast the machine writes it.
    /// </summary>
    private const int MaxExtraRounds = 6;

    /// <summary>The seed of everything random here; <c>OXIVEC_CRASH_SEED</c> replays or varies a run.</summary>
    private static readonly int Seed = EnvInt("OXIVEC_CRASH_SEED") ?? 20_250_611;

    /// <summary>A generous bound for a worker to start or acknowledge; reaching it fails the test.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private const int Dimension = 8;

    /// <summary>The worker's retention (<c>WalConfig.Default</c>): more checkpoints than this means retention had not run.</summary>
    private static readonly int KeepLast = WalConfig.Default.RetentionPolicy is RetentionPolicy.KeepLastRetention keep ? keep.Count : throw new InvalidOperationException("The default retention is not KeepLast(n).");

    private enum KillAt
    {
        Acks,
        CheckpointCreated,
        CheckpointRenamed,
    }

    [Fact]
    public async Task CrashStoreWorker_KilledAtRandom_TransactionsAcrossTwoCollectionsAreAllOrNothing()
    {
        var random = new Random(Seed);
        long workloadSeed = random.Next();
        using var dir = new TempDirectory();
        long committed = 0; // the last transaction the database holds, as found after the previous round
        int checkpointsSeen = 0, inCheckpoint = 0, inRetention = 0, aborted = 0, byFileEvent = 0;
        string checkpoints = Path.Combine(dir.Path, "checkpoints");
        var total = Stopwatch.StartNew();
        output.WriteLine($"seed {Seed}, workload seed {workloadSeed}, {Rounds} rounds, data {dir.Path}");
        int rounds = Rounds;
        for (int round = 1; round <= rounds; round++)
        {
            // Kill right after opening (recovery itself, the first commit), after a number of acknowledgements, or (every
            // third round, checkpointing every 20 operations) the moment a checkpoint directory is created (first half of
            // the run) or renamed into place as one more than retention keeps (second half: the checker first tops the
            // database up to KeepLast(7) checkpoints); fsync per commit or every second; checkpoints rarely or every few
            // dozen operations.
            bool extra = round > Rounds;
            bool eventRound = extra || round % 3 == 0;
            KillAt at = !eventRound || !Directory.Exists(checkpoints) ? KillAt.Acks
                : extra ? (inCheckpoint == 0 ? KillAt.CheckpointCreated : KillAt.CheckpointRenamed)
                : round <= Rounds / 2 ? KillAt.CheckpointCreated : KillAt.CheckpointRenamed;
            int killAfter = random.Next(5) == 0 ? 0 : random.Next(1, 200);
            int sync = random.Next(2) == 0 ? 0 : 1000;
            int checkpointInterval = random.Next(3) switch { 0 => 40, 1 => 400, _ => 100_000 };
            checkpointInterval = eventRound ? 20 : checkpointInterval;
            killAfter = eventRound && at == KillAt.Acks ? Math.Max(killAfter, 60) : killAfter; // no checkpoint yet: this round makes the directory to watch
            string context = $"seed {Seed}, round {round} ({(at == KillAt.Acks ? $"kill after {killAfter} acks" : $"kill at {at}")}, sync {sync} ms, checkpoint every {checkpointInterval} operations)";

            if (at == KillAt.CheckpointRenamed)
            {
                TopUpCheckpoints(dir.Path); // the worker's next checkpoint is one more than retention keeps
            }

            AckRun run;
            await using (var worker = AckingProcess.StartWorker(
                "crash-store-worker", "--data", dir.Path, "--seed", Str(workloadSeed), "--dim", Str(Dimension),
                "--sync-interval-ms", Str(sync), "--checkpoint-interval", Str(checkpointInterval)))
            {
                long ready = await worker.WaitForReadyAsync(Patience);
                Assert.True(ready == committed, $"{context}: the worker found transaction {ready} last; the database held {committed}.");
                if (at == KillAt.Acks)
                {
                    await worker.WaitForAcksAsync(killAfter, Patience);
                }
                else
                {
                    Func<string, bool> match = at == KillAt.CheckpointCreated
                        ? n => n.EndsWith(".tmp", StringComparison.Ordinal)
                        : n => !n.EndsWith(".tmp", StringComparison.Ordinal);
                    (Task killed, IDisposable watcher) = worker.KillOnFileEvent(checkpoints, match);
                    using (watcher)
                    {
                        // A checkpoint every 20 operations (spaced by four times its own duration, about one per 120 operations
                        // here): 300 acknowledgements is a bound, never a wait on time.
                        byFileEvent += await Task.WhenAny(killed, worker.WhenAcks(300), Task.Delay(Patience)) == killed ? 1 : 0;
                    }
                }

                run = await worker.KillAsync();
            }

            // Where the kill landed, read from what the worker left before recovery tidies it: a half-built checkpoint
            // directory, or more checkpoints than KeepLast(7) keeps (renamed into place, retention not yet run).
            bool checkpointLeft = Directory.Exists(checkpoints) && Directory.GetDirectories(checkpoints, "*.tmp").Length > 0;
            bool retentionLeft = Directory.Exists(checkpoints) && CheckpointFiles.List(checkpoints, removeHalfBuilt: false).Count > KeepLast;
            inCheckpoint += checkpointLeft ? 1 : 0;
            inRetention += retentionLeft ? 1 : 0;

            Assert.True(run.ExitCode == 128 + 9 || OperatingSystem.IsWindows(), $"{context}: not killed by SIGKILL (exit code {run.ExitCode}): {run.Stderr}");
            Assert.True(run.OtherLines.Count == 0, $"{context}: unexpected output: {string.Join(" | ", run.OtherLines)}");
            long[] acks = [.. run.Acks.Select(a => long.Parse(a, NumberStyles.None, CultureInfo.InvariantCulture))];
            Assert.Equal(Enumerable.Range(0, acks.Length).Select(i => committed + 1 + i), acks); // one after the other
            long lastAcked = acks.Length == 0 ? committed : acks[^1];

            (committed, bool fromCheckpoint, bool abortedTransaction) = AssertAllOrNothing(dir.Path, workloadSeed, lastAcked, context);
            checkpointsSeen += fromCheckpoint ? 1 : 0;
            aborted += abortedTransaction ? 1 : 0;
            output.WriteLine(
                $"round {round,2}: {acks.Length,3} acks (last {lastAcked}), recovered through transaction {committed}{(committed > lastAcked ? " (committed, not yet acknowledged)" : "")}, " +
                $"sync {sync} ms, checkpoint interval {checkpointInterval}{(fromCheckpoint ? ", recovered from a checkpoint" : "")}" +
                $"{(abortedTransaction ? ", aborted transaction" : "")}{(checkpointLeft ? ", killed inside a checkpoint" : "")}{(retentionLeft ? ", before retention finished" : "")}{(extra ? " (an added round)" : "")}");
            if (round == rounds && rounds < Rounds + MaxExtraRounds && (inCheckpoint == 0 || inRetention == 0))
            {
                rounds++;
            }
        }

        output.WriteLine(
            $"{rounds} kills ({rounds - Rounds} added; {byFileEvent} from a checkpoint file event), {committed} transactions, {checkpointsSeen} recoveries from a checkpoint; " +
            $"landed inside a checkpoint {inCheckpoint}, before retention finished {inRetention}, aborted transactions {aborted}; {total.Elapsed.TotalSeconds:F1} s");
        Assert.True(committed >= Rounds * 20, $"The rounds committed only {committed} transactions: too little to test anything.");

        // The worker's segments are 64 MiB (WalConfig.Default) and never fill here, so no kill lands at a segment boundary;
        // each transaction is buffered whole and written out with its group, so only a torn write (which a SIGKILL almost never makes) leaves
        // one open: aborted transactions are counted, not required.
        Assert.True(
            inCheckpoint > 0 && inRetention > 0,
            $"seed {Seed}: not every kind of kill happened: inside a checkpoint {inCheckpoint}, before retention finished {inRetention}.");
    }

    [Fact]
    public async Task LoadPrintAcks_KilledMidRun_EveryAcknowledgedRecordSurvivesWithItsExactVector()
    {
        var random = new Random(Seed + 1);
        using var dir = new TempDirectory();
        long present = 0; // records v0..v{present-1} are in the collection
        (int Batch, int Sync, string Index)[] rounds = [(1, 1000, "hnsw"), (37, 0, "hnsw"), (1, 0, "hnsw"), (250, 1000, "hnsw")];
        foreach ((int batch, int sync, string index) in rounds)
        {
            int killAfter = (random.Next(50, 1500) + batch - 1) / batch * batch;
            string context = $"seed {Seed}, load --start {present} --batch {batch} --sync-interval-ms {sync}, kill after {killAfter} acks";
            AckRun run;
            await using (var loader = AckingProcess.Start(
                "load", "--data", dir.Path, "--collection", "c", "--dim", "16", "--count", "10000000", "--start", Str(present),
                "--batch", Str(batch), "--sync-interval-ms", Str(sync), "--index", index, "--metric", "l2", "--seed", "77", "--print-acks"))
            {
                await loader.WaitForAcksAsync(killAfter, Patience);
                run = await loader.KillAsync();
            }

            Assert.True(run.ExitCode == 128 + 9 || OperatingSystem.IsWindows(), $"{context}: not killed by SIGKILL (exit code {run.ExitCode}): {run.Stderr}");
            Assert.True(run.OtherLines.Count == 0, $"{context}: unexpected output: {string.Join(" | ", run.OtherLines)}");
            long[] acked = [.. run.Acks.Select(a => long.Parse(a.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture))];
            Assert.Equal(Enumerable.Range(0, acked.Length).Select(i => present + i), acked);

            using (VectorDatabase database = VectorDatabase.Open(dir.Path))
            {
                foreach (long i in acked)
                {
                    VectorRecord? record = database.Get("c", $"v{i}");
                    Assert.True(record is not null, $"{context}: acknowledged record v{i} is missing.");
                    Assert.True(record.Vector.Span.SequenceEqual(DocumentedVectors.Vector(77, i, 16)), $"{context}: v{i} has another vector.");
                    Assert.Equal(i, record.Metadata["i"].AsLong);
                    Assert.Equal(i % 10, record.Metadata["group"].AsLong);
                }

                // Nothing partial, nothing beyond: v0..v{count-1} exactly, whole batches, the acknowledged ones plus at
                // most the one in flight (and the rest of a batch whose acknowledgement lines the kill cut short).
                int count = database.Count("c");
                long ackedEnd = present + acked.Length;
                long limit = present + ((((long)acked.Length + batch - 1) / batch) + 1) * batch;
                Assert.True(count >= ackedEnd && count <= limit, $"{context}: {count} records; {ackedEnd} were acknowledged, at most {limit} may exist.");
                Assert.True((count - present) % batch == 0, $"{context}: {count - present} records after v{present - 1}: a batch of {batch} was cut.");
                Assert.All(database.Export("c"), r => Assert.True(long.Parse(r.Id.AsSpan(1), CultureInfo.InvariantCulture) < count, $"{context}: unexpected {r.Id}."));
                RecoveryStats r = database.Recovery;
                output.WriteLine(
                    $"{context}: {acked.Length} acked, {count - ackedEnd} committed beyond the last ack; recovery from checkpoint LSN {r.CheckpointLsn}, " +
                    $"{r.TotalEntries} WAL records read, {r.AppliedEntries} applied, torn tail {r.TornTailBytes} bytes, {r.RecoveryTimeMs} ms");
                present = count;
            }
        }
    }

    /// <summary>Checkpoints the database in this process until it holds as many checkpoints as the worker's retention keeps.</summary>
    private static void TopUpCheckpoints(string data)
    {
        string checkpoints = Path.Combine(data, CheckpointFiles.DirectoryName);
        using VectorDatabase database = VectorDatabase.Open(data);
        while (CheckpointFiles.List(checkpoints, removeHalfBuilt: false).Count < KeepLast)
        {
            database.Checkpoint();
        }
    }

    /// <summary>
    /// Opens the database and checks it against the workload: both collections hold the same pairs, every record has the
    /// content its transaction wrote, and the whole state is exactly the model's after transaction N, where N (the last
    /// transaction found) is the last acknowledged one or the one after it (in flight when killed). Returns N.
    /// </summary>
    private static (long Committed, bool FromCheckpoint, bool AbortedTransaction) AssertAllOrNothing(string data, long seed, long lastAcked, string context)
    {
        using VectorDatabase database = VectorDatabase.Open(data);
        Dictionary<string, long> a = Pairs(database, StoreWorkload.A, seed, context);
        Dictionary<string, long> b = Pairs(database, StoreWorkload.B, seed, context);
        foreach (string suffix in a.Keys.Union(b.Keys))
        {
            Assert.True(
                a.TryGetValue(suffix, out long inA) && b.TryGetValue(suffix, out long inB) && inA == inB,
                $"{context}: pair {suffix} is half there: a{suffix} {Writer(a, suffix)}, b{suffix} {Writer(b, suffix)}.");
        }

        long committed = StoreWorkload.LastTransaction(a.Keys);
        Assert.True(
            committed >= lastAcked && committed <= lastAcked + 1,
            $"{context}: the database holds transactions through {committed}; {lastAcked} was the last acknowledged, and only one more could have started.");
        Dictionary<string, long> model = StoreWorkload.Model(seed, committed);
        string[] missing = [.. model.Keys.Except(a.Keys).Order(StringComparer.Ordinal)];
        string[] extra = [.. a.Keys.Except(model.Keys).Order(StringComparer.Ordinal)];
        string[] stale = [.. model.Where(kv => a.TryGetValue(kv.Key, out long writer) && writer != kv.Value).Select(kv => $"{kv.Key} (transaction {a[kv.Key]}, not {kv.Value})")];
        Assert.True(
            missing.Length == 0 && extra.Length == 0 && stale.Length == 0,
            $"{context}: after transaction {committed}, pairs missing: [{string.Join(", ", missing.Take(10))}], unexpected: [{string.Join(", ", extra.Take(10))}], " +
            $"stale: [{string.Join(", ", stale.Take(10))}].");
        return (committed, database.Recovery.CheckpointLsn > 0, database.WalOpenReport.AbortedTransactionLsn is not null);
    }

    private static string Writer(Dictionary<string, long> pairs, string suffix) =>
        pairs.TryGetValue(suffix, out long writer) ? $"written by transaction {writer}" : "missing";

    /// <summary>The pairs of one collection (suffix -> writing transaction), each record's content checked.</summary>
    private static Dictionary<string, long> Pairs(VectorDatabase database, string collection, long seed, string context)
    {
        var pairs = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!database.CollectionExists(collection))
        {
            return pairs;
        }

        foreach (VectorRecord record in database.Export(collection))
        {
            Assert.True(record.Id.StartsWith(collection, StringComparison.Ordinal), $"{context}: '{record.Id}' in collection {collection}.");
            long writer = record.Metadata["tx"].AsLong;
            Assert.True(
                record.Vector.Span.SequenceEqual(StoreWorkload.Vector(seed, writer, record.Id, Dimension)),
                $"{context}: {record.Id} does not hold the vector transaction {writer} wrote.");
            pairs.Add(record.Id[collection.Length..], writer);
        }

        return pairs;
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OxiVec.Cli.Commands;
using OxiVec.Cli.Crash;
using OxiVec.CrashTests.Infrastructure;
using OxiVec.Storage;
using OxiVec.Wal;
using Xunit.Abstractions;

namespace OxiVec.CrashTests;

/// <summary>
/// The torture test: one database, reused across rounds so that checkpoints, retention (KeepLast(2)) and compressed
/// segments accumulate, written by a worker running a random mix of inserts, upserts, updates, deletes, transactions
/// across collections, atomic batches, manual and background checkpoints, and drops and re-creations of a collection,
/// with an fsync per commit and 64 KiB segments. Each round SIGKILLs the worker at a random moment (while it opens
/// the database, at a checkpoint, or after a random number of acknowledgements), recovers (in this process, or first
/// with <c>oxivec recover --json</c>), and compares the whole store with the model rebuilt from the acknowledged
/// operations: it must be exactly the state after the last acknowledged operation, or after the one in flight.
/// </summary>
public sealed class TortureTests(ITestOutputHelper output)
{
    /// <summary>Kills per run; <c>OXIVEC_TORTURE_KILLS</c> (e.g. 2000) raises it for a soak run.</summary>
    private static readonly int Kills = EnvInt("OXIVEC_TORTURE_KILLS") ?? 100;

    /// <summary>The seed of everything random here; <c>OXIVEC_CRASH_SEED</c> replays or varies a run.</summary>
    private static readonly int Seed = EnvInt("OXIVEC_CRASH_SEED") ?? 20_250_611;

    /// <summary>A generous bound for a worker to start or acknowledge; reaching it fails the test.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private const long SegmentSize = WalConfig.MinSegmentSizeBytes;

    private enum KillMode
    {
        WhileOpening,
        AtCheckpoint,
        AfterAcks,
    }

    private sealed record Kill(KillMode Mode, int Count)
    {
        public override string ToString() => Mode switch
        {
            KillMode.WhileOpening => "kill while it opens the database",
            KillMode.AtCheckpoint => $"kill at the first checkpoint from {Count} operations on",
            _ => $"kill after {Count} acks",
        };
    }

    /// <summary>What the rounds went through, to show (and check) that the interesting cases happened.</summary>
    private sealed class Tally
    {
        public int Rounds;
        public int InFlightCommitted;
        public int FromCheckpoint;
        public int TornTails;
        public int AbortedTransactions;
        public int ViaCli;
        public int CompressedSeen;
        public int MaxCompressed;
        public int SegmentsRemovedSeen;
        public long MaxFirstLsn;
        public int MaxSegments;
        public int KilledAtCheckpoint;
        public int KilledWhileOpening;
        public int HalfBuiltSeen;
    }

    [Fact]
    public async Task TortureWorker_KilledAtRandomMoments_StoreIsExactlyTheAcknowledgedOperations()
    {
        var random = new Random(Seed ^ 0x70A7);
        long seed = random.Next();
        using var dir = new TempDirectory();
        string data = dir.Sub("db");
        var model = new TortureWorkload.State(); // the state after operations 1 .. committed
        long committed = 0;
        var tally = new Tally();
        var total = Stopwatch.StartNew();
        output.WriteLine($"seed {Seed}, workload seed {seed}, {Kills} kills, data {data}");
        for (int round = 1; round <= Kills; round++)
        {
            Kill kill = random.Next(100) switch
            {
                < 10 => new Kill(KillMode.WhileOpening, 0),
                < 25 => new Kill(KillMode.AtCheckpoint, random.Next(0, 60)),
                < 40 => new Kill(KillMode.AfterAcks, random.Next(0, 4)),
                _ => new Kill(KillMode.AfterAcks, random.Next(4, 250)),
            };
            int checkpointInterval = random.Next(4) == 0 ? random.Next(15, 80) : 1_000_000;
            bool viaCli = round % 5 == 0 && Directory.Exists(Path.Combine(data, "wal"));
            string context = $"seed {Seed}, round {round} ({kill}, background checkpoints every {checkpointInterval} operations, from operation {committed + 1})";

            AckRun run;
            await using (var worker = AckingProcess.Start(
                CrashTortureWorkerCommand.Name, "--data", data, "--seed", Str(seed), "--from", Str(committed + 1),
                "--checkpoint-interval", Str(checkpointInterval), "--segment-size", Str(SegmentSize)))
            {
                switch (kill.Mode)
                {
                    case KillMode.WhileOpening:
                        await worker.WaitForLineAsync(line => line == "opening", "'opening'", Patience);
                        break;
                    case KillMode.AtCheckpoint:
                        long from = committed + 1 + kill.Count;
                        await worker.WaitForLineAsync(line => IsBegin(line, "checkpoint", out long n) && n >= from, $"'begin <n> checkpoint' from {from} on", Patience);
                        break;
                    default:
                        Assert.Equal(committed, await worker.WaitForReadyAsync(Patience));
                        await worker.WaitForAcksAsync(kill.Count, Patience);
                        break;
                }

                run = await worker.KillAsync();
            }

            Assert.True(run.ExitCode == 128 + 9 || OperatingSystem.IsWindows(), $"{context}: not killed by SIGKILL (exit code {run.ExitCode}): {run.Stderr}");
            string[] unexpected = [.. run.OtherLines.Where(l => l != "opening" && !IsBegin(l, null, out _))];
            Assert.True(unexpected.Length == 0, $"{context}: unexpected output: {string.Join(" | ", unexpected)}");
            tally.KilledWhileOpening += kill.Mode == KillMode.WhileOpening && run.Ready is null ? 1 : 0;
            tally.KilledAtCheckpoint += kill.Mode == KillMode.AtCheckpoint ? 1 : 0;
            tally.HalfBuiltSeen += HalfBuilt(data).Length > 0 ? 1 : 0;

            // The model after every acknowledged operation; each acknowledgement must name the operation the model expects.
            long lastAcked = committed;
            foreach (string ack in run.Acks)
            {
                int space = ack.IndexOf(' ', StringComparison.Ordinal);
                long n = long.Parse(ack.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture);
                Assert.True(n == lastAcked + 1, $"{context}: acknowledgement of operation {n} after {lastAcked}.");
                TortureWorkload.Op op = TortureWorkload.Next(seed, n, model);
                Assert.True(op.Describe() == ack[(space + 1)..], $"{context}: operation {n} was acknowledged as '{ack[(space + 1)..]}'; the model says '{op.Describe()}'.");
                model.Apply(op);
                lastAcked = n;
            }

            TortureWorkload.Op inFlight = TortureWorkload.Next(seed, lastAcked + 1, model);
            TortureWorkload.State withInFlight = model.Clone();
            withInFlight.Apply(inFlight);

            if (viaCli)
            {
                await RecoverWithCliAsync(data, context);
                tally.ViaCli++;
            }

            using (VectorDatabase database = VectorDatabase.Open(data, new VectorDatabaseOptions { Wal = TortureWorkload.WalConfig(SegmentSize, 1_000_000) }))
            {
                if (viaCli)
                {
                    Assert.True(
                        database.Recovery.TornTailBytes == 0 && database.WalOpenReport.AbortedTransactionLsn is null,
                        $"{context}: 'oxivec recover' left a torn tail ({database.Recovery.TornTailBytes} bytes) or an open transaction for the next open.");
                }

                TortureWorkload.State actual = Snapshot(database, seed, context);
                string? notAcked = actual.Difference(model);
                if (notAcked is not null)
                {
                    string? notInFlight = actual.Difference(withInFlight);
                    Assert.True(
                        notInFlight is null,
                        $"{context}: the store is neither the state after the last acknowledged operation {lastAcked} ({notAcked}) " +
                        $"nor the state after the one in flight, {lastAcked + 1} '{inFlight.Describe()}' ({notInFlight}).");
                    model = withInFlight;
                    lastAcked++;
                    tally.InFlightCommitted++;
                }

                RecoveryStats recovery = database.Recovery;
                tally.FromCheckpoint += recovery.CheckpointLsn > 0 ? 1 : 0;
                tally.TornTails += recovery.TornTailBytes > 0 ? 1 : 0;
                tally.AbortedTransactions += database.WalOpenReport.AbortedTransactionLsn is null ? 0 : 1;
                if (Kills <= 200 || round % 50 == 0)
                {
                    output.WriteLine(
                        $"round {round,3}: {run.Acks.Count,3} acks ({kill}){(lastAcked > committed + run.Acks.Count ? ", in-flight operation committed" : "")}, " +
                        $"through operation {lastAcked}; recovered from checkpoint LSN {recovery.CheckpointLsn}, {recovery.TotalEntries} WAL records read, torn tail {recovery.TornTailBytes} bytes" +
                        $"{(database.WalOpenReport.AbortedTransactionLsn is { } aborted ? $", aborted transaction {aborted}" : "")}{(viaCli ? ", via 'oxivec recover'" : "")}; {actual}");
                }
            }

            CheckWal(data, tally, context);
            committed = lastAcked;
            tally.Rounds++;
        }

        output.WriteLine(
            $"{tally.Rounds} kills survived in {total.Elapsed.TotalSeconds:F1} s: {committed} operations; {tally.KilledWhileOpening} kills before the database was open, " +
            $"{tally.KilledAtCheckpoint} at a checkpoint, {tally.HalfBuiltSeen} leaving a half-built checkpoint or segment; {tally.InFlightCommitted} in-flight operations found committed; {tally.FromCheckpoint} recoveries from a checkpoint; " +
            $"{tally.TornTails} torn tails; {tally.AbortedTransactions} aborted transactions; {tally.ViaCli} recoveries by 'oxivec recover'; " +
            $"compressed segments seen after {tally.CompressedSeen} rounds (at most {tally.MaxCompressed}); the WAL started after LSN 1 after {tally.SegmentsRemovedSeen} rounds " +
            $"(first LSN up to {tally.MaxFirstLsn}); at most {tally.MaxSegments} segments.");
        Assert.True(committed >= Kills * 20, $"The rounds ran only {committed} operations: too little to test anything.");
        Assert.True(tally.FromCheckpoint > 0 && tally.CompressedSeen > 0 && tally.SegmentsRemovedSeen > 0, "Checkpoints, compression and retention did not all happen.");
    }

    /// <summary>Runs <c>oxivec recover --json</c> on the database and checks its statistics.</summary>
    private static async Task RecoverWithCliAsync(string data, string context)
    {
        CliResult result = await CliProcess.RunAsync("recover", "--data", data, "--json");
        Assert.True(result.ExitCode == 0, $"{context}: oxivec recover: {result}");
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        JsonElement root = json.RootElement;
        Assert.Equal("crash", root.GetProperty("mode").GetString());
        foreach (string key in (string[])["total_entries", "applied_entries", "skipped_entries", "corrupted_entries", "recovery_time_ms", "checkpoint_lsn", "torn_tail_bytes", "last_lsn"])
        {
            Assert.True(root.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.Number, $"{context}: oxivec recover --json has no number '{key}': {result.Stdout}");
        }

        Assert.Equal(0, root.GetProperty("corrupted_entries").GetInt64());
        Assert.Equal(
            root.GetProperty("total_entries").GetInt64(),
            root.GetProperty("applied_entries").GetInt64() + root.GetProperty("skipped_entries").GetInt64());
        Assert.Equal(root.GetProperty("last_lsn").GetInt64() - root.GetProperty("checkpoint_lsn").GetInt64(), root.GetProperty("total_entries").GetInt64());
    }

    /// <summary>
    /// The store as the workload sees it, each record checked against the operation its metadata names (vector and
    /// pad), each collection's options checked, and each index checked against the records (no ghost, none missing).
    /// </summary>
    private static TortureWorkload.State Snapshot(VectorDatabase database, long seed, string context)
    {
        var state = new TortureWorkload.State();
        foreach (CollectionInfo collection in database.ListCollections())
        {
            string name = collection.Name;
            Assert.True(TortureWorkload.CollectionNames.Contains(name), $"{context}: unexpected collection '{name}'.");
            Assert.True(TortureWorkload.Options(name) == collection.Options, $"{context}: collection {name} has options {collection.Options}.");
            state.AddCollection(name);
            IReadOnlyList<VectorRecord> records = database.Export(name);
            Assert.Equal(collection.Count, records.Count);
            foreach (VectorRecord record in records)
            {
                long op = record.Metadata["op"].AsLong;
                Assert.True(
                    record.Vector.Span.SequenceEqual(TortureWorkload.Vector(seed, op, name, record.Id))
                    && record.Metadata.Count == 2 && record.Metadata["pad"].AsString == TortureWorkload.Pad(op, name, record.Id),
                    $"{context}: {name}/{record.Id} does not hold what operation {op} wrote.");
                state.Set(name, record.Id, op);
            }

            if (records.Count > 0)
            {
                float[] query = records[0].Vector.ToArray();
                string[] exact = [.. database.Search(name, query, records.Count, new VectorSearchOptions { Exact = true }).Select(h => h.Id).Order(StringComparer.Ordinal)];
                Assert.True(
                    exact.SequenceEqual(records.Select(r => r.Id)),
                    $"{context}: an exact search of {name} finds [{string.Join(", ", exact)}]; the collection holds [{string.Join(", ", records.Select(r => r.Id))}].");
                SearchResult[] approximate = [.. database.Search(name, query, Math.Min(10, records.Count), new VectorSearchOptions { Ef = 64 })];
                Assert.True(
                    approximate.All(h => state.Exists(name, h.Id)) && approximate.Select(h => h.Id).Distinct().Count() == approximate.Length,
                    $"{context}: a search of {name} returns [{string.Join(", ", approximate.Select(h => h.Id))}], not all live records.");
            }
        }

        return state;
    }

    /// <summary>The WAL verifies, and what retention and compression did is counted.</summary>
    private static void CheckWal(string data, Tally tally, string context)
    {
        string walDir = Path.Combine(data, "wal");
        string[] leftovers = HalfBuilt(data);
        Assert.True(leftovers.Length == 0, $"{context}: recovery left half-built files: {string.Join(", ", leftovers)}");
        WalVerifyReport verify = new WalReader(walDir).Verify();
        Assert.True(verify.IsValid, $"{context}: the WAL does not verify after recovery: {string.Join("; ", verify.Issues)}");
        string[] segments = [.. Directory.GetFiles(walDir).Select(Path.GetFileName).OfType<string>().Where(f => f.EndsWith(".wal", StringComparison.Ordinal) || f.EndsWith(".walz", StringComparison.Ordinal))];
        int compressed = segments.Count(f => f.EndsWith(".walz", StringComparison.Ordinal));
        long firstLsn = verify.Segments.Count == 0 ? 1 : verify.Segments[0].FirstLsn;
        tally.CompressedSeen += compressed > 0 ? 1 : 0;
        tally.MaxCompressed = Math.Max(tally.MaxCompressed, compressed);
        tally.SegmentsRemovedSeen += firstLsn > 1 ? 1 : 0;
        tally.MaxFirstLsn = Math.Max(tally.MaxFirstLsn, firstLsn);
        tally.MaxSegments = Math.Max(tally.MaxSegments, segments.Length);
    }

    /// <summary>What a kill left half-built: checkpoint directories and WAL files still named <c>*.tmp</c>.</summary>
    private static string[] HalfBuilt(string data)
    {
        string checkpoints = Path.Combine(data, "checkpoints"), wal = Path.Combine(data, "wal");
        return
        [
            .. Directory.Exists(checkpoints) ? Directory.GetDirectories(checkpoints, "*.tmp") : [],
            .. Directory.Exists(wal) ? Directory.GetFiles(wal, "*.tmp") : [],
        ];
    }

    /// <summary>True for <c>begin {n} {kind}</c> (any kind when <paramref name="kind"/> is null).</summary>
    private static bool IsBegin(string line, string? kind, out long n)
    {
        n = 0;
        string[] parts = line.Split(' ');
        return parts.Length == 3 && parts[0] == "begin" && (kind is null || parts[2] == kind)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out n);
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;
}

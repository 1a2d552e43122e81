using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OxiVec.CrashTests.Infrastructure;
using OxiVec.CrashWorker;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;
using Xunit.Abstractions;

namespace OxiVec.CrashTests;

/// <summary>
/// The torture test: one database, reused across rounds so that checkpoints, retention (KeepLast(1)) and compressed
/// segments accumulate, written by a worker whose <see cref="Writers"/> threads run at once a random mix of inserts,
/// upserts, updates, deletes, transactions across collections, atomic batches and manual checkpoints (writer 0 also
/// drops and re-creates a collection of its own), while background checkpoints, retention, compression, rotation of
/// 64 KiB segments and spare segments run beside them, with an fsync per commit. Each round SIGKILLs the worker at a
/// random moment (while it opens the database, at a manual checkpoint, when a checkpoint directory is created or
/// renamed into place, when a segment is renamed into the log, or after a random number of acknowledgements),
/// recovers (in this process, or first with <c>oxivec recover --json</c>), and compares the whole store with the
/// models rebuilt from each writer's acknowledged operations: per writer, exactly the state after its last
/// acknowledged operation, or after the one it had in flight, with every vector and metadata value exact. The
/// checkpoint it recovered from (written while the other writers went on) must itself be exact: per writer, the
/// state after a whole number of its operations.
/// </summary>
/// <remarks>
/// Each writer owns its ids, so its model does not depend on how the threads interleaved. Where each kill landed is
/// read from the disk the worker left (a half-built checkpoint, more checkpoints or covered segments than retention
/// keeps, a segment being created or still empty, a spare holding the next segment's first records) and from the recovery (a torn tail, an aborted transaction), and
/// each of these but the torn tail (which a SIGKILL almost never makes) must have happened at least once over the run. <c>OXIVEC_CRASH_SEED</c> replays a run (the kill
/// points and the workload; the interleaving is the scheduler's); the seed is printed first.
/// </remarks>
public sealed class TortureTests(ITestOutputHelper output)
{
    /// <summary>Kills per run; <c>OXIVEC_TORTURE_KILLS</c> (e.g. 2000) raises it for a soak run.</summary>
    private static readonly int Kills = EnvInt("OXIVEC_TORTURE_KILLS") ?? 100;

    /// <summary>The seed of everything random here; <c>OXIVEC_CRASH_SEED</c> replays or varies a run.</summary>
    private static readonly int Seed = EnvInt("OXIVEC_CRASH_SEED") ?? 20_250_611;

    /// <summary>Writer threads in the worker; <c>OXIVEC_TORTURE_WRITERS</c> changes it.</summary>
    private static readonly int Writers = EnvInt("OXIVEC_TORTURE_WRITERS") ?? 3;

    /// <summary>A generous bound for a worker to start or acknowledge; reaching it fails the test.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private const long SegmentSize = WalConfig.MinSegmentSizeBytes;

    private enum KillMode
    {
        WhileOpening,
        AtCheckpoint,
        CheckpointDirectoryCreated,
        CheckpointRenamed,
        SegmentRenamed,
        AfterAcks,
    }

    private sealed record Kill(KillMode Mode, int Count)
    {
        public override string ToString() => Mode switch
        {
            KillMode.WhileOpening => "kill while it opens the database",
            KillMode.AtCheckpoint => $"kill at the first manual checkpoint after {Count} acks",
            KillMode.CheckpointDirectoryCreated => "kill when a checkpoint directory is created",
            KillMode.CheckpointRenamed => "kill when a checkpoint is renamed into place",
            KillMode.SegmentRenamed => "kill when a segment is renamed into the log",
            _ => $"kill after {Count} acks",
        };
    }

    /// <summary>What the rounds went through, to show (and check) that the interesting cases happened.</summary>
    private sealed class Tally
    {
        public int Rounds;
        public int InFlightCommitted;
        public int FromCheckpoint;
        public int CheckpointsVerified;
        public int TornTails;
        public int AbortedTransactions;
        public int ViaCli;
        public int CompressedSeen;
        public int MaxCompressed;
        public int SegmentsRemovedSeen;
        public long MaxFirstLsn;
        public int MaxSegments;
        public int KilledWhileOpening;
        public int KilledInCheckpoint;
        public int KilledInRetention;
        public int KilledAtSegmentBoundary;
        public int KilledByFileEvent;
    }

    [Fact]
    public async Task ConcurrentTortureWorker_KilledAtRandomMoments_StoreIsExactlyEachWritersAcknowledgedOperations()
    {
        var random = new Random(Seed ^ 0x70A7);
        long seed = random.Next();
        using var dir = new TempDirectory();
        string data = dir.Sub("db");
        string checkpoints = Path.Combine(data, "checkpoints"), wal = Path.Combine(data, "wal");
        output.WriteLine($"seed {Seed} (set OXIVEC_CRASH_SEED to replay), workload seed {seed}, {Writers} writers, {Kills} kills, data {data}");

        // The shared collections exist before any writer starts, and a first checkpoint makes the directory to watch.
        using (VectorDatabase setup = VectorDatabase.Open(data, new VectorDatabaseOptions { Wal = TortureWorkload.WalConfig(SegmentSize, 1_000_000) }))
        {
            setup.CreateCollection(TortureWorkload.Hnsw, TortureWorkload.Options(TortureWorkload.Hnsw));
            setup.CreateCollection(TortureWorkload.Flat, TortureWorkload.Options(TortureWorkload.Flat));
            setup.Checkpoint();
        }

        TortureWorkload.State[] models = [.. Enumerable.Range(0, Writers).Select(_ => Empty())]; // per writer, after its operations 1 .. committed[w]
        long[] committed = new long[Writers];
        // Per writer, the fingerprint of its state after each of its operations (0 .. committed): a checkpoint must hold one of them.
        HashSet<string>[] prefixes = [.. models.Select(m => new HashSet<string>(StringComparer.Ordinal) { Fingerprint(m) })];
        var tally = new Tally();
        var total = Stopwatch.StartNew();
        for (int round = 1; round <= Kills; round++)
        {
            Kill kill = random.Next(100) switch
            {
                < 8 => new Kill(KillMode.WhileOpening, 0),
                < 18 => new Kill(KillMode.AtCheckpoint, random.Next(0, 40)),
                < 32 => new Kill(KillMode.CheckpointDirectoryCreated, 0),
                < 46 => new Kill(KillMode.CheckpointRenamed, 0),
                < 60 => new Kill(KillMode.SegmentRenamed, 0),
                < 70 => new Kill(KillMode.AfterAcks, random.Next(0, 4)),
                _ => new Kill(KillMode.AfterAcks, random.Next(4, 250)),
            };
            int checkpointInterval = random.Next(4) == 0 ? 1_000_000 : random.Next(15, 80);
            bool viaCli = round % 5 == 0;
            string from = string.Join(',', committed.Select(c => Str(c + 1)));
            string context = $"seed {Seed}, round {round} ({kill}, background checkpoints every {checkpointInterval} operations, writers from operations {from})";

            // A rotation into a ready spare writes the next segment's first records before the sealer names it, so a
            // kill at the rename lands after them; every other kill-at-rename round runs without spares, where the
            // rotation names the segment on the write path before writing into it (as whenever no spare is ready).
            bool withoutSpares = kill.Mode == KillMode.SegmentRenamed && round % 2 == 0;
            string[] arguments = [
                CrashTortureWorkerCommand.Name, "--data", data, "--seed", Str(seed), "--from", from,
                "--checkpoint-interval", Str(checkpointInterval), "--segment-size", Str(SegmentSize),
                .. withoutSpares ? ["--no-preallocate"] : Array.Empty<string>()];
            if (withoutSpares)
            {
                context += ", without spare segments";
            }

            AckRun run;
            await using (var worker = AckingProcess.StartWorker(arguments))
            {
                if (kill.Mode == KillMode.WhileOpening)
                {
                    await worker.WaitForLineAsync(line => line == "opening", "'opening'", Patience);
                }
                else
                {
                    Assert.Equal(committed.Sum(), await worker.WaitForReadyAsync(Patience));
                    switch (kill.Mode)
                    {
                        case KillMode.AtCheckpoint:
                            await worker.WaitForAcksAsync(kill.Count, Patience);
                            await worker.WaitForLineAsync(line => IsBegin(line, "checkpoint"), "'begin <w>:<n> checkpoint'", Patience);
                            break;
                        case KillMode.AfterAcks:
                            await worker.WaitForAcksAsync(kill.Count, Patience);
                            break;
                        default:
                            (string watched, Func<string, bool> match) = kill.Mode switch
                            {
                                KillMode.CheckpointDirectoryCreated => (checkpoints, (Func<string, bool>)(n => n.EndsWith(".tmp", StringComparison.Ordinal))),
                                KillMode.CheckpointRenamed => (checkpoints, n => !n.EndsWith(".tmp", StringComparison.Ordinal)),
                                _ => (wal, n => n.EndsWith(WalSegmentName.Suffix, StringComparison.Ordinal)),
                            };
                            (Task killed, IDisposable watcher) = worker.KillOnFileEvent(watched, match);
                            using (watcher)
                            {
                                // Without a checkpoint interval only manual checkpoints come: 600 acks is a bound, never a wait on time.
                                Task done = await Task.WhenAny(killed, worker.WhenAcks(600), Task.Delay(Patience));
                                tally.KilledByFileEvent += done == killed ? 1 : 0;
                            }

                            break;
                    }
                }

                run = await worker.KillAsync();
            }

            Assert.True(run.ExitCode == 128 + 9 || OperatingSystem.IsWindows(), $"{context}: not killed by SIGKILL (exit code {run.ExitCode}): {run.Stderr}");
            string[] unexpected = [.. run.OtherLines.Where(l => l != "opening" && !IsBegin(l, null))];
            Assert.True(unexpected.Length == 0, $"{context}: unexpected output: {string.Join(" | ", unexpected)}");
            tally.KilledWhileOpening += kill.Mode == KillMode.WhileOpening && run.Ready is null ? 1 : 0;

            // Where the kill landed, read from what the worker left on disk.
            bool inCheckpoint = Directory.GetDirectories(checkpoints, "*.tmp").Length > 0;
            bool inRetention = RetentionPending(checkpoints, wal);
            WalVerifyReport left = new WalReader(wal).Verify();
            bool atSegmentBoundary = Directory.GetFiles(wal, "*" + WalSegmentName.Suffix + WalSegmentName.TempSuffix).Length > 0
                || (left.Segments.Count > 1 && left.Segments[^1].Records == 0)
                || RotationPending(wal);

            // Each writer's model after every acknowledged operation; each acknowledgement must name the operation the model expects.
            long[] lastAcked = [.. committed];
            foreach (string ack in run.Acks)
            {
                (int w, long n, string description) = ParseAck(ack, context);
                Assert.True(n == lastAcked[w] + 1, $"{context}: writer {w} acknowledged operation {n} after {lastAcked[w]}.");
                TortureWorkload.Op op = TortureWorkload.Next(seed, w, n, models[w]);
                Assert.True(op.Describe() == description, $"{context}: writer {w}'s operation {n} was acknowledged as '{description}'; the model says '{op.Describe()}'.");
                models[w].Apply(op);
                prefixes[w].Add(Fingerprint(models[w]));
                lastAcked[w] = n;
            }

            if (viaCli)
            {
                await RecoverWithCliAsync(data, context);
                tally.ViaCli++;
            }

            using (VectorDatabase database = Reopen(data, context))
            {
                if (viaCli)
                {
                    Assert.True(
                        database.Recovery.TornTailBytes == 0 && database.WalOpenReport.AbortedTransactionLsn is null,
                        $"{context}: 'oxivec recover' left a torn tail ({database.Recovery.TornTailBytes} bytes) or an open transaction for the next open.");
                }

                TortureWorkload.State[] actual = Snapshot(database, seed, context);
                for (int w = 0; w < Writers; w++)
                {
                    string? notAcked = actual[w].Difference(models[w]);
                    if (notAcked is null)
                    {
                        continue;
                    }

                    TortureWorkload.Op inFlight = TortureWorkload.Next(seed, w, lastAcked[w] + 1, models[w]);
                    TortureWorkload.State withInFlight = models[w].Clone();
                    withInFlight.Apply(inFlight);
                    string? notInFlight = actual[w].Difference(withInFlight);
                    Assert.True(
                        notInFlight is null,
                        $"{context}: writer {w}'s records are neither the state after its last acknowledged operation {lastAcked[w]} ({notAcked}) " +
                        $"nor the state after the one in flight, {lastAcked[w] + 1} '{inFlight.Describe()}' ({notInFlight}).");
                    models[w] = withInFlight;
                    prefixes[w].Add(Fingerprint(withInFlight));
                    lastAcked[w]++;
                    tally.InFlightCommitted++;
                }

                if (database.LastCheckpoint is { } loaded)
                {
                    CheckCheckpointIsExact(loaded, seed, prefixes, context);
                    tally.CheckpointsVerified++;
                }

                RecoveryStats recovery = database.Recovery;
                tally.FromCheckpoint += recovery.CheckpointLsn > 0 ? 1 : 0;
                tally.TornTails += recovery.TornTailBytes > 0 || left.Issues.Any(i => i.Kind == WalIssueKind.TornTail) ? 1 : 0;
                bool aborted = database.WalOpenReport.AbortedTransactionLsn is not null; // after 'oxivec recover' the abort is already logged
                tally.AbortedTransactions += aborted ? 1 : 0;
                tally.KilledInCheckpoint += inCheckpoint ? 1 : 0;
                tally.KilledInRetention += inRetention ? 1 : 0;
                tally.KilledAtSegmentBoundary += atSegmentBoundary ? 1 : 0;
                if (Kills <= 200 || round % 50 == 0)
                {
                    output.WriteLine(
                        $"round {round,3}: {run.Acks.Count,3} acks ({kill}), writers through operations {string.Join(',', lastAcked)}; " +
                        $"recovered from checkpoint LSN {recovery.CheckpointLsn}, {recovery.TotalEntries} WAL records read, torn tail {recovery.TornTailBytes} bytes" +
                        $"{(aborted ? ", aborted transaction" : "")}{(inCheckpoint ? ", killed inside a checkpoint" : "")}{(inRetention ? ", before retention finished" : "")}" +
                        $"{(atSegmentBoundary ? ", at a segment boundary" : "")}{(viaCli ? ", via 'oxivec recover'" : "")}");
                }
            }

            CheckWal(data, tally, context);
            committed = lastAcked;
            tally.Rounds++;
        }

        output.WriteLine(
            $"{tally.Rounds} kills survived in {total.Elapsed.TotalSeconds:F1} s: {committed.Sum()} operations by {Writers} writers; {tally.KilledWhileOpening} kills before the database was open, " +
            $"{tally.KilledByFileEvent} from a file event; landed inside a checkpoint {tally.KilledInCheckpoint}, before retention finished {tally.KilledInRetention}, " +
            $"at a segment boundary {tally.KilledAtSegmentBoundary}; {tally.InFlightCommitted} in-flight operations found committed; {tally.FromCheckpoint} recoveries from a checkpoint; " +
            $"{tally.CheckpointsVerified} recovered checkpoints checked exact; {tally.TornTails} torn tails; {tally.AbortedTransactions} aborted transactions; {tally.ViaCli} recoveries by 'oxivec recover'; " +
            $"compressed segments seen after {tally.CompressedSeen} rounds (at most {tally.MaxCompressed}); the WAL started after LSN 1 after {tally.SegmentsRemovedSeen} rounds " +
            $"(first LSN up to {tally.MaxFirstLsn}); at most {tally.MaxSegments} segments.");
        Assert.True(committed.Sum() >= Kills * 20, $"The rounds ran only {committed.Sum()} operations: too little to test anything.");
        Assert.True(tally.FromCheckpoint > 0 && tally.CompressedSeen > 0 && tally.SegmentsRemovedSeen > 0, "Checkpoints, compression and retention did not all happen.");
        Assert.True(tally.CheckpointsVerified > 0, "No recovered checkpoint's content was checked.");

        // Torn tails are counted, not required: a SIGKILL tears a write only when it lands inside a pwrite of several
        // pages (none in KillTests' 40 rounds of 1-4 KiB records); StoreSimulatedTortureTests requires them of power losses.
        Assert.True(
            tally.KilledInCheckpoint > 0 && tally.KilledInRetention > 0 && tally.KilledAtSegmentBoundary > 0 && tally.AbortedTransactions > 0,
            $"seed {Seed}: not every kind of kill happened: inside a checkpoint {tally.KilledInCheckpoint}, before retention finished {tally.KilledInRetention}, " +
            $"at a segment boundary {tally.KilledAtSegmentBoundary}, aborted transactions {tally.AbortedTransactions}.");
    }

    /// <summary>
    /// The checkpoint recovery loaded is exact although writers ran while it was written: per writer, its records are
    /// the state after a whole number of that writer's operations (one of <paramref name="prefixes"/>), each record
    /// holding exactly what the operation its metadata names wrote. A capture that took part of a commit, or read a
    /// slot while it was rewritten, holds a state no prefix gives.
    /// </summary>
    private static void CheckCheckpointIsExact(CheckpointInfo loaded, long seed, HashSet<string>[] prefixes, string context)
    {
        CheckpointData data = CheckpointFiles.Read(new CheckpointEntry(loaded.Sequence, loaded.CoveredLsn, loaded.Path));
        TortureWorkload.State[] states = [.. Enumerable.Range(0, Writers).Select(_ => Empty())];
        foreach (CheckpointCollection collection in data.Collections)
        {
            collection.Index?.Dispose();
            if (collection.Name == TortureWorkload.Transient)
            {
                states[0].AddCollection(collection.Name);
            }

            foreach (VectorRecord record in collection.Records)
            {
                long op = record.Metadata["op"].AsLong;
                Assert.True(
                    record.Vector.Span.SequenceEqual(TortureWorkload.Vector(seed, op, collection.Name, record.Id))
                    && record.Metadata["pad"].AsString == TortureWorkload.Pad(op, collection.Name, record.Id),
                    $"{context}: checkpoint {loaded.Path} holds {collection.Name}/{record.Id} with contents that are not operation {op}'s.");
                states[TortureWorkload.WriterOf(record.Id)].Set(collection.Name, record.Id, op);
            }
        }

        for (int w = 0; w < Writers; w++)
        {
            Assert.True(
                prefixes[w].Contains(Fingerprint(states[w])),
                $"{context}: checkpoint {loaded.Path} (LSN {loaded.CoveredLsn}) holds writer {w}'s records as {states[w]}: the state after no number of its operations.");
        }
    }

    /// <summary>A writer's state as one string: collections, ids and the operations that wrote them, in order.</summary>
    private static string Fingerprint(TortureWorkload.State state) =>
        string.Join(';', state.Collections.Select(c => c + ":" + string.Join(',', state.Records(c).Select(r => r.Key + "@" + r.Value.ToString(CultureInfo.InvariantCulture)))));

    /// <summary>Opens the killed worker's database; a failure names the seed and round to replay it.</summary>
    private static VectorDatabase Reopen(string data, string context)
    {
        try
        {
            return VectorDatabase.Open(data, new VectorDatabaseOptions { Wal = TortureWorkload.WalConfig(SegmentSize, 1_000_000) });
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            throw new InvalidOperationException($"{context}: opening after the kill failed: {ex.Message}", ex);
        }
    }

    private static TortureWorkload.State Empty()
    {
        var state = new TortureWorkload.State();
        state.AddCollection(TortureWorkload.Hnsw);
        state.AddCollection(TortureWorkload.Flat);
        return state;
    }

    /// <summary>Parses <c>{w}:{n} {description}</c>.</summary>
    private static (int Writer, long N, string Description) ParseAck(string ack, string context)
    {
        int colon = ack.IndexOf(':', StringComparison.Ordinal), space = ack.IndexOf(' ', StringComparison.Ordinal);
        Assert.True(
            colon > 0 && space > colon
            && int.TryParse(ack.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out int w) && w < Writers
            && long.TryParse(ack.AsSpan(colon + 1, space - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n),
            $"{context}: malformed acknowledgement 'ack {ack}'.");
        return (int.Parse(ack.AsSpan(0, colon), CultureInfo.InvariantCulture), long.Parse(ack.AsSpan(colon + 1, space - colon - 1), CultureInfo.InvariantCulture), ack[(space + 1)..]);
    }

    /// <summary>
    /// True when the kill came after a checkpoint was renamed into place and before its retention step finished:
    /// more checkpoints than <c>KeepLast(1)</c> keeps, or a sealed segment wholly covered by the newest checkpoint.
    /// </summary>
    /// <summary>
    /// True when a spare holds a segment header: a rotation had begun writing the next segment, which the sealer had
    /// not yet named (opening adopts it, or sets it aside when it does not continue the log).
    /// </summary>
    private static bool RotationPending(string wal)
    {
        Span<byte> magic = stackalloc byte[sizeof(ulong)];
        foreach (string spare in Directory.GetFiles(wal, WalSegmentName.SparePrefix + "*" + WalSegmentName.TempSuffix))
        {
            using FileStream stream = File.OpenRead(spare);
            if (stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) == magic.Length
                && System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(magic) == WalFormat.Magic)
            {
                return true;
            }
        }

        return false;
    }

    private static bool RetentionPending(string checkpoints, string wal)
    {
        List<CheckpointEntry> kept = CheckpointFiles.List(checkpoints, removeHalfBuilt: false);
        if (kept.Count > 1)
        {
            return true;
        }

        if (kept.Count == 0)
        {
            return false;
        }

        long[] firsts = [.. Directory.GetFiles(wal).Select(Path.GetFileName).OfType<string>()
            .Select(f => WalSegmentName.TryParse(f, out _, out long first) ? first : 0).Where(f => f > 0).Distinct().Order()]; // twins mid-compression count once
        return firsts.Length > 1 && firsts[1] - 1 <= kept[0].CoveredLsn;
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
    private static TortureWorkload.State[] Snapshot(VectorDatabase database, long seed, string context)
    {
        TortureWorkload.State[] states = [.. Enumerable.Range(0, Writers).Select(_ => Empty())];
        foreach (CollectionInfo collection in database.ListCollections())
        {
            string name = collection.Name;
            Assert.True(TortureWorkload.CollectionNames.Contains(name), $"{context}: unexpected collection '{name}'.");
            Assert.True(TortureWorkload.Options(name) == collection.Options, $"{context}: collection {name} has options {collection.Options}.");
            if (name == TortureWorkload.Transient)
            {
                states[0].AddCollection(name);
            }

            IReadOnlyList<VectorRecord> records = database.Export(name);
            Assert.Equal(collection.Count, records.Count);
            foreach (VectorRecord record in records)
            {
                long op = record.Metadata["op"].AsLong;
                Assert.True(
                    record.Vector.Span.SequenceEqual(TortureWorkload.Vector(seed, op, name, record.Id))
                    && record.Metadata.Count == 2 && record.Metadata["pad"].AsString == TortureWorkload.Pad(op, name, record.Id),
                    $"{context}: {name}/{record.Id} does not hold what operation {op} wrote.");
                int w = TortureWorkload.WriterOf(record.Id);
                Assert.True(w >= 0 && w < Writers && states[w].HasCollection(name), $"{context}: {name}/{record.Id} belongs to no writer that writes {name}.");
                states[w].Set(name, record.Id, op);
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
                    approximate.All(h => records.Any(r => r.Id == h.Id)) && approximate.Select(h => h.Id).Distinct().Count() == approximate.Length,
                    $"{context}: a search of {name} returns [{string.Join(", ", approximate.Select(h => h.Id))}], not all live records.");
            }
        }

        return states;
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

    /// <summary>True for <c>begin {w}:{n} {kind}</c> (any kind when <paramref name="kind"/> is null).</summary>
    private static bool IsBegin(string line, string? kind)
    {
        string[] parts = line.Split(' ');
        string[] position = parts.Length == 3 ? parts[1].Split(':') : [];
        return parts.Length == 3 && parts[0] == "begin" && (kind is null || parts[2] == kind) && position.Length == 2
            && int.TryParse(position[0], NumberStyles.None, CultureInfo.InvariantCulture, out _)
            && long.TryParse(position[1], NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;
}

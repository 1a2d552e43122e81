using System.Diagnostics;
using System.Globalization;
using OxiVec.CrashTests.Infrastructure;
using OxiVec.Wal;
using Xunit.Abstractions;

namespace OxiVec.CrashTests;

/// <summary>
/// Kills a real writer process with SIGKILL while it appends with group commit, then recovers the WAL and checks that
/// every write it acknowledged survived, intact, and that nothing partial looks committed.
/// </summary>
public sealed class KillTests(ITestOutputHelper output)
{
    /// <summary>Rounds per run; <c>OXIVEC_CRASH_ROUNDS</c> raises it for a soak run.</summary>
    private static readonly int Rounds = EnvInt("OXIVEC_CRASH_ROUNDS") ?? 40;

    /// <summary>The seed of everything random here; <c>OXIVEC_CRASH_SEED</c> replays or varies a run.</summary>
    private static readonly int Seed = EnvInt("OXIVEC_CRASH_SEED") ?? 20_250_611;

    /// <summary>Small segments (the minimum), so that rounds kill the writer around rotations too.</summary>
    private const long SegmentSize = WalConfig.MinSegmentSizeBytes;

    /// <summary>A generous bound for the worker to start or to acknowledge; reaching it fails the test.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Kill_DuringGroupCommit_EveryAcknowledgedRecordSurvives()
    {
        var random = new Random(Seed);
        using var dir = new TempDirectory();
        var ledger = new AckLedger();
        long lastLsn = 0;
        int tornTails = 0, abortedTransactions = 0, atSegmentBoundary = 0;
        var total = Stopwatch.StartNew();
        output.WriteLine($"seed {Seed}, {Rounds} rounds, WAL {dir.Path}");
        for (int round = 1; round <= Rounds; round++)
        {
            // Small vectors make many records per segment; large ones (1 to 4 KiB records) rotate every few group
            // commits, so that transactions often straddle two segments.
            bool large = random.Next(3) == 0;

            // When to kill: as soon as the WAL is open (the first group commits, or the recovery's own abort record);
            // after a number of acknowledgements; or the moment a new segment file is created or renamed into place
            // (then every other operation is a transaction, so that one is likely cut at the segment boundary).
            Kill kill = random.Next(10) switch
            {
                < 2 => new Kill(0, 0, false),
                < 5 => new Kill(0, random.Next(1, 4), WhenCreated: random.Next(2) == 0),
                _ => new Kill(large ? random.Next(20, 301) : random.Next(50, 2001), 0, false),
            };
            // A rotation into a ready spare writes the next segment's first records before its name exists, so a kill at
            // the rename no longer lands between a transaction's two halves; the rename rounds therefore run without
            // preallocation (no spares), where the rotation names the next segment on the write path before writing
            // into it, as a rotation does whenever no spare is ready. Kills inside a spare rotation are covered by
            // Kill_WithAnIntervalPolicy_AroundRotations and WalBackgroundSealTests.
            var settings = new WorkerSettings(
                Seed: random.Next(), TxEvery: kill.AtSegmentFile > 0 ? 2 : random.Next(2, 9),
                Dimension: large ? random.Next(256, 1025) : random.Next(1, 97), Writers: random.Next(2, 7), SegmentSize,
                PreallocateSegments: !(kill.AtSegmentFile > 0 && !kill.WhenCreated));
            string context = $"seed {Seed}, round {round} ({settings}, {kill})";

            string? newestBefore = NewestSegment(dir.Path);
            WorkerRun run;
            await using (var worker = CrashWorkerProcess.Start(dir.Path, settings))
            {
                long ready = await worker.WaitForReadyAsync(Patience);
                Assert.True(ready == lastLsn, $"{context}: the worker opened the WAL at LSN {ready}; it was closed at LSN {lastLsn}.");
                if (kill.AtSegmentFile > 0)
                {
                    await worker.KillAtSegmentFileAsync(dir.Path, kill.AtSegmentFile, kill.WhenCreated, Patience);
                }
                else
                {
                    await worker.WaitForAcksAsync(kill.AfterAcks, Patience);
                }

                run = await worker.KillAsync();
                Assert.True(worker.BadLines.Count == 0, $"{context}: unexpected worker output: {string.Join(" | ", worker.BadLines)}");
            }

            Assert.True(OperatingSystem.IsWindows() || run.ExitCode == 128 + 9, $"{context}: the worker was not killed by SIGKILL (exit code {run.ExitCode}): {run.Stderr}");
            Assert.True(run.Acks.Count >= kill.AfterAcks, $"{context}: only {run.Acks.Count} acknowledgements.");
            ledger.Add(context, run, settings);

            // Where the kill landed, read from what the worker left before recovery tidies it.
            bool boundary = KilledAtSegmentBoundary(dir.Path, newestBefore, ledger.MaxLsn);
            atSegmentBoundary += boundary ? 1 : 0;

            WalOpenReport report = RecoveryCheck.AssertRecovered(dir.Path, SegmentSize, ledger, context);
            tornTails += report.TornTailBytes > 0 ? 1 : 0;
            abortedTransactions += report.AbortedTransactionLsn is null ? 0 : 1;
            lastLsn = report.LastLsn + (report.AbortedTransactionLsn is null ? 0 : 1);
            output.WriteLine(
                $"round {round,2}: {run.Acks.Count,5} acks ({kill}), dimension {settings.Dimension,4}, highest acked LSN {ledger.MaxLsn,6}, recovered to LSN {report.LastLsn,6}, " +
                $"{report.SegmentCount,3} segments, torn tail {report.TornTailBytes} bytes, aborted tx {report.AbortedTransactionLsn?.ToString(CultureInfo.InvariantCulture) ?? "-"}{(boundary ? ", at a segment boundary" : "")}");
        }

        output.WriteLine(
            $"{Rounds} rounds, {ledger.Acks.Count} acknowledgements checked, {tornTails} torn tails, {abortedTransactions} aborted transactions, " +
            $"{atSegmentBoundary} kills at a segment boundary, {total.Elapsed.TotalSeconds:F1} s");
        Assert.True(ledger.Acks.Count > Rounds * 50 / 2, "The rounds acknowledged too little to test anything.");

        // Torn tails are counted, not required: a SIGKILL tears a write only when it lands inside a pwrite of several pages.
        Assert.True(
            abortedTransactions > 0 && atSegmentBoundary > 0,
            $"seed {Seed}: not every kind of kill happened: aborted transactions {abortedTransactions}, at a segment boundary {atSegmentBoundary}.");
    }

    /// <summary>
    /// An interval policy acknowledges a write once it is written (no fsync), so a kill -9 must keep every acknowledged
    /// record from the page cache: also those a rotation wrote into the next segment's spare before the sealer renamed
    /// it (opening adopts the spare). Large records on the smallest segments rotate every few commits.
    /// </summary>
    [Fact]
    public async Task Kill_WithAnIntervalPolicy_AroundRotations_EveryAcknowledgedRecordSurvives()
    {
        var random = new Random(Seed + 1);
        using var dir = new TempDirectory();
        var ledger = new AckLedger();
        long lastLsn = 0;
        int sparesInUse = 0;
        int rounds = Math.Max(10, Rounds / 4);
        for (int round = 1; round <= rounds; round++)
        {
            var settings = new WorkerSettings(
                Seed: random.Next(), TxEvery: random.Next(2, 9), Dimension: random.Next(512, 2049), Writers: random.Next(1, 5), SegmentSize,
                SyncIntervalMs: 3_600_000); // only rotations and the 8 MiB background fsync sync: acknowledgements are writes
            int afterAcks = random.Next(20, 400);
            string context = $"seed {Seed}, interval round {round} ({settings}, kill after {afterAcks} acks)";
            WorkerRun run;
            await using (var worker = CrashWorkerProcess.Start(dir.Path, settings))
            {
                long ready = await worker.WaitForReadyAsync(Patience);
                Assert.True(ready == lastLsn, $"{context}: the worker opened the WAL at LSN {ready}; it was closed at LSN {lastLsn}.");
                await worker.WaitForAcksAsync(afterAcks, Patience);
                run = await worker.KillAsync();
                Assert.True(worker.BadLines.Count == 0, $"{context}: unexpected worker output: {string.Join(" | ", worker.BadLines)}");
            }

            Assert.True(OperatingSystem.IsWindows() || run.ExitCode == 128 + 9, $"{context}: the worker was not killed by SIGKILL (exit code {run.ExitCode}): {run.Stderr}");
            ledger.Add(context, run, settings);
            sparesInUse += Directory.GetFiles(dir.Path, WalSegmentName.SparePrefix + "*" + WalSegmentName.TempSuffix).Count(HoldsASegmentHeader);
            WalOpenReport report = RecoveryCheck.AssertRecovered(dir.Path, SegmentSize, ledger, context);
            lastLsn = report.LastLsn + (report.AbortedTransactionLsn is null ? 0 : 1);
        }

        output.WriteLine($"{rounds} interval rounds, {ledger.Acks.Count} acknowledgements checked, {sparesInUse} kills left a begun spare (adopted on open)");
        Assert.True(ledger.Acks.Count > rounds * 20, "The rounds acknowledged too little to test anything.");
    }

    /// <summary>Whether a spare file starts with a valid segment header (a rotation had begun the next segment in it).</summary>
    private static bool HoldsASegmentHeader(string path)
    {
        var bytes = new byte[WalFormat.SegmentHeaderSize];
        using FileStream file = File.OpenRead(path);
        return file.Read(bytes) == bytes.Length && WalFormat.TryReadSegmentHeader(bytes, out _, out _);
    }

    /// <summary>
    /// True when the kill landed at a segment boundary: the worker left a segment half-created (<c>NAME.wal.tmp</c>),
    /// or it rotated into a segment during this round (the newest is not <paramref name="newestBefore"/>) and nothing
    /// in that segment had been acknowledged (its first LSN is past <paramref name="maxAckedLsn"/>): killed between the
    /// rotation and the first acknowledged commit in the new segment.
    /// </summary>
    private static bool KilledAtSegmentBoundary(string walDir, string? newestBefore, long maxAckedLsn)
    {
        if (Directory.GetFiles(walDir, "*" + WalSegmentName.Suffix + WalSegmentName.TempSuffix).Length > 0)
        {
            return true;
        }

        WalVerifyReport left = new WalReader(walDir).Verify();
        return left.Segments.Count > 1 && Path.GetFileName(left.Segments[^1].File) != newestBefore && left.Segments[^1].FirstLsn > maxAckedLsn;
    }

    /// <summary>The name of the newest segment file, or null when there is none.</summary>
    private static string? NewestSegment(string walDir) => Directory.Exists(walDir)
        ? Directory.GetFiles(walDir, "*" + WalSegmentName.Suffix).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).LastOrDefault()
        : null;

    /// <summary>When a round kills the worker: after <paramref name="AfterAcks"/> acknowledgements, or at the n-th new segment file.</summary>
    private sealed record Kill(int AfterAcks, int AtSegmentFile, bool WhenCreated)
    {
        public override string ToString() => AtSegmentFile > 0
            ? $"kill when new segment file {AtSegmentFile} is {(WhenCreated ? "created" : "renamed into place")}"
            : $"kill after {AfterAcks} acks";
    }

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null;
}

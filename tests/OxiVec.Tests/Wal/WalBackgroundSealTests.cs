using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalSegmentRaceTests;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>
/// Rotation off the write path: the next segment comes from a spare made in the background (under every sync
/// policy), and its first records are written into the spare at once; the background sealer fsyncs the sealed
/// segment, then the new file, renames it, fsyncs the directory and cuts the sealed segment. The sealed segment is
/// still fsynced before the next one is named, no record of the new segment is published durable before its name is,
/// a spare that continues the log is adopted when the process died before its rename, and a failure in the
/// background fails the WAL.
/// </summary>
public sealed class WalBackgroundSealTests
{
    private const int Interval = 3_600_000; // an interval policy whose flusher never fires during a test
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static WalConfig SimConfig(SimulatedDisk disk, int syncIntervalMs) =>
        Config(disk.Directory, segmentSize: WalConfig.MinSegmentSizeBytes) with { SyncIntervalMs = syncIntervalMs };

    /// <summary>Appends until the active segment is a quarter full (which starts a spare), then waits for the spare; returns the last LSN.</summary>
    private static long FillUntilSpareReady(WalManager wal, long next)
    {
        long last = next - 1;
        while (wal.Segments.Active.Limit < WalConfig.MinSegmentSizeBytes / 4)
        {
            last = wal.Append(InsertFor(last + 1, 64));
        }

        // The spare is being made: wait for it (a condition, not a time) instead of racing it to the rotation.
        Assert.True(SpinWait.SpinUntil(() => wal.SpareReady, Patience), "no spare was ever made");
        Assert.Equal(1, wal.GetMetrics().SegmentCount);
        return last;
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(true, Interval)]
    public void Spare_IsWrittenFullOfZerosOnlyWhenZeroFillSegmentsIsSet(bool zeroFill, int syncIntervalMs)
    {
        var disk = new SimulatedDisk();
        int spareWrites = 0;
        disk.OnWrite = name =>
        {
            if (name.StartsWith(WalSegmentName.SparePrefix, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref spareWrites);
            }
        };
        using var wal = WalManager.Open(disk, SimConfig(disk, syncIntervalMs) with { ZeroFillSegments = zeroFill });
        FillUntilSpareReady(wal, 1);

        // A 64 KiB spare: one megabyte-sized zero write covers it whole, then its header block is written (the block
        // is written either way, so that a mapped spare maps at its making, not on the write path).
        Assert.Equal(zeroFill ? 2 : 1, Volatile.Read(ref spareWrites));
    }

    [Fact]
    public void ZeroFillSegments_WithoutPreallocation_IsRefusedNamingBoth()
    {
        var config = Config("/sim/wal", preallocate: false) with { ZeroFillSegments = true };
        var ex = Assert.Throws<ArgumentException>(config.Validate);
        Assert.Equal(nameof(WalConfig.ZeroFillSegments), ex.ParamName);
        Assert.Contains(nameof(WalConfig.PreallocateSegments), ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Interval)]
    public void Rotation_TakesTheSpare_AndTheSealerNamesTheNewSegmentDurablyAndCutsTheSealedOne(int syncIntervalMs)
    {
        var disk = new SimulatedDisk();
        WalConfig config = SimConfig(disk, syncIntervalMs);
        long last;
        string first, second;
        using (var wal = WalManager.Open(disk, config))
        {
            last = FillUntilSpareReady(wal, 1);
            while (wal.SparesUsed == 0)
            {
                last = wal.Append(InsertFor(last + 1, 64));
            }

            // The sealer names the new segment in the background (its first records are in it already).
            Assert.True(SpinWait.SpinUntil(() => SegmentNames(disk).Count == 2, Patience), "the sealer never named the new segment");
            Assert.Equal(1, wal.SparesUsed);
            (first, second) = (SegmentNames(disk)[0], SegmentNames(disk)[1]);
            // The sealed segment was fsynced before the new one was named: everything in it is durable already.
            Assert.True(wal.DurableLsn >= FirstLsnOf(second) - 1, $"durable {wal.DurableLsn}, the second segment starts at {FirstLsnOf(second)}");
            wal.Sync();
            Assert.Equal(last, wal.DurableLsn);
        }

        // The spare was renamed into place with its header fsynced first, and a directory fsync followed the rename.
        int rename = disk.DirectoryLog.FindIndex(e => e.StartsWith("rename spare-", StringComparison.Ordinal) && e.EndsWith(" " + second, StringComparison.Ordinal));
        Assert.True(rename >= 0, string.Join(", ", disk.DirectoryLog));
        Assert.Contains("syncdir", disk.DirectoryLog.Skip(rename + 1));

        // Closing waited for the sealer, which cut the sealed segment to its records.
        Assert.True(disk.ReadAll(first).Length < WalConfig.MinSegmentSizeBytes, $"'{first}' is {disk.ReadAll(first).Length} bytes");
        Assert.Empty(disk.ListFiles(WalSegmentName.TempSuffix));
        using var reopened = WalManager.Open(disk, config);
        Assert.Equal(Enumerable.Range(1, (int)last).Select(n => (long)n), reopened.ReadRecords().Select(r => r.Lsn));
        Assert.True(reopened.Verify().IsValid);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(Interval)]
    public void DirectoryFsyncFailure_AfterARotation_FailsTheWal_AndNothingInTheNewSegmentIsDurable(int syncIntervalMs)
    {
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, SimConfig(disk, syncIntervalMs));
        long last = FillUntilSpareReady(wal, 1);
        long sealedThrough = last;
        disk.FailDirectorySync = true; // the rotation's own steps need none: only the new name's fsync meets it
        Exception? thrown = null;
        try
        {
            while (SegmentNames(disk).Count < 2)
            {
                sealedThrough = last;
                last = wal.Append(InsertFor(last + 1, 64));
            }
        }
        catch (WalFailedException ex)
        {
            thrown = ex;
        }

        Assert.Equal(2, SegmentNames(disk).Count);
        sealedThrough = FirstLsnOf(SegmentNames(disk)[1]) - 1;
        if (syncIntervalMs == 0)
        {
            // The commit that started the new segment waited for its name to be durable: it failed, unacknowledged.
            Assert.NotNull(thrown);
        }

        // With an interval policy the records are acknowledged once written (into the spare, before its rename); the
        // sealer's directory fsync fails the WAL in the background, before or after the loop saw the name.
        Assert.True(SpinWait.SpinUntil(() => wal.GetMetrics().IsFailed, Patience), "the failed directory fsync did not fail the WAL");

        Assert.True(wal.GetMetrics().IsFailed);
        Assert.Throws<WalFailedException>(() => wal.Append(InsertFor(last + 1, 64)));
        Assert.Throws<WalFailedException>(wal.Sync);
        long newFirst = FirstLsnOf(SegmentNames(disk)[1]);
        Assert.True(wal.DurableLsn < newFirst, $"durable {wal.DurableLsn} reaches into the segment starting at {newFirst}, whose name never became durable");
        Assert.True(wal.DurableLsn >= sealedThrough, $"durable {wal.DurableLsn}: the sealed segment (through {sealedThrough}) was fsynced at the rotation");
    }

    public static TheoryData<int, CrashMode> PowerLosses() => new()
    {
        { 0, CrashMode.DropUnsynced },
        { 0, CrashMode.TornPrefix },
        { Interval, CrashMode.DropUnsynced },
        { Interval, CrashMode.TornPrefix },
    };

    [Theory]
    [MemberData(nameof(PowerLosses))]
    public void PowerLoss_RightAfterARotation_LosesNothingAcknowledgedDurable(int syncIntervalMs, CrashMode mode)
    {
        for (int seed = 0; seed < 40; seed++)
        {
            var random = new Random(seed);
            var disk = new SimulatedDisk();
            WalConfig config = SimConfig(disk, syncIntervalMs);
            long acknowledged, durable, sealedThrough;
            SimulatedDisk after;
            using (var wal = WalManager.Open(disk, config))
            {
                acknowledged = FillUntilSpareReady(wal, 1);
                while (SegmentNames(disk).Count < 2)
                {
                    acknowledged = wal.Append(InsertFor(acknowledged + 1, 64));
                }

                sealedThrough = FirstLsnOf(SegmentNames(disk)[1]) - 1;
                for (int i = random.Next(4); i > 0; i--)
                {
                    acknowledged = wal.Append(InsertFor(acknowledged + 1, 64));
                }

                // The power goes now, whether or not the sealer has fsynced the new name yet (a race on purpose).
                durable = wal.DurableLsn;
                after = disk.Crash(random, mode);
            }

            string context = $"seed {seed}, policy {syncIntervalMs}, {mode}: acknowledged {acknowledged}, durable {durable}";
            Assert.True(durable >= sealedThrough, context);
            long mustSurvive = syncIntervalMs == 0 ? acknowledged : durable;
            using var reopened = WalManager.Open(after, config);
            List<WalRecord> records = [.. reopened.ReadRecords()];
            Assert.True(records.Count >= mustSurvive, $"{context}: {records.Count} records survived");
            Assert.Equal(Enumerable.Range(1, records.Count).Select(n => (long)n), records.Select(r => r.Lsn));
            Assert.True(reopened.Verify().IsValid, context);
        }
    }

    /// <summary>
    /// Holds the sealer inside its fsync of the sealed segment (the first step of the seal), so the new segment stays
    /// a spare under its temporary name while the writer appends into it; returns the gate to release and the spare's name.
    /// </summary>
    private static (ManualResetEventSlim Release, string Spare, long Acknowledged) RotateWithTheSealHeld(SimulatedDisk disk, WalManager wal, int extraRecords)
    {
        long last = FillUntilSpareReady(wal, 1);
        string sealedName = SegmentNames(disk)[0];
        var release = new ManualResetEventSlim();
        var held = new ManualResetEventSlim();
        disk.OnSync = name =>
        {
            if (Thread.CurrentThread.Name == "OxiVec WAL segment sealer" && name == sealedName)
            {
                held.Set();
                Assert.True(release.Wait(Patience), "the test never released the sealer");
            }
        };

        long before = wal.SparesUsed;
        while (wal.SparesUsed == before)
        {
            last = wal.Append(InsertFor(last + 1, 64));
        }

        Assert.True(held.Wait(Patience), "the sealer never started the seal");
        for (int i = 0; i < extraRecords; i++)
        {
            last = wal.Append(InsertFor(last + 1, 64)); // acknowledged once written: into the spare
        }

        string spare = Assert.Single(disk.ListFiles(WalSegmentName.TempSuffix), WalSegmentName.IsSpare);
        Assert.Single(SegmentNames(disk)); // the new segment has no name yet
        held.Dispose();
        return (release, spare, last);
    }

    [Fact]
    public void Rotation_FromASpare_TheWritePathDoesNoFsync()
    {
        var disk = new SimulatedDisk();
        int appender = Environment.CurrentManagedThreadId;
        var syncsOnTheWritePath = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var wal = WalManager.Open(disk, SimConfig(disk, Interval));
        long last = FillUntilSpareReady(wal, 1);
        disk.OnSync = name =>
        {
            if (Environment.CurrentManagedThreadId == appender)
            {
                syncsOnTheWritePath.Enqueue(name);
            }
        };
        while (wal.SparesUsed == 0)
        {
            last = wal.Append(InsertFor(last + 1, 64)); // an interval policy: each append is a write, never an fsync of its own
        }

        last = wal.Append(InsertFor(last + 1, 64));
        Assert.True(SpinWait.SpinUntil(() => SegmentNames(disk).Count == 2, Patience), "the sealer never named the new segment");
        disk.OnSync = null;
        // The sealed segment's fsync, the spare's and the directory's all ran on the sealer.
        Assert.Empty(syncsOnTheWritePath);
        wal.Sync();
        Assert.Equal(last, wal.DurableLsn);
    }

    [Fact]
    public void ProcessKilled_BeforeTheNewSegmentIsNamed_TheSpareIsAdopted_AndEveryAcknowledgedRecordSurvives()
    {
        var disk = new SimulatedDisk();
        WalConfig config = SimConfig(disk, Interval);
        SimulatedDisk afterKill;
        long acknowledged;
        string spare;
        ManualResetEventSlim release;
        using (var wal = WalManager.Open(disk, config))
        {
            (release, spare, acknowledged) = RotateWithTheSealHeld(disk, wal, extraRecords: 25);
            Assert.True(wal.DurableLsn < acknowledged);
            // A live read finds the new segment under its temporary name.
            Assert.Equal(Enumerable.Range(1, (int)acknowledged).Select(n => (long)n), wal.ReadRecords().Select(r => r.Lsn));
            afterKill = disk.AfterProcessKill(); // kill -9 now: the page cache keeps every written byte
            release.Set(); // the original process goes on (and closes) with its own disk
        }

        release.Dispose();

        disk.OnSync = null;
        using var reopened = WalManager.Open(afterKill, config);
        Assert.Equal(Enumerable.Range(1, (int)acknowledged).Select(n => (long)n), reopened.ReadRecords().Select(r => r.Lsn));
        Assert.Empty(afterKill.ListFiles(WalSegmentName.TempSuffix));
        List<string> names = SegmentNames(afterKill);
        Assert.Equal(2, names.Count);
        // Adopted as the sealer would have named it: the old segment fsynced, the spare fsynced, renamed, the directory fsynced.
        int rename = afterKill.DirectoryLog.FindIndex(e => e == $"rename {spare} {names[1]}");
        Assert.True(rename >= 0, string.Join(", ", afterKill.DirectoryLog));
        Assert.Contains("syncdir", afterKill.DirectoryLog.Skip(rename + 1));
        Assert.True(reopened.Verify().IsValid);
        Assert.Equal(acknowledged + 1, reopened.Append(InsertFor(acknowledged + 1, 64)));
    }

    [Theory]
    [InlineData(CrashMode.DropUnsynced)]
    [InlineData(CrashMode.TornPrefix)]
    [InlineData(CrashMode.RandomSectors)]
    public void PowerLoss_BeforeTheNewSegmentIsNamed_KeepsEverythingDurable_AndReopensAValidLog(CrashMode mode)
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var disk = new SimulatedDisk();
            WalConfig config = SimConfig(disk, Interval);
            SimulatedDisk after;
            long acknowledged, durable;
            ManualResetEventSlim release;
            using (var wal = WalManager.Open(disk, config))
            {
                (release, _, acknowledged) = RotateWithTheSealHeld(disk, wal, extraRecords: seed);
                durable = wal.DurableLsn;
                after = disk.Crash(new Random(seed), mode);
                release.Set();
            }

            release.Dispose();

            disk.OnSync = null;
            string context = $"seed {seed}, {mode}: acknowledged {acknowledged}, durable {durable}";
            using var reopened = WalManager.Open(after, config);
            List<long> lsns = [.. reopened.ReadRecords().Select(r => r.Lsn)];
            Assert.True(lsns.Count >= durable, $"{context}: {lsns.Count} records survived");
            Assert.Equal(Enumerable.Range(1, lsns.Count).Select(n => (long)n), lsns);
            Assert.Empty(after.ListFiles(WalSegmentName.TempSuffix));
            Assert.True(reopened.Verify().IsValid, context);
            Assert.Equal(lsns.Count + 1, reopened.Append(InsertFor(lsns.Count + 1, 64)));
        }
    }

    [Fact]
    public void Open_ASpareThatDoesNotContinueTheLog_IsKeptInQuarantineAndNeverAdopted()
    {
        var disk = new SimulatedDisk();
        WalConfig config = SimConfig(disk, Interval);
        long last;
        using (var wal = WalManager.Open(disk, config))
        {
            last = wal.Append(InsertFor(1, 64));
            last = wal.Append(InsertFor(last + 1, 64));
        }

        // A spare that began segment 2 one LSN too late (as if the log's tail before it had been lost).
        const string Spare = "spare-7.tmp";
        Span<byte> header = stackalloc byte[WalFormat.SegmentHeaderSize];
        WalFormat.WriteSegmentHeader(header, new WalSegmentHeader(WalFormat.FormatVersion, 0, 2, last + 2, 0, 12345));
        using (IWalFile file = disk.Create(Spare, 0))
        {
            file.Write(0, header);
            file.Sync();
        }

        disk.SyncDirectory();
        using var reopened = WalManager.Open(disk, config);
        Assert.Equal([1L, 2L], reopened.ReadRecords().Select(r => r.Lsn));
        Assert.Empty(disk.ListFiles(WalSegmentName.TempSuffix));
        Assert.Single(SegmentNames(disk));
        Assert.True(disk.Exists(WalQuarantine.NameFor(Spare, 0)), "the spare's bytes were not kept");
        Assert.Equal(header.ToArray(), disk.ReadAll(WalQuarantine.NameFor(Spare, 0))[..WalFormat.SegmentHeaderSize]);
    }

    [Fact]
    public async Task Rotations_WhileLiveReadsAndRetentionRun_OnTheRealFileSystem_LoseNothingRetained()
    {
        using var temp = new TempDirectory();
        // Mapped, preallocated 64 KiB segments with an interval policy: every rotation takes a spare and leaves the
        // cut of the sealed segment to the sealer while readers and retention work on the segment set.
        WalConfig config = Config(temp.Path) with { SyncIntervalMs = Interval };
        const int Records = 3_000;
        long retained = 0;
        int reads = 0, removed = 0, retentionPasses = 0;
        var gate = new Lock();
        using (var wal = WalManager.Open(config))
        {
            using var done = new CancellationTokenSource();
            Task reader = Task.Run(() =>
            {
                while (!done.IsCancellationRequested)
                {
                    lock (gate) // a read pass and a retention step exclude each other; the writer rotates under both
                    {
                        long from = retained + 1;
                        long previous = from - 1;
                        foreach (WalRecord record in wal.ReadRecords(from))
                        {
                            Assert.Equal(previous + 1, record.Lsn);
                            previous = record.Lsn;
                        }

                        reads++;
                    }
                }
            });
            Task retention = Task.Run(() =>
            {
                while (!done.IsCancellationRequested)
                {
                    wal.Sync();
                    long through = Math.Max(0, wal.DurableLsn - 200);
                    lock (gate)
                    {
                        removed += wal.RemoveSegmentsThrough(through);
                        retained = Math.Max(retained, through);
                        retentionPasses++;
                    }
                }
            });
            for (int n = 1; n <= Records; n++)
            {
                Assert.Equal(n, wal.Append(InsertFor(n, 128)));
                if (n % 300 == 0)
                {
                    // Appends can outrun both tasks (a single append into a mapped segment is a memory copy): every
                    // 300 records the writer lets each of them finish one more pass, so rotations interleave with them.
                    int readsBefore, passesBefore;
                    lock (gate)
                    {
                        (readsBefore, passesBefore) = (reads, retentionPasses);
                    }

                    bool progressed = SpinWait.SpinUntil(
                        () =>
                        {
                            lock (gate)
                            {
                                return reads > readsBefore && retentionPasses > passesBefore;
                            }
                        },
                        TimeSpan.FromSeconds(30));
                    Assert.True(progressed || reader.IsFaulted || retention.IsFaulted, $"the reader and retention made no pass in 30 s after record {n}");
                    if (reader.IsFaulted || retention.IsFaulted)
                    {
                        break;
                    }
                }
            }

            await done.CancelAsync();
            await Task.WhenAll(reader, retention);
            Assert.True(wal.SparesUsed >= 1, "no rotation took a spare");
            Assert.True(reads > 0 && removed > 0, $"reads {reads}, segments removed {removed}");
        }

        Assert.Empty(Directory.GetFiles(temp.Path, "*" + WalSegmentName.TempSuffix));
        using var reopened = WalManager.Open(Config(temp.Path) with { SyncIntervalMs = Interval });
        long firstKept = reopened.ReadRecords().First().Lsn;
        Assert.True(firstKept <= retained + 1);
        Assert.Equal(Enumerable.Range((int)firstKept, Records - (int)firstKept + 1).Select(n => (long)n), reopened.ReadRecords().Select(r => r.Lsn));
        Assert.True(reopened.Verify().IsValid);
    }
}

using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>
/// Power-loss simulation: a workload runs on a <see cref="SimulatedDisk"/> until the process "dies" at a random
/// I/O operation; the disk then keeps only what was synced plus a random treatment of unsynced writes (dropped,
/// torn prefix at sector granularity, random sectors). Reopening must succeed and keep every acknowledged record.
/// </summary>
public sealed class WalSimulatedCrashTests
{
    public static TheoryData<int, CrashMode> Sweeps() => new()
    {
        { 0, CrashMode.DropUnsynced },
        { 0, CrashMode.TornPrefix },
        { 0, CrashMode.RandomSectors },
        { 1000, CrashMode.TornPrefix },
        { 1000, CrashMode.RandomSectors },
    };

    [Theory]
    [MemberData(nameof(Sweeps))]
    public void PowerLossAtAnyOperation_NoAcknowledgedRecordIsLostAndNothingPartialIsApplied(int syncIntervalMs, CrashMode mode)
    {
        const int Crashes = 500;
        int withDurableRecords = 0;
        for (int seed = 0; seed < Crashes; seed++)
        {
            withDurableRecords += RunOne(seed, syncIntervalMs, mode) > 0 ? 1 : 0;
        }

        // The sweep must reach crashes where records had become durable, or it proves nothing about keeping them.
        Assert.True(withDurableRecords >= Crashes / 4, $"only {withDurableRecords} of {Crashes} crashes came after a record was durable.");
    }

    /// <summary>Runs one crash and its checks; returns how many records had to survive it.</summary>
    private static long RunOne(int seed, int syncIntervalMs, CrashMode mode)
    {
        var random = new Random(seed * 7919 + (int)mode);
        var disk = new SimulatedDisk { CrashAtOperation = random.Next(1, 500) };

        // Interval mode: the flusher's timer is set far away, so only rotations fsync; acknowledged records after
        // the last fsync may be lost, but never out of order.
        WalConfig config = Config(disk.Directory, segmentSize: WalConfig.MinSegmentSizeBytes) with
        {
            SyncIntervalMs = syncIntervalMs == 0 ? 0 : 3_600_000,
        };
        var model = new Dictionary<long, WalEntry>();
        long acknowledged = 0;

        // What the disk itself made durable, never what the WAL claims (its DurableLsn is code under test): after
        // each fsync of a segment, every record acknowledged by then that lies in that segment is on stable storage
        // (with an interval policy a record is acknowledged once written, and this workload runs on one thread).
        // The background sealer fsyncs too: a sync covers what was acknowledged when it started (read on its own thread,
        // before the disk fixes the sync's coverage: a record acknowledged after that read may be written after it too).
        var syncedThrough = new Dictionary<string, long>(StringComparer.Ordinal);
        var atSyncStart = new System.Collections.Concurrent.ConcurrentDictionary<int, long>();
        disk.SyncStarting = _ => atSyncStart[Environment.CurrentManagedThreadId] = Volatile.Read(ref acknowledged);
        disk.Synced = name =>
        {
            long covered = atSyncStart[Environment.CurrentManagedThreadId];
            lock (syncedThrough)
            {
                syncedThrough[name] = Math.Max(covered, syncedThrough.GetValueOrDefault(name));
            }
        };
        try
        {
            using var wal = WalManager.Open(disk, config);
            long next = wal.LastLsn + 1;
            for (int op = 0; ; op++)
            {
                if (random.Next(4) == 0)
                {
                    int count = random.Next(1, 6);
                    using WalTransaction tx = wal.BeginTransaction();
                    model[next] = new WalEntry.TransactionBegin(count);
                    for (int i = 1; i <= count; i++)
                    {
                        WalEntry member = InsertFor(next + i, random.Next(1, 40));
                        model[next + i] = member;
                        tx.Add(member);
                    }

                    model[next + count + 1] = new WalEntry.TransactionCommit(next, count);
                    Volatile.Write(ref acknowledged, tx.Commit());
                    Assert.Equal(next + count + 1, acknowledged);
                }
                else
                {
                    WalEntry entry = random.Next(3) == 0 ? new WalEntry.Delete("docs", $"v{random.Next(100)}") : InsertFor(next, random.Next(1, 200));
                    model[next] = entry;
                    Volatile.Write(ref acknowledged, wal.Append(entry));
                    Assert.Equal(next, acknowledged);
                }

                next = acknowledged + 1;
            }
        }
        catch (IOException ex) when (ex is SimulatedCrashException || ex.InnerException is SimulatedCrashException)
        {
            // The process died here.
        }

        SimulatedDisk after = disk.Crash(random, mode);
        long mustSurvive = syncIntervalMs == 0 ? acknowledged : DurablePrefix(disk, after, syncedThrough, acknowledged);
        string context = $"seed {seed}, mode {mode}, interval {syncIntervalMs}, crash at op {disk.CrashAtOperation}, acknowledged {acknowledged}";
        using (var wal = WalManager.Open(after, config))
        {
            List<WalRecord> records = [.. wal.ReadRecords()];
            Assert.True(records.Count >= mustSurvive, $"{context}: {records.Count} records survived, {mustSurvive} were acknowledged");
            WalEntry? previous = null;
            for (int i = 0; i < records.Count; i++)
            {
                WalRecord record = records[i];
                Assert.Equal(i + 1, record.Lsn);
                WalEntry entry = record.ToEntry();
                if (entry is WalEntry.TransactionAbort && i == records.Count - 1 && record.Lsn > mustSurvive)
                {
                    // Logged on open for a transaction the crash cut off (its records may have been from the workload's
                    // last, unacknowledged operation).
                    Assert.True(previous is WalEntry.TransactionBegin || records[i - 1].Flags == WalRecordFlags.TransactionMember, context);
                }
                else if (model.TryGetValue(record.Lsn, out WalEntry? expected))
                {
                    Assert.True(WalEntryGen.SameContent(expected, entry), $"{context}: LSN {record.Lsn} is {entry}, expected {expected}");
                }
                else
                {
                    Assert.Fail($"{context}: LSN {record.Lsn} ({entry}) was never appended");
                }

                previous = entry;
            }

            // A transaction open at the end of the workload's records must have been closed by an abort.
            if (records.Count > 0 && (records[^1].Type == WalRecordType.TransactionBegin || records[^1].Flags == WalRecordFlags.TransactionMember))
            {
                Assert.Fail($"{context}: the log ends inside a transaction without an abort record");
            }

            long lsn = wal.Append(InsertFor(99_999));
            Assert.Equal(records.Count + 1, lsn);
        }

        using var again = WalManager.Open(after, config);
        Assert.Equal(0, again.OpenReport.TornTailBytes);
        Assert.True(again.Verify().IsValid, context);
        return mustSurvive;
    }

    /// <summary>
    /// The longest prefix 1..L of the acknowledged records that the disk holds durably: each record's segment (the
    /// one with the highest first LSN at or below it, named in the listing before the crash) survived the power loss
    /// by name, and an fsync of it completed after the record was acknowledged.
    /// </summary>
    private static long DurablePrefix(SimulatedDisk before, SimulatedDisk after, Dictionary<string, long> syncedThrough, long acknowledged)
    {
        // A segment begun in a spare is fsynced under the spare's name before its rename: those syncs count for its name.
        foreach (string rename in before.DirectoryLog.Where(e => e.StartsWith("rename spare-", StringComparison.Ordinal)))
        {
            string[] parts = rename.Split(' ');
            if (syncedThrough.TryGetValue(parts[1], out long synced))
            {
                syncedThrough[parts[2]] = Math.Max(synced, syncedThrough.GetValueOrDefault(parts[2]));
            }
        }

        // A spare still unnamed holds records from its first LSN on, none of them durable (never renamed): a boundary.
        List<(long FirstLsn, string Name)> segments = [.. before.ListFiles(WalSegmentName.Suffix)
            .Select(n => WalSegmentName.TryParse(n, out _, out long first) ? (first, n) : (0, n))
            .Concat(before.ListFiles(WalSegmentName.TempSuffix).Where(WalSegmentName.IsSpare).Select(n => (SpareFirstLsn(before, n), n)))
            .Where(s => s.Item1 > 0).OrderBy(s => s.Item1)];
        var survived = new HashSet<string>(after.ListFiles(WalSegmentName.Suffix), StringComparer.Ordinal);
        long durable = 0;
        for (long lsn = 1; lsn <= acknowledged; lsn++)
        {
            int i = segments.FindLastIndex(s => s.FirstLsn <= lsn);
            if (i < 0 || !survived.Contains(segments[i].Name) || !syncedThrough.TryGetValue(segments[i].Name, out long through) || through < lsn)
            {
                break;
            }

            durable = lsn;
        }

        return durable;
    }

    /// <summary>The first LSN in the header of a spare that began a segment, or 0 when it holds no header.</summary>
    private static long SpareFirstLsn(SimulatedDisk disk, string spare)
    {
        byte[] bytes = disk.ReadAll(spare);
        return bytes.Length >= WalFormat.SegmentHeaderSize && WalFormat.TryReadSegmentHeader(bytes.AsSpan(0, WalFormat.SegmentHeaderSize), out WalSegmentHeader header, out _)
            ? header.FirstLsn
            : 0;
    }
}

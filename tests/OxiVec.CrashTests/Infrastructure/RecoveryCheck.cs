using OxiVec.CrashWorker;
using OxiVec.Wal;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>Opens a crashed WAL and checks everything a crash must not break.</summary>
public static class RecoveryCheck
{
    /// <summary>
    /// Opens the WAL in <paramref name="walDir"/> (recovering it) and checks: the open report is consistent; LSNs run
    /// 1..LastLsn without a gap; every transaction ends in a commit with all its members or in an abort (nothing
    /// partial looks committed); every acknowledged record is there with the content the worker wrote; verification
    /// passes, live and, after closing, offline with no issue at all. Returns the open report.
    /// </summary>
    public static WalOpenReport AssertRecovered(string walDir, long segmentSizeBytes, AckLedger ledger, string context)
    {
        WalOpenReport report;
        long lastLsn;
        using (WalManager wal = WalManager.Open(new WalConfig { WalDir = walDir, SyncIntervalMs = 0, SegmentSizeBytes = segmentSizeBytes }))
        {
            // Listed after the open: a spare the worker had begun the next segment in is adopted by it.
            string[] segmentFiles = [.. Directory.GetFiles(walDir, "*.wal").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
            report = wal.OpenReport;
            AssertReportConsistent(report, wal, segmentFiles, ledger, context);

            List<WalRecord> records = [.. wal.ReadRecords()];
            Assert.Equal(wal.LastLsn, records.Count);
            for (int i = 0; i < records.Count; i++)
            {
                Assert.True(records[i].Lsn == i + 1, $"{context}: record {i + 1} of the log carries LSN {records[i].Lsn}.");
            }

            AssertTransactionsWellFormed(records, report, context);
            AssertAcknowledgedContent(records, ledger, context);

            WalVerifyReport verify = wal.Verify();
            Assert.True(verify.IsValid, $"{context}: verify after recovery: {string.Join("; ", verify.Issues)}");
            Assert.Equal(wal.LastLsn, verify.ValidRecords);
            lastLsn = wal.LastLsn;
        }

        Assert.True(
            Directory.GetFiles(walDir, "*.tmp").Length == 0,
            $"{context}: a half-created segment survived the open: {string.Join(", ", Directory.GetFiles(walDir, "*.tmp"))}");

        // Closed, read-only: the torn tail, if there was one, is gone for good (zeroed, not only skipped).
        WalVerifyReport offline = new WalReader(walDir).Verify();
        Assert.True(offline.Issues.Count == 0, $"{context}: offline verify after recovery: {string.Join("; ", offline.Issues)}");
        Assert.Equal(lastLsn, offline.ValidRecords);
        return report;
    }

    private static void AssertReportConsistent(WalOpenReport report, WalManager wal, string[] segmentFiles, AckLedger ledger, string context)
    {
        Assert.False(report.IsNew, $"{context}: the WAL opened as new.");
        Assert.Equal(segmentFiles.Length, report.SegmentCount);
        Assert.True(
            report.LastLsn >= ledger.MaxLsn,
            $"{context}: the WAL recovered up to LSN {report.LastLsn}, but LSN {ledger.MaxLsn} had been acknowledged.");
        Assert.Equal(report.LastLsn + (report.AbortedTransactionLsn is null ? 0 : 1), wal.LastLsn);
        if (report.TornTailBytes > 0)
        {
            Assert.Equal(segmentFiles[^1], report.TornTailFile);
            Assert.True(report.TornTailOffset >= 64, $"{context}: a torn tail at offset {report.TornTailOffset}, inside the segment header.");
            Assert.False(string.IsNullOrEmpty(report.TornTailReason));
        }
        else
        {
            Assert.Null(report.TornTailFile);
        }
    }

    /// <summary>
    /// Walks the log as a reader applying only committed transactions would: a begin opens a transaction, members
    /// follow, and a commit (with every member) or an abort must close it before any other record. A member left
    /// without its commit and not aborted would be ambiguous after recovery.
    /// </summary>
    private static void AssertTransactionsWellFormed(List<WalRecord> records, WalOpenReport report, string context)
    {
        long? open = null;
        int expected = 0;
        int members = 0;
        foreach (WalRecord r in records)
        {
            switch (r.ToEntry())
            {
                case WalEntry.TransactionBegin begin:
                    Assert.True(open is null, $"{context}: LSN {r.Lsn} begins a transaction while the one begun at LSN {open} ({members} of {expected} members) has neither commit nor abort.");
                    (open, expected, members) = (r.Lsn, begin.EntryCount, 0);
                    break;
                case WalEntry.TransactionCommit commit:
                    Assert.True(open is not null, $"{context}: LSN {r.Lsn} commits a transaction that is not open.");
                    Assert.True(
                        commit.BeginLsn == open && commit.EntryCount == expected && members == expected,
                        $"{context}: LSN {r.Lsn} commits (begin {commit.BeginLsn}, {commit.EntryCount} entries) the transaction begun at LSN {open} with {members} of {expected} members.");
                    open = null;
                    break;
                case WalEntry.TransactionAbort abort:
                    Assert.True(open is not null, $"{context}: LSN {r.Lsn} aborts a transaction that is not open.");
                    Assert.True(abort.BeginLsn == open || abort.BeginLsn == 0, $"{context}: LSN {r.Lsn} aborts the transaction begun at LSN {abort.BeginLsn}; the open one began at LSN {open}.");
                    open = null;
                    break;
                default:
                    if (r.Flags.HasFlag(WalRecordFlags.TransactionMember))
                    {
                        Assert.True(open is not null, $"{context}: LSN {r.Lsn} is a transaction member outside any transaction.");
                        Assert.True(++members <= expected, $"{context}: LSN {r.Lsn} is member {members} of the transaction begun at LSN {open}, which has {expected}.");
                    }
                    else if (open is { } begun)
                    {
                        Assert.Fail(
                            $"{context}: LSN {r.Lsn} ({r.Type}, in {r.SegmentFile}) follows the transaction begun at LSN {begun} (in {records[(int)begun - 1].SegmentFile}), " +
                            $"which has {members} of its {expected} members and neither a commit nor an abort record.");
                    }

                    break;
            }
        }

        Assert.True(open is null, $"{context}: the log ends inside the transaction begun at LSN {open}; opening should have logged its abort.");
        if (report.AbortedTransactionLsn is { } aborted)
        {
            var abort = Assert.IsType<WalEntry.TransactionAbort>(records[(int)report.LastLsn].ToEntry());
            Assert.Equal(aborted, abort.BeginLsn);
        }
    }

    private static void AssertAcknowledgedContent(List<WalRecord> records, AckLedger ledger, string context)
    {
        foreach ((Ack ack, WorkerSettings settings) in ledger.Acks)
        {
            string where = $"{context}: acknowledged LSN {ack.Lsn}";
            WalRecord record = records[(int)ack.Lsn - 1];
            if (!ack.IsTransaction)
            {
                Assert.True(record.Flags == WalRecordFlags.None, $"{where} has flags {record.Flags}.");
                long n = AssertWorkloadInsert(record, settings, CrashWorkload.Single, where);
                Assert.False(CrashWorkload.IsTransaction(n, settings.TxEvery), $"{where}: operation {n} should have been a transaction.");
                continue;
            }

            var commit = Assert.IsType<WalEntry.TransactionCommit>(record.ToEntry());
            Assert.Equal(ack.FirstMemberLsn - 1, commit.BeginLsn);
            Assert.Equal(ack.Count, commit.EntryCount);
            var begin = Assert.IsType<WalEntry.TransactionBegin>(records[(int)ack.FirstMemberLsn - 2].ToEntry());
            Assert.Equal(ack.Count, begin.EntryCount);
            long? operation = null;
            for (int i = 0; i < ack.Count; i++)
            {
                WalRecord member = records[(int)ack.FirstMemberLsn - 1 + i];
                Assert.True(member.Flags.HasFlag(WalRecordFlags.TransactionMember), $"{where}: member LSN {member.Lsn} lacks the member flag.");
                long n = AssertWorkloadInsert(member, settings, i, $"{where}, member LSN {member.Lsn}");
                Assert.True(operation is null || operation == n, $"{where}: members of operations {operation} and {n} in one transaction.");
                operation = n;
            }

            Assert.True(CrashWorkload.IsTransaction(operation!.Value, settings.TxEvery), $"{where}: operation {operation} should not have been a transaction.");
            Assert.Equal(CrashWorkload.TransactionSize(settings.Seed, operation.Value), ack.Count);
        }
    }

    /// <summary>Checks that the record is the worker's insert (id, vector, metadata) for its member index; returns the operation number.</summary>
    private static long AssertWorkloadInsert(WalRecord record, WorkerSettings settings, int member, string where)
    {
        var insert = Assert.IsType<WalEntry.Insert>(record.ToEntry());
        Assert.Equal(CrashWorkload.Collection, insert.Collection);
        Assert.True(
            CrashWorkload.TryParseId(insert.Id, out long n, out int parsedMember) && parsedMember == member,
            $"{where}: id '{insert.Id}' is not the worker's id for member {member}.");
        Assert.True(
            insert.Vector.Span.SequenceEqual(CrashWorkload.Vector(settings.Seed, n, member, settings.Dimension)),
            $"{where}: the vector of '{insert.Id}' differs from the one written.");
        Assert.True(insert.Metadata.Span.SequenceEqual(CrashWorkload.Metadata(n, member)), $"{where}: the metadata of '{insert.Id}' differs.");
        return n;
    }
}

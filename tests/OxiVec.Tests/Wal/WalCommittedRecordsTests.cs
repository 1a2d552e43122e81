using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

public sealed class WalCommittedRecordsTests
{
    private static WalRecord R(long lsn, WalRecordType type, bool member = false) =>
        new(lsn, default, type, member ? WalRecordFlags.TransactionMember : WalRecordFlags.None, ReadOnlyMemory<byte>.Empty, "s", 0);

    [Fact]
    public void Filter_ReleasesCommittedMembersAndDropsTheRest()
    {
        WalRecord[] log =
        [
            R(1, WalRecordType.Insert),
            R(2, WalRecordType.TransactionBegin), R(3, WalRecordType.Insert, true), R(4, WalRecordType.TransactionCommit),
            R(5, WalRecordType.TransactionBegin), R(6, WalRecordType.Delete, true), R(7, WalRecordType.TransactionAbort),
            R(8, WalRecordType.TransactionBegin), R(9, WalRecordType.Insert, true),
            R(10, WalRecordType.TransactionBegin), R(11, WalRecordType.Update, true), R(12, WalRecordType.TransactionCommit),
            R(13, WalRecordType.TransactionBegin), R(14, WalRecordType.Insert, true), R(15, WalRecordType.Custom),
            R(16, WalRecordType.TransactionBegin), R(17, WalRecordType.Insert, true),
        ];
        var dropped = new List<long>();

        List<long> kept = [.. WalCommittedRecords.Filter(log, r => dropped.Add(r.Lsn)).Select(r => r.Lsn)];

        Assert.Equal([1, 3, 11, 15], kept);
        Assert.Equal([6, 9, 14, 17], dropped);
    }

    [Fact]
    public void Filter_MembersBeforeTheStreamStart_BelongToTheTransactionInProgress()
    {
        WalRecord[] log = [R(40, WalRecordType.Insert, true), R(41, WalRecordType.Insert, true), R(42, WalRecordType.TransactionCommit)];
        Assert.Equal([40, 41], WalCommittedRecords.Filter(log).Select(r => r.Lsn));
    }
}

public sealed class WalCommittedRecordsGapTests
{
    private static WalRecord R(long lsn, WalRecordType type, bool member = false) =>
        new(lsn, default, type, member ? WalRecordFlags.TransactionMember : WalRecordFlags.None, ReadOnlyMemory<byte>.Empty, "s", 0);

    [Fact]
    public void Filter_GapInsideATransaction_DiscardsIt()
    {
        // LSNs 4-5 were lost to damage that recovery skipped: the transaction begun at 2 lost members.
        WalRecord[] log = [R(1, WalRecordType.Insert), R(2, WalRecordType.TransactionBegin), R(3, WalRecordType.Insert, true), R(6, WalRecordType.Insert, true), R(7, WalRecordType.TransactionCommit), R(8, WalRecordType.Insert)];
        Assert.Equal([1, 8], WalCommittedRecords.Filter(log).Select(r => r.Lsn));
    }
}

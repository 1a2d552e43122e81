using CsCheck;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>
/// Model-based property: any sequence of appends, committed and rolled-back transactions and reopens reads back
/// as exactly the entries a simple list model holds, with LSNs 1..N and the transaction framing in place.
/// </summary>
public sealed class WalModelTests
{
    private abstract record Op;

    private sealed record AppendOp(WalEntry Entry) : Op;

    private sealed record CommitOp(WalEntry[] Entries) : Op;

    private sealed record RollbackOp(WalEntry[] Entries) : Op;

    private sealed record ReopenOp : Op;

    private static readonly Gen<Op> AnyOp = Gen.Frequency(
        (6, WalEntryGen.Entry.Where(e => e.Type is not (WalRecordType.TransactionBegin or WalRecordType.TransactionCommit or WalRecordType.TransactionAbort))
            .Select(e => (Op)new AppendOp(e))),
        (2, WalEntryGen.DataEntry.Array[1, 6].Select(es => (Op)new CommitOp(es))),
        (1, WalEntryGen.DataEntry.Array[0, 3].Select(es => (Op)new RollbackOp(es))),
        (1, Gen.Const((Op)new ReopenOp())));

    [Fact]
    public void AnySequenceOfAppendsTransactionsAndReopens_ReadsBackAsTheModel()
    {
        AnyOp.Array[0, 60].Sample(ops =>
        {
            var disk = new SimulatedDisk();
            WalConfig config = WalTestHelpers.Config(disk.Directory, segmentSize: WalConfig.MinSegmentSizeBytes);
            var model = new List<(WalEntry Entry, WalRecordFlags Flags)>();
            WalManager wal = WalManager.Open(disk, config);
            try
            {
                foreach (Op op in ops)
                {
                    switch (op)
                    {
                        case AppendOp a:
                            Assert.Equal(model.Count + 1, wal.Append(a.Entry));
                            model.Add((a.Entry, WalRecordFlags.None));
                            break;
                        case CommitOp c:
                            long begin = model.Count + 1;
                            using (WalTransaction tx = wal.BeginTransaction())
                            {
                                foreach (WalEntry e in c.Entries)
                                {
                                    tx.Add(e);
                                }

                                Assert.Equal(begin + c.Entries.Length + 1, tx.Commit());
                            }

                            model.Add((new WalEntry.TransactionBegin(c.Entries.Length), WalRecordFlags.None));
                            model.AddRange(c.Entries.Select(e => (e, WalRecordFlags.TransactionMember)));
                            model.Add((new WalEntry.TransactionCommit(begin, c.Entries.Length), WalRecordFlags.None));
                            break;
                        case RollbackOp r:
                            using (WalTransaction tx = wal.BeginTransaction())
                            {
                                foreach (WalEntry e in r.Entries)
                                {
                                    tx.Add(e);
                                }
                            }

                            break;
                        case ReopenOp:
                            wal.Dispose();
                            wal = WalManager.Open(disk, config);
                            Assert.Equal(model.Count, wal.OpenReport.LastLsn);
                            Assert.Equal(0, wal.OpenReport.TornTailBytes);
                            break;
                    }
                }

                List<WalRecord> records = [.. wal.ReadRecords()];
                Assert.Equal(model.Count, records.Count);
                for (int i = 0; i < records.Count; i++)
                {
                    Assert.Equal(i + 1, records[i].Lsn);
                    Assert.Equal(model[i].Flags, records[i].Flags);
                    Assert.True(WalEntryGen.SameContent(model[i].Entry, records[i].ToEntry()), $"LSN {i + 1}");
                }

                Assert.True(records.Zip(records.Skip(1)).All(p => p.First.Timestamp <= p.Second.Timestamp), "timestamps never decrease");
                Assert.True(wal.Verify().IsValid);
            }
            finally
            {
                wal.Dispose();
            }
        }, iter: 150);
    }
}

namespace OxiVec.Wal;

/// <summary>
/// Filters a record stream down to what counts: records outside transactions, and the members of committed
/// transactions (released when their commit record is read). Transaction markers are dropped; members of a
/// transaction that is aborted, superseded by another begin, interrupted by a non-member record, broken by a gap in
/// the LSNs (records lost to damage that a recovery skipped), or cut off by the end of the log are discarded and
/// counted.
/// </summary>
public static class WalCommittedRecords
{
    /// <summary>Yields the committed data records of <paramref name="records"/> in log order.</summary>
    /// <param name="records">A stream in LSN order, such as <see cref="WalReader.ReadRecords(long)"/>.</param>
    /// <param name="discarded">Called with each member record that is dropped because its transaction did not commit.</param>
    public static IEnumerable<WalRecord> Filter(IEnumerable<WalRecord> records, Action<WalRecord>? discarded = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        List<WalRecord>? open = null;
        bool broken = false; // records are missing inside the current transaction: it can never be applied whole
        long previousLsn = -1;
        foreach (WalRecord record in records)
        {
            if (previousLsn >= 0 && record.Lsn != previousLsn + 1)
            {
                Discard(ref open, discarded);
                broken = true;
            }

            previousLsn = record.Lsn;
            if (record.Flags.HasFlag(WalRecordFlags.TransactionMember))
            {
                if (broken)
                {
                    discarded?.Invoke(record);
                }
                else
                {
                    // A member whose begin precedes the stream's start still belongs to the transaction in progress.
                    (open ??= []).Add(record);
                }

                continue;
            }

            broken = false;

            switch (record.Type)
            {
                case WalRecordType.TransactionBegin:
                    Discard(ref open, discarded);
                    open = [];
                    break;
                case WalRecordType.TransactionCommit:
                    if (open is not null)
                    {
                        foreach (WalRecord member in open)
                        {
                            yield return member;
                        }

                        open = null;
                    }

                    break;
                case WalRecordType.TransactionAbort:
                    Discard(ref open, discarded);
                    break;
                default:
                    Discard(ref open, discarded);
                    yield return record;
                    break;
            }
        }

        Discard(ref open, discarded);
    }

    private static void Discard(ref List<WalRecord>? open, Action<WalRecord>? discarded)
    {
        if (open is not null && discarded is not null)
        {
            open.ForEach(discarded);
        }

        open = null;
    }
}

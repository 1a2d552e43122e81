namespace OxiVec.CrashTests.Infrastructure;

/// <summary>Every acknowledgement of every worker run on one WAL, with the settings that say what the record holds.</summary>
public sealed class AckLedger
{
    private readonly List<(Ack Ack, WorkerSettings Settings)> _acks = [];
    private readonly HashSet<long> _claimed = [];

    public IReadOnlyList<(Ack Ack, WorkerSettings Settings)> Acks => _acks;

    /// <summary>The highest LSN ever acknowledged (0 before any).</summary>
    public long MaxLsn { get; private set; }

    /// <summary>
    /// Adds a run's acknowledgements, checking that each names LSNs after the ones the worker opened with and that no
    /// two acknowledgements claim the same LSN (a transaction claims its begin, members and commit).
    /// </summary>
    public void Add(string context, WorkerRun run, WorkerSettings settings)
    {
        foreach (Ack ack in run.Acks)
        {
            Assert.True(ack.Lsn > run.ReadyLsn, $"{context}: acknowledged LSN {ack.Lsn} is not after LSN {run.ReadyLsn}, where the WAL ended when the worker opened it.");
            long first = ack.Lsn;
            if (ack.IsTransaction)
            {
                Assert.True(
                    ack.Count is >= 2 and <= 5 && ack.FirstMemberLsn == ack.Lsn - ack.Count,
                    $"{context}: the transaction acknowledged at LSN {ack.Lsn} claims members {ack.FirstMemberLsn}+{ack.Count}; the commit must follow its 2 to 5 members.");
                first = ack.FirstMemberLsn - 1;
            }

            for (long lsn = first; lsn <= ack.Lsn; lsn++)
            {
                Assert.True(_claimed.Add(lsn), $"{context}: LSN {lsn} is acknowledged twice.");
            }

            _acks.Add((ack, settings));
            MaxLsn = Math.Max(MaxLsn, ack.Lsn);
        }
    }
}

using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>
/// The single-entry append: on a mapped segment with nothing pending, a record is copied into the page cache as it
/// is appended (no buffer, no later group write); otherwise it is buffered as before. Either way the log reads back
/// the same, in LSN order, across rotations and mixed with transactions.
/// </summary>
public sealed class WalSingleAppendTests
{
    [Fact]
    public void MappedSegments_SingleAppends_AreWrittenAsAppended_AndReadBackInOrder_AcrossRotations()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the mapping is Linux only
        }

        using var temp = new TempDirectory();
        var config = WalTestHelpers.Config(temp.Path) with { SyncIntervalMs = 3_600_000 };
        var expected = new List<string>();
        int buffered = 0;
        using (var wal = WalManager.Open(config))
        {
            for (int n = 1; n <= 400; n++)
            {
                int segments = wal.Segments.Count;
                long lsn = wal.AppendSingleUnacknowledged(WalTestHelpers.InsertFor(n, dimension: 64));
                expected.Add($"v{n}");

                // Written before any wait (the page cache has it: a process crash keeps it), unless it starts the next
                // segment: the seal (an fsync) and the new file are left to the wait, as before.
                if (wal.WrittenLsn < lsn)
                {
                    buffered++;
                }

                wal.WaitAcknowledged(lsn, endsWithCheckpoint: false, System.Diagnostics.Stopwatch.GetTimestamp());
                if (n % 50 == 0)
                {
                    using WalTransaction tx = wal.BeginTransaction();
                    tx.Add(WalTestHelpers.InsertFor(10_000 + n, dimension: 64));
                    tx.Add(new WalEntry.Delete("docs", $"v{n}"));
                    tx.Commit();
                    expected.Add($"v{10_000 + n}");
                    expected.Add($"-v{n}");
                }
            }

            Assert.True(wal.Segments.Count > 2, "the test must cross segment boundaries");
            Assert.True(buffered <= wal.Segments.Count - 1, $"{buffered} single appends were left to the wait, with {wal.Segments.Count - 1} rotations");
            Assert.Equal(400 - buffered, wal.SingleAppendsWritten);
        }

        using var reopened = WalManager.Open(config);
        Assert.Equal(expected, DataIds(reopened));
        Assert.True(reopened.Verify().IsValid);
    }

    [Fact]
    public void MappedSegment_SingleAppends_StoreIntoPagesTheWalsPrefaultThreadFaultedInAhead()
    {
        if (!OperatingSystem.IsLinux() || Environment.OSVersion.Version < new Version(5, 14))
        {
            return; // the mapping is Linux only; MADV_POPULATE_WRITE came with 5.14
        }

        using var temp = new TempDirectory();
        var config = WalTestHelpers.Config(temp.Path, segmentSize: 16 << 20) with { SyncIntervalMs = 3_600_000, MaxWalSize = 64 << 20 };
        using var wal = WalManager.Open(config);
        int page = Environment.SystemPageSize;

        // A MiB and a half of records (about 1 KiB each): the first stores of a segment fault (nothing is ahead of them
        // yet); the prefault thread is asked to keep the next pages ready, at least half a MiB past the written end.
        long n = 0;
        for (long written = 0; written < (3 << 20) / 2; written += RecordSize(n))
        {
            wal.AppendSingleUnacknowledged(WalTestHelpers.InsertFor(++n, dimension: 256));
        }

        // The next records, made first: allocating them while counting would fault pages of the GC heap on this thread.
        var next = new List<WalEntry>();
        for (long written = 0; written + RecordSize(n + next.Count + 1) < (1 << 19) - page; written += RecordSize(n + next.Count))
        {
            next.Add(WalTestHelpers.InsertFor(n + next.Count + 1, dimension: 256));
        }

        wal.WaitPrefaulted();
        long faultsBefore = WalTestHelpers.ThreadMinorFaults();
        foreach (WalEntry entry in next)
        {
            wal.AppendSingleUnacknowledged(entry);
        }

        n += next.Count;

        long faults = WalTestHelpers.ThreadMinorFaults() - faultsBefore;
        int pages = (1 << 19) / page;
        Assert.Equal(n, wal.SingleAppendsWritten); // every record was stored into the mapping by this thread
        Assert.True(faults < pages / 8, $"{faults} page faults on the writing thread for {pages} pages of records stored into pages faulted in ahead");
    }

    private static long RecordSize(long n) => WalFormat.RecordSize(WalEntryCodec.GetPayloadSize(WalTestHelpers.InsertFor(n, dimension: 256)));

    [Fact]
    public void WithoutMapping_SingleAppends_AreBuffered_AndWrittenByTheWait()
    {
        using var temp = new TempDirectory();
        var config = WalTestHelpers.Config(temp.Path) with { SyncIntervalMs = 3_600_000, MemoryMappedSegments = false };
        using (var wal = WalManager.Open(config))
        {
            for (int n = 1; n <= 50; n++)
            {
                long lsn = wal.AppendSingleUnacknowledged(WalTestHelpers.InsertFor(n));
                Assert.True(wal.WrittenLsn < lsn); // a pwrite is a system call: left to the wait, as before
                wal.WaitAcknowledged(lsn, endsWithCheckpoint: false, System.Diagnostics.Stopwatch.GetTimestamp());
                Assert.True(wal.WrittenLsn >= lsn);
            }

            Assert.Equal(0, wal.SingleAppendsWritten);
        }

        using var reopened = WalManager.Open(config);
        Assert.Equal(Enumerable.Range(1, 50).Select(n => $"v{n}"), DataIds(reopened));
    }

    [Fact]
    public void TooLargeEntry_IsRefused_AndNothingIsAppended()
    {
        using var temp = new TempDirectory();
        var config = WalTestHelpers.Config(temp.Path) with { SyncIntervalMs = 3_600_000 };
        using var wal = WalManager.Open(config);
        var huge = new WalEntry.Insert("docs", "big", new float[20_000], Array.Empty<byte>()); // 80 KB > a 64 KiB segment

        Assert.Throws<ArgumentException>(() => wal.Append(huge));

        Assert.Equal(0, wal.LastLsn);
        Assert.Equal(1, wal.Append(WalTestHelpers.InsertFor(1))); // the WAL did not fail
    }

    private static List<string> DataIds(WalManager wal) =>
        [.. wal.ReadAllEntries().Select(e => e switch
        {
            WalEntry.Insert i => i.Id,
            WalEntry.Delete d => "-" + d.Id,
            _ => null,
        }).OfType<string>()];
}

using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>A read from an LSN the WAL no longer holds fails instead of silently starting later.</summary>
public sealed class WalReaderStartTests
{
    private static (string Dir, List<WalRecord> Records) ThreeSegmentsOrMore(TempDirectory temp)
    {
        List<WalRecord> records = WalTestHelpers.WriteInserts(WalTestHelpers.Config(temp.Path), 1500);
        Assert.True(records.Select(r => r.SegmentFile).Distinct().Count() >= 3);
        return (temp.Path, records);
    }

    [Fact]
    public void ReadFromAnLsnWhoseSegmentWasRemovedMeanwhile_ThrowsNamingTheLsnsAndTheDirectory()
    {
        using var temp = new TempDirectory();
        (string dir, List<WalRecord> records) = ThreeSegmentsOrMore(temp);
        WalRecord firstOfSecond = records.First(r => r.SegmentFile != records[0].SegmentFile);

        // What a live source's retention does between two passes of a point-in-time recovery.
        File.Delete(Path.Combine(dir, records[0].SegmentFile));

        var reader = new WalReader(dir);
        foreach (Func<IEnumerable<WalRecord>> read in new Func<IEnumerable<WalRecord>>[] { () => reader.ReadRecords(5), () => reader.ReadRecords(5, 2), () => reader.ReadAllEntries(5).Select(_ => records[0]) })
        {
            var ex = Assert.Throws<WalCorruptionException>(() => read().First());
            Assert.Contains($"records from LSN 5 were asked for", ex.Message, StringComparison.Ordinal);
            Assert.Contains($"starts at LSN {firstOfSecond.Lsn}", ex.Message, StringComparison.Ordinal);
            Assert.Contains(dir, ex.Message, StringComparison.Ordinal);
        }

        // Without a starting LSN the read begins at the oldest record retained; from a retained LSN it is exact.
        Assert.Equal(firstOfSecond.Lsn, reader.ReadRecords().First().Lsn);
        Assert.Equal(firstOfSecond.Lsn + 3, reader.ReadRecords(firstOfSecond.Lsn + 3).First().Lsn);
    }
}

using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

public sealed class WalParallelReadTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 1)]
    [InlineData(4, 1234)]
    [InlineData(3, 2999)]
    public void ParallelRead_YieldsTheSameRecordsInOrder(int parallelism, long fromLsn)
    {
        using var temp = new TempDirectory();
        List<WalRecord> sequential = WriteInserts(Config(temp.Path), 3000);
        List<WalRecord> parallel = [.. new WalReader(temp.Path).ReadRecords(fromLsn, parallelism)];

        Assert.Equal(sequential.Where(r => r.Lsn >= fromLsn).Select(r => (r.Lsn, r.SegmentFile, r.Offset)), parallel.Select(r => (r.Lsn, r.SegmentFile, r.Offset)));
    }

    [Fact]
    public void ParallelRead_Corruption_IsThrownWhenItsSegmentIsReached()
    {
        using var temp = new TempDirectory();
        List<WalRecord> records = WriteInserts(Config(temp.Path), 3000);
        WalRecord victim = records[1700];
        FlipBit(Path.Combine(temp.Path, victim.SegmentFile), victim.Offset + 33, 2);

        var seen = new List<long>();
        var ex = Assert.Throws<WalCorruptionException>(() =>
        {
            foreach (WalRecord r in new WalReader(temp.Path).ReadRecords(1, 4))
            {
                seen.Add(r.Lsn);
            }
        });
        Assert.Equal(victim.Offset, ex.Offset);
        Assert.Equal(Enumerable.Range(1, (int)victim.Lsn - 1).Select(i => (long)i), seen);
    }
}

using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

public sealed class WalSmokeTests
{
    [Fact]
    public void Append_Reopen_ReadsBackEveryEntry()
    {
        using var dir = new TempDirectory();
        var config = new WalConfig { WalDir = dir.Path, SyncIntervalMs = 0, SegmentSizeBytes = 64 << 10, MaxWalSize = 1 << 20 };
        using (var wal = WalManager.Open(config))
        {
            for (int i = 0; i < 2000; i++)
            {
                Assert.Equal(i + 1, wal.LogInsert("c", $"v{i}", Enumerable.Range(i, 16).Select(x => (float)x).ToArray()));
            }

            using var tx = wal.BeginTransaction();
            tx.LogDelete("c", "v1");
            tx.LogUpdate("c", "v2", new float[] { 9, 9, 9 });
            Assert.Equal(2004, tx.Commit());
        }

        using (var wal = WalManager.Open(config))
        {
            Assert.Equal(2004, wal.OpenReport.LastLsn);
            Assert.True(wal.OpenReport.SegmentCount > 1);
            var entries = wal.ReadAllEntries().ToList();
            Assert.Equal(2004, entries.Count);
            Assert.Equal(Enumerable.Range(1, 2004).Select(i => (long)i), entries.Select(e => e.Lsn));
            var first = Assert.IsType<WalEntry.Insert>(entries[0]);
            Assert.Equal(Enumerable.Range(0, 16).Select(x => (float)x).ToArray(), first.Vector.ToArray());
            Assert.True(wal.Verify().IsValid);
        }
    }
}

using OxiVec.Benchmarks.Macro;

namespace OxiVec.Tests.Bench;

public class FsyncOverlapProbeTests
{
    [Fact]
    public void Section_PairsEachSyncerCountWithOneSyncerOfTheSameRound_MedianOverRounds()
    {
        // Round 1: 2 syncers 1.5x, 3 syncers 2x; round 2: 1.0x and 3.0x; round 3: 2.0x and 2.5x. For 3 syncers the
        // median of the paired ratios (2.5x) is not the ratio of the medians (2,000 / 1,000 = 2.0x).
        FsyncOverlapProbe.Run[][] rounds =
        [
            [new(1, 1000, 200), new(2, 1500, 260), new(3, 2000, 300)],
            [new(1, 4000, 250), new(2, 4000, 500), new(3, 12000, 250)],
            [new(1, 500, 400), new(2, 1000, 400), new(3, 1250, 480)],
        ];

        string section = FsyncOverlapProbe.Section(rounds);

        Assert.Contains("| 1 | 1,000 | 1.00× | 250 µs | 1,000, 4,000, 500 |", section, StringComparison.Ordinal);
        Assert.Contains("| 2 | 1,500 | 1.50× | 400 µs | 1,500, 4,000, 1,000 |", section, StringComparison.Ordinal);
        Assert.Contains("| 3 | 2,000 | 2.50× | 300 µs | 2,000, 12,000, 1,250 |", section, StringComparison.Ordinal);
    }

    [Fact]
    public void Measure_TwoSyncers_CompleteFdatasyncsAndRemoveTheirFile()
    {
        string dir = Directory.CreateTempSubdirectory("oxivec-overlap-probe-").FullName;
        try
        {
            FsyncOverlapProbe.Run run = FsyncOverlapProbe.Measure(dir, 2, TimeSpan.FromMilliseconds(100));

            Assert.Equal(2, run.Syncers);
            Assert.True(run.SyncsPerSecond > 0, "both syncers appended and fdatasynced");
            Assert.True(run.AvgSyncMicros > 0);
            Assert.Empty(Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

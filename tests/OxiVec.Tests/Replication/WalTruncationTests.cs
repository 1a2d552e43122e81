using Microsoft.Extensions.Logging.Abstractions;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;

namespace OxiVec.Tests.Replication;

public sealed class WalTruncationTests
{
    private static readonly WalConfig Config = WalConfig.MaximumDurability with { WalDir = "/sim/wal", SegmentSizeBytes = WalConfig.MinSegmentSizeBytes };

    private static List<(long, long, WalRecordType, WalRecordFlags, string)> Identity(IEnumerable<WalRecord> records) =>
        [.. records.Select(r => (r.Lsn, WalRecord.ToMicros(r.Timestamp), r.Type, r.Flags, Convert.ToHexString(r.Payload.Span)))];

    private static (SimulatedDisk Disk, List<(long, long, WalRecordType, WalRecordFlags, string)> Records) Log(int count)
    {
        var disk = new SimulatedDisk();
        using (WalManager wal = WalManager.Open(disk, Config))
        {
            for (int i = 0; i < count; i++)
            {
                wal.LogInsert("docs", $"id{i}", Enumerable.Range(0, 1000).Select(j => (float)(i + j)).ToArray());
            }
        }

        using WalManager read = WalManager.Open(disk, Config, standby: true);
        return (disk, Identity(read.ReadRecords()));
    }

    private static List<(long, long, WalRecordType, WalRecordFlags, string)> Reopen(SimulatedDisk disk)
    {
        using WalManager wal = WalManager.Open(disk, Config, standby: true);
        return Identity(wal.ReadRecords());
    }

    [Fact]
    public void TruncateAfter_CutsByteExactly_QuarantinesExactlyTheDiscardedRecords_AndTheLogTakesNewRecordsAfterTheCut()
    {
        (SimulatedDisk disk, var original) = Log(60);
        Assert.True(disk.ListFiles(".wal").Count >= 3, "the log spans several segments");
        WalTruncationResult result = WalTruncation.TruncateAfter(disk, Config, 17, "rewind-2-17", null, NullLogger.Instance);

        Assert.Equal((18L, 60L), (result.FirstDiscardedLsn, result.LastDiscardedLsn));
        Assert.True(result.SegmentsRemoved >= 2);
        Assert.Equal(original[..17], Reopen(disk));
        Assert.Equal(original[17..], Identity(WalTruncation.ReadQuarantined(disk, result.QuarantineFile!).Select(r => r.ToRecord())));
        using WalManager wal = WalManager.Open(disk, Config);
        Assert.Equal(18, wal.LogDelete("docs", "id1"));
    }

    [Fact]
    public void TruncateAfter_ProcessDeathThenPowerLossAtEveryStep_ReopensAsAPrefixHoldingEveryKeptRecord_AndARerunFinishesTheCut()
    {
        (SimulatedDisk disk, var original) = Log(60);
        var random = new Random(16);
        bool completed = false;
        for (int crashAt = 1; !completed; crashAt++)
        {
            Assert.True(crashAt < 500, "the truncation ends within 500 I/O operations");
            SimulatedDisk copy = disk.Crash(random, CrashMode.DropUnsynced); // everything was synced: an exact copy
            copy.CrashAtOperation = crashAt;
            try
            {
                WalTruncation.TruncateAfter(copy, Config, 17, "rewind-2-17", null, NullLogger.Instance);
                completed = true;
            }
            catch (SimulatedCrashException)
            {
                // The process died at this operation.
            }

            foreach (CrashMode mode in new[] { CrashMode.DropUnsynced, CrashMode.TornPrefix })
            {
                SimulatedDisk after = copy.Crash(random, mode);
                var reopened = Reopen(after);
                Assert.True(reopened.Count >= 17, $"crash at operation {crashAt} ({mode}): the log holds {reopened.Count} records, fewer than the 17 kept");
                Assert.Equal(original[..reopened.Count], reopened);

                WalTruncationResult rerun = WalTruncation.TruncateAfter(after, Config, 17, "rewind-2-17", null, NullLogger.Instance);
                Assert.Equal(original[..17], Reopen(after));
                string frames = rerun.QuarantineFile ?? "quarantine/rewind-2-17.frames";
                Assert.Equal(original[17..], Identity(WalTruncation.ReadQuarantined(after, frames).Select(r => r.ToRecord())));
            }
        }
    }
}

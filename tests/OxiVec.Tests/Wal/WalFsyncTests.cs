using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>fsync discipline: one fsync in flight per file, and a failed directory fsync fails the WAL.</summary>
public sealed class WalFsyncTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ConcurrentCommitsSyncsAndRotations_NeverTwoFsyncsInFlightOnOneFile()
    {
        var disk = new SimulatedDisk();
        WalConfig config = Config(disk.Directory) with { SyncIntervalMs = 10_000 };
        const int Writers = 3, Rotations = 30, MaxPerWriter = 40_000;

        // Each fsync takes a little while (it yields), so a seal has room to meet the syncer's fsync of its file.
        disk.OnSync = _ =>
        {
            for (int i = 0; i < 20; i++)
            {
                Thread.Yield();
            }
        };
        long appended = 0;
        using (var wal = WalManager.Open(disk, config))
        {
            bool Done() => wal.GetMetrics().SegmentCount >= Rotations;
            Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
            {
                for (int i = 0; i < MaxPerWriter && !Done(); i++)
                {
                    wal.Append(InsertFor((w * MaxPerWriter) + i, 64)); // written, not fsynced: rotations seal under the syncer
                    Interlocked.Increment(ref appended);
                }
            }))];
            Task syncer = Task.Run(() =>
            {
                while (!Done() && writers.Any(t => !t.IsCompleted))
                {
                    wal.Sync();
                }
            });
            await Task.WhenAll([.. writers, syncer]).WaitAsync(Patience);
            Assert.True(Done(), $"only {wal.GetMetrics().SegmentCount} segments after {appended} records");
        }

        Assert.Equal(0, disk.ConcurrentSyncs);
        Assert.Equal(0, disk.OpenHandles);
    }

    [Fact]
    public void Retention_DirectoryFsyncFails_TheWalFails()
    {
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory));
        for (int n = 1; wal.GetMetrics().SegmentCount < 3; n++)
        {
            wal.Append(InsertFor(n, 64));
        }

        disk.FailDirectorySync = true;
        Assert.Throws<WalFailedException>(() => wal.RemoveSegmentsThrough(wal.LastLsn));
        Assert.True(wal.GetMetrics().IsFailed);
        Assert.Throws<WalFailedException>(() => wal.Append(InsertFor(0)));
    }

    [Fact]
    public void Compression_DirectoryFsyncFails_TheWalFails()
    {
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory));
        for (int n = 1; wal.GetMetrics().SegmentCount < 3; n++)
        {
            wal.Append(InsertFor(n, 64));
        }

        disk.FailDirectorySync = true;
        Assert.Throws<WalFailedException>(() => wal.CompressSealedSegments(TimeSpan.Zero));
        Assert.True(wal.GetMetrics().IsFailed);
        Assert.Throws<WalFailedException>(() => wal.Append(InsertFor(0)));

        // No compression temporary is left; a spare segment (made in the background, ready or not) is not one.
        Assert.DoesNotContain(disk.ListFiles(WalSegmentName.TempSuffix), name => !WalSegmentName.IsSpare(name));
    }

    [Fact]
    public void Compression_FailsOnAFullDisk_LeavesNoTemporaryFile_CountsIt_AndSucceedsNextTime()
    {
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory, preallocate: false));
        for (int n = 1; wal.GetMetrics().SegmentCount < 3; n++)
        {
            wal.Append(InsertFor(n, 64));
        }

        long used = disk.ListFiles("").Sum(name => (long)disk.ReadAll(name).Length);
        disk.Capacity = used + 100; // room for the compressed file's creation, not for its bytes
        (int segments, _) = wal.CompressSealedSegments(TimeSpan.Zero);

        Assert.Equal(0, segments);
        Assert.Empty(disk.ListFiles(WalSegmentName.TempSuffix));
        Assert.Equal(1, wal.GetMetrics().MaintenanceFailures);
        Assert.Contains(wal.CheckHealth().Findings, f => f.Contains("maintenance", StringComparison.Ordinal));
        Assert.False(wal.GetMetrics().IsFailed);

        disk.Capacity = null;
        (segments, _) = wal.CompressSealedSegments(TimeSpan.Zero);
        Assert.Equal(2, segments);
        long expected = 1;
        foreach (WalRecord record in wal.ReadRecords())
        {
            Assert.Equal(expected++, record.Lsn);
        }
    }

    [Fact]
    public void Compression_ATemporaryFileLeftByAnEarlierFailure_IsReplaced()
    {
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory));
        for (int n = 1; wal.GetMetrics().SegmentCount < 2; n++)
        {
            wal.Append(InsertFor(n, 64));
        }

        string first = wal.Segments.Sealed[0].Name;
        string leftOver = Path.ChangeExtension(first, WalSegmentCompression.Suffix) + WalSegmentName.TempSuffix;
        disk.Create(leftOver, 0).Dispose();

        Assert.Equal(1, wal.CompressSealedSegments(TimeSpan.Zero).Segments);
        // Only the compression's temporary file: the next segment's spare (spare-N.tmp) may be in the making.
        Assert.DoesNotContain(leftOver, disk.ListFiles(WalSegmentName.TempSuffix));
        Assert.False(disk.Exists(first));
        Assert.Equal(0, wal.GetMetrics().MaintenanceFailures);
    }
}

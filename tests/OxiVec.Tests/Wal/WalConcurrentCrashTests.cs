using System.Collections.Concurrent;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>
/// Power loss at any I/O operation while 4 writer threads and 4 asynchronous writers commit with SyncIntervalMs = 0:
/// no acknowledged commit is lost. The simulated disk makes durable only what was written before an fsync started
/// (writes made while it runs stay unsynced), so an acknowledgement that relied on an fsync started too early
/// would show here.
/// </summary>
public sealed class WalConcurrentCrashTests
{
    [Theory]
    [InlineData(CrashMode.DropUnsynced)]
    [InlineData(CrashMode.TornPrefix)]
    [InlineData(CrashMode.RandomSectors)]
    public void ConcurrentWriters_PowerLossAtAnyOperation_NoAcknowledgedCommitIsLost(CrashMode mode)
    {
        const int Crashes = 60;
        int withAcknowledged = 0;
        for (int seed = 0; seed < Crashes; seed++)
        {
            withAcknowledged += RunOne(seed, mode) > 0 ? 1 : 0;
        }

        // Proves nothing unless crashes came after acknowledged commits.
        Assert.True(withAcknowledged >= Crashes / 4, $"only {withAcknowledged} of {Crashes} crashes came after an acknowledged commit");
    }

    /// <summary>One crash: 4 writer threads and 4 asynchronous writers commit until the simulated process dies.</summary>
    private static int RunOne(int seed, CrashMode mode)
    {
        var random = new Random(seed * 7919 + (int)mode);
        var disk = new SimulatedDisk { CrashAtOperation = random.Next(10, 600) };
        // Each fsync takes a little while (yields, no wait for anything), so writers append while it runs.
        disk.OnSync = _ =>
        {
            for (int i = 0; i < 20; i++)
            {
                Thread.Yield();
            }
        };
        WalConfig config = Config(disk.Directory, segmentSize: WalConfig.MinSegmentSizeBytes);
        var acknowledged = new ConcurrentDictionary<long, long>(); // LSN -> the writer's n
        using (var wal = WalManager.Open(disk, config))
        {
            Task[] writers =
            [
                .. Enumerable.Range(0, 4).Select(w => Task.Factory.StartNew(() =>
                {
                    for (long i = 0; ; i++)
                    {
                        long n = (w * 1_000_000) + i;
                        try
                        {
                            acknowledged[wal.Append(InsertFor(n, 1 + (int)(n % 300)))] = n;
                        }
                        catch (Exception ex) when (ex is WalFailedException or IOException)
                        {
                            return;
                        }
                    }
                }, TaskCreationOptions.LongRunning)),
                .. Enumerable.Range(4, 4).Select(w => Task.Run(async () =>
                {
                    for (long i = 0; ; i++)
                    {
                        long n = (w * 1_000_000) + i;
                        try
                        {
                            acknowledged[await wal.AppendAsync(InsertFor(n, 1 + (int)(n % 300)))] = n;
                        }
                        catch (Exception ex) when (ex is WalFailedException or IOException)
                        {
                            return;
                        }
                    }
                })),
            ];
            Assert.True(Task.WaitAll(writers, TimeSpan.FromMinutes(2)), $"seed {seed}: the writers did not stop after the crash");
        }

        Assert.Equal(0, disk.ConcurrentSyncs);
        Assert.Equal(0, disk.OverlappingSyncs); // one fsync of a file at a time (WalWriter.GroupCommit.cs says why)
        SimulatedDisk after = disk.Crash(random, mode);
        string context = $"seed {seed}, mode {mode}, crash at op {disk.CrashAtOperation} ({disk.CrashedOperation})";
        using (var wal = WalManager.Open(after, config))
        {
            Dictionary<long, WalEntry> records = wal.ReadRecords().ToDictionary(r => r.Lsn, r => r.ToEntry());
            foreach ((long lsn, long n) in acknowledged)
            {
                Assert.True(records.TryGetValue(lsn, out WalEntry? entry), $"{context}: acknowledged LSN {lsn} was lost ({records.Count} records survived)");
                Assert.True(WalEntryGen.SameContent(InsertFor(n, 1 + (int)(n % 300)), entry), $"{context}: LSN {lsn} is {entry}, not v{n}");
            }
        }

        return acknowledged.Count;
    }
}

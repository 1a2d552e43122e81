using System.Collections.Concurrent;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>
/// Group commit with two fsyncs in flight (<see cref="WalWriter.MaxSyncsInFlight"/>): each on a descriptor of its
/// own, published in start order, a failure of either acknowledging nothing it or a later fsync would have covered,
/// and no acknowledged commit lost to a power loss at any point. The simulated disk makes durable only what was
/// written before an fsync started.
/// </summary>
public sealed class WalOverlappingFsyncTests
{
    public static TheoryData<bool, bool, bool> Orders() => new()
    {
        // second released first, first fails, second fails
        { true, false, false },
        { false, false, false },
        { true, true, false },
        { false, true, false },
        { true, false, true },
        { false, false, true },
    };

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task TwoFsyncsInFlight_PublishInStartOrder_AndAFailureOfEitherAcknowledgesNothingTheyCover(bool secondFirst, bool failFirst, bool failSecond)
    {
        var disk = new SimulatedDisk($"/sim/{Guid.NewGuid():N}");
        using var wal = WalManager.Open(disk, Config(disk.Directory));
        using var held = new HeldSegmentSyncs(disk, hold: 2, fail: [failFirst, failSecond]);

        Task leader = Task.Run(() => wal.Append(InsertFor(1)));
        held.WaitUntilHeld(1);
        Task[] followers = [.. Enumerable.Range(2, 5).Select(n => Task.Run(() => wal.Append(InsertFor(n))))];

        // The first follower's fsync starts while the first one is held: two in flight, on two descriptors.
        held.WaitUntilHeld(2);
        WaitUntil(() => wal.WaitingCommits == 6, "the followers never joined a batch");
        Assert.Equal(1, disk.OverlappingSyncs);
        Assert.Equal(0, disk.ConcurrentSyncs);
        Assert.Equal(0, wal.DurableLsn);

        held.Release(secondFirst ? 2 : 1);
        held.WaitUntilReturned(secondFirst ? 2 : 1);
        if (secondFirst && !failSecond)
        {
            // The later fsync returned first: nothing is published before the earlier one has returned too.
            Assert.Equal(0, wal.DurableLsn);
            Assert.All((Task[])[leader, .. followers], w => Assert.False(w.IsCompleted, "acknowledged before the older fsync returned"));
        }

        held.Release(secondFirst ? 1 : 2);
        if (failFirst || failSecond)
        {
            foreach (Task writer in (Task[])[leader, .. followers])
            {
                await Assert.ThrowsAsync<WalFailedException>(() => writer);
            }

            Assert.Equal(0, wal.DurableLsn);
            Assert.True(wal.GetMetrics().IsFailed);
        }
        else
        {
            await Task.WhenAll((Task[])[leader, .. followers]);
            Assert.Equal(6, wal.DurableLsn);
            Assert.Equal(0, wal.UncoveredWakeups);
        }

        Assert.Equal(0, disk.ConcurrentSyncs);
    }

    [Theory]
    [InlineData(CrashMode.DropUnsynced)]
    [InlineData(CrashMode.TornPrefix)]
    [InlineData(CrashMode.RandomSectors)]
    public void ConcurrentWriters_PowerLossAtAnyOperation_NoAcknowledgedCommitIsLost(CrashMode mode)
    {
        const int Crashes = 60;
        int overlapped = 0;
        int withAcknowledged = 0;
        for (int seed = 0; seed < Crashes; seed++)
        {
            (int overlaps, int acknowledged) = RunOne(seed, mode);
            overlapped += overlaps;
            withAcknowledged += acknowledged > 0 ? 1 : 0;
        }

        // Proves nothing unless fsyncs overlapped and crashes came after acknowledged commits.
        Assert.True(overlapped > 0, "no fsync ever started while another was in flight");
        Assert.True(withAcknowledged >= Crashes / 4, $"only {withAcknowledged} of {Crashes} crashes came after an acknowledged commit");
    }

    /// <summary>One crash: 4 writer threads and 4 asynchronous writers commit until the simulated process dies.</summary>
    private static (int Overlaps, int Acknowledged) RunOne(int seed, CrashMode mode)
    {
        var random = new Random(seed * 7919 + (int)mode);
        var disk = new SimulatedDisk { CrashAtOperation = random.Next(10, 600) };
        // Each fsync takes a little while (yields, no wait for anything), so the next batch's fsync can start meanwhile.
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

        return (disk.OverlappingSyncs, acknowledged.Count);
    }

    private static void WaitUntil(Func<bool> condition, string message) =>
        Assert.True(SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(60)), message);

    /// <summary>
    /// Holds the first <c>hold</c> segment fsyncs open until released, each failing when released if told; the
    /// control file's fsyncs run freely. Records when each held fsync has returned.
    /// </summary>
    private sealed class HeldSegmentSyncs : IDisposable
    {
        private readonly ManualResetEventSlim[] _held;
        private readonly ManualResetEventSlim[] _release;
        private readonly ManualResetEventSlim[] _returned;
        private readonly ThreadLocal<int> _index = new();
        private int _syncs;

        public HeldSegmentSyncs(SimulatedDisk disk, int hold, bool[] fail)
        {
            _held = [.. Enumerable.Range(0, hold).Select(_ => new ManualResetEventSlim())];
            _release = [.. Enumerable.Range(0, hold).Select(_ => new ManualResetEventSlim())];
            _returned = [.. Enumerable.Range(0, hold).Select(_ => new ManualResetEventSlim())];
            disk.OnSync = name =>
            {
                if (!name.EndsWith(WalSegmentName.Suffix, StringComparison.Ordinal))
                {
                    return;
                }

                int n = Interlocked.Increment(ref _syncs);
                if (n <= hold)
                {
                    _held[n - 1].Set();
                    _release[n - 1].Wait();
                    if (fail[n - 1])
                    {
                        _returned[n - 1].Set();
                        throw new IOException("fsync failed: Input/output error (simulated).");
                    }

                    _index.Value = n;
                }
            };
            disk.Synced = name =>
            {
                if (_index.Value is int n and > 0)
                {
                    _index.Value = 0;
                    _returned[n - 1].Set();
                }
            };
        }

        public void WaitUntilHeld(int n) => Assert.True(_held[n - 1].Wait(TimeSpan.FromSeconds(60)), $"segment fsync {n} never started");

        public void WaitUntilReturned(int n) => Assert.True(_returned[n - 1].Wait(TimeSpan.FromSeconds(60)), $"segment fsync {n} never returned");

        public void Release(int n) => _release[n - 1].Set();

        public void Dispose()
        {
            foreach (ManualResetEventSlim e in _release)
            {
                e.Set();
            }

            foreach (ManualResetEventSlim e in (ManualResetEventSlim[])[.. _held, .. _release, .. _returned])
            {
                e.Dispose();
            }

            _index.Dispose();
        }
    }
}

using System.Collections.Concurrent;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

public sealed class WalConcurrencyTests
{
    [Fact]
    public void ConcurrentAppendsAndTransactions_EveryAcknowledgedLsnIsReadableOnceInOrder()
    {
        using var temp = new TempDirectory();
        const int Threads = 16, OpsPerThread = 150;
        var acknowledged = new ConcurrentDictionary<long, string>();
        using (var wal = WalManager.Open(Config(temp.Path)))
        {
            Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
            {
                for (int i = 0; i < OpsPerThread; i++)
                {
                    string id = $"t{t}-{i}";
                    if (i % 5 == 4)
                    {
                        using WalTransaction tx = wal.BeginTransaction();
                        tx.LogInsert("docs", id + "-a", VectorFor(i));
                        tx.LogInsert("docs", id + "-b", VectorFor(i));
                        long commit = tx.Commit();
                        Assert.True(acknowledged.TryAdd(commit - 2, id + "-a"));
                        Assert.True(acknowledged.TryAdd(commit - 1, id + "-b"));
                    }
                    else
                    {
                        Assert.True(acknowledged.TryAdd(wal.LogInsert("docs", id, VectorFor(i)), id));
                    }
                }
            });
        }

        using var reopened = WalManager.Open(Config(temp.Path));
        List<WalRecord> records = [.. reopened.ReadRecords()];
        Assert.Equal(Enumerable.Range(1, records.Count).Select(n => (long)n), records.Select(r => r.Lsn));
        var ids = new HashSet<string>();
        foreach (WalRecord record in records.Where(r => r.Type == WalRecordType.Insert))
        {
            var insert = (WalEntry.Insert)record.ToEntry();
            Assert.True(ids.Add(insert.Id), $"{insert.Id} logged twice");
            Assert.Equal(acknowledged[record.Lsn], insert.Id);
        }

        Assert.Equal(acknowledged.Count, ids.Count);
        Assert.Equal(Threads * (OpsPerThread + (OpsPerThread / 5)), ids.Count);
    }

    [Fact]
    public async Task GroupCommit_WritersArrivingDuringAnFsync_ShareTheNextOne()
    {
        var disk = new SimulatedDisk();
        using var wal = WalManager.Open(disk, Config(disk.Directory));
        using var leaderInFsync = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int syncs = 0;
        disk.OnSync = name =>
        {
            // Only the segment's fsyncs: the control file's (on a timer) must neither be held nor counted.
            if (name.EndsWith(WalSegmentName.Suffix, StringComparison.Ordinal) && Interlocked.Increment(ref syncs) == 1)
            {
                leaderInFsync.Set();
                release.Wait();
            }
        };

        Task leader = Task.Run(() => wal.Append(InsertFor(1)));
        leaderInFsync.Wait();
        Task[] followers = [.. Enumerable.Range(2, 10).Select(n => Task.Run(() => wal.Append(InsertFor(n))))];
        Assert.True(SpinWait.SpinUntil(() => wal.LastLsn == 11, TimeSpan.FromSeconds(30)), "followers never appended");
        release.Set();
        await Task.WhenAll([leader, .. followers]);

        Assert.Equal(2, syncs);
        Assert.Equal(11, wal.DurableLsn);
        Assert.Equal(2, wal.GetMetrics().SyncCount);
    }

    [Fact]
    public async Task IntervalPolicy_AcknowledgementsDoNotWaitForARunningFsync()
    {
        // A segment seal does wait for a running fsync of the same file (never two fsyncs in flight on one handle:
        // WalFsyncTests), so these records stay within the first segment.
        var disk = new SimulatedDisk();
        WalConfig config = Config(disk.Directory) with { SyncIntervalMs = 10_000 };
        const int Records = 50; // about 600 bytes each: 30 KB, within the 64 KiB segment
        using var syncerInFsync = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Thread? syncerThread = null;
        using (var wal = WalManager.Open(disk, config))
        {
            wal.Append(InsertFor(1, 128));
            disk.OnSync = _ =>
            {
                if (Thread.CurrentThread == Volatile.Read(ref syncerThread))
                {
                    syncerInFsync.Set();
                    release.Wait();
                }
            };

            var syncer = new Thread(() => wal.Sync());
            Volatile.Write(ref syncerThread, syncer);
            syncer.Start();
            Assert.True(syncerInFsync.Wait(TimeSpan.FromSeconds(30)), "the explicit Sync never reached its fsync");

            Task appends = Task.Run(() =>
            {
                for (int n = 2; n <= Records + 1; n++)
                {
                    wal.Append(InsertFor(n, 128));
                }
            });
            bool finished = await Task.WhenAny(appends, Task.Delay(TimeSpan.FromSeconds(30))) == appends;
            release.Set();
            Assert.True(finished, "acknowledgements waited for an fsync they do not need");
            await appends;
            Assert.True(syncer.Join(TimeSpan.FromSeconds(30)));
            Assert.Equal(1, wal.GetMetrics().SegmentCount);
            Assert.True(wal.DurableLsn >= 1);
        }

        Assert.Equal(0, disk.OpenHandles);
        using var reopened = WalManager.Open(disk, config);
        Assert.Equal(Enumerable.Range(1, Records + 1).Select(n => (long)n), reopened.ReadRecords().Select(r => r.Lsn));
    }

    [Fact]
    public async Task ConcurrentAsyncAppends_AllAcknowledgedAndDurable()
    {
        using var temp = new TempDirectory();
        await using var wal = WalManager.Open(Config(temp.Path));
        long[] lsns = await Task.WhenAll(Enumerable.Range(1, 200).Select(n => wal.AppendAsync(InsertFor(n)).AsTask()));

        Assert.Equal(Enumerable.Range(1, 200).Select(n => (long)n), lsns.Order());
        Assert.Equal(200, wal.DurableLsn);
    }

    [Fact]
    public async Task GroupCommit_AsyncAppendsArrivingDuringAnFsync_ShareTheNextOne()
    {
        var disk = new SimulatedDisk();
        await using var wal = WalManager.Open(disk, Config(disk.Directory));
        using var leaderInFsync = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int syncs = 0;
        disk.OnSync = name =>
        {
            // Only the segment's fsyncs: the control file's (on a timer) must neither be held nor counted.
            if (name.EndsWith(WalSegmentName.Suffix, StringComparison.Ordinal) && Interlocked.Increment(ref syncs) == 1)
            {
                leaderInFsync.Set();
                release.Wait();
            }
        };

        Task<long> leader = Task.Run(() => wal.AppendAsync(InsertFor(1)).AsTask());
        Assert.True(leaderInFsync.Wait(TimeSpan.FromSeconds(60)), "the first append never reached its fsync");
        Task<long>[] followers = [.. Enumerable.Range(2, 199).Select(n => Task.Run(() => wal.AppendAsync(InsertFor(n)).AsTask()))];
        Assert.True(SpinWait.SpinUntil(() => wal.LastLsn == 200, TimeSpan.FromSeconds(60)), "followers never appended");
        release.Set();
        long[] lsns = await Task.WhenAll([leader, .. followers]);

        Assert.Equal(Enumerable.Range(1, 200).Select(n => (long)n), lsns.Order());
        Assert.Equal(2, syncs);
        Assert.Equal(200, wal.DurableLsn);
        Assert.Equal(2, wal.GetMetrics().SyncCount);
    }
}

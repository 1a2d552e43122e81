using System.Collections.Concurrent;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;
using static OxiVec.Tests.Wal.WalSegmentRaceTests;
using static OxiVec.Tests.Wal.WalTestHelpers;

namespace OxiVec.Tests.Wal;

/// <summary>
/// The writer's background threads (sealer, spare maker) are started at open and only posted to afterwards: a rotation
/// never starts a thread (Thread.Start waits until the new thread runs).
/// </summary>
public sealed class WalBackgroundWorkerTests
{
    [Fact]
    public void Jobs_RunInOrderOnTheWorkersOneThread_WaitIdleWaitsForThem_DisposeFinishesThem()
    {
        var ran = new ConcurrentQueue<(int Job, int Thread)>();
        using var gate = new ManualResetEventSlim();
        var worker = new WalBackgroundWorker("test worker");
        worker.Post(() => gate.Wait());
        for (int i = 0; i < 5; i++)
        {
            int job = i;
            worker.Post(() => ran.Enqueue((job, Environment.CurrentManagedThreadId)));
        }

        Assert.Empty(ran); // held behind the first job: Post did not run anything on the caller's thread
        gate.Set();
        worker.WaitIdle();
        Assert.Equal(Enumerable.Range(0, 5), ran.Select(r => r.Job));
        Assert.Single(ran.Select(r => r.Thread).Distinct());
        Assert.NotEqual(Environment.CurrentManagedThreadId, ran.First().Thread);

        worker.Post(() => ran.Enqueue((5, Environment.CurrentManagedThreadId)));
        worker.Dispose();
        Assert.Equal(6, ran.Count);
        Assert.Throws<ObjectDisposedException>(() => worker.Post(() => { }));
        worker.WaitIdle(); // nothing left: returns
    }

    [Fact]
    public void WorkerThread_RunsUnderTheBatchPolicy_SoPostingToItNeverPreemptsThePoster()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // SCHED_BATCH is Linux's
        }

        using var worker = new WalBackgroundWorker("test worker");
        int tid = -1;
        worker.Post(() => tid = OxiVec.Internal.BatchScheduling.CurrentOsThreadId());
        worker.WaitIdle();
        Assert.True(tid > 0);
        Assert.Equal(tid, worker.OsThreadId);

        // /proc/<pid>/task/<tid>/stat: "pid (comm) state ...", the policy is field 41 (SCHED_BATCH = 3).
        string stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        Assert.Equal("3", fields[41 - 3]);

        // The caller's own thread keeps the normal policy (0).
        string own = File.ReadAllText($"/proc/self/task/{OxiVec.Internal.BatchScheduling.CurrentOsThreadId()}/stat");
        Assert.Equal("0", own[(own.LastIndexOf(')') + 2)..].Split(' ')[41 - 3]);
    }

    [Fact]
    public void Rotations_AreSealedByOneSealerThread()
    {
        var disk = new SimulatedDisk();
        var sealers = new ConcurrentDictionary<int, int>();
        disk.OnDispose = name =>
        {
            if (Thread.CurrentThread.Name == "OxiVec WAL segment sealer")
            {
                sealers.AddOrUpdate(Environment.CurrentManagedThreadId, 1, (_, n) => n + 1);
            }
        };
        using (var wal = WalManager.Open(disk, Config(disk.Directory) with { SyncIntervalMs = 3_600_000 }))
        {
            for (long n = 1; SegmentNames(disk).Count < 5; n++)
            {
                wal.Append(InsertFor(n, 64));
            }
        }

        // Every sealed segment's handle was closed by the sealer, and always the same thread.
        Assert.Single(sealers);
        Assert.True(sealers.Values.Single() >= 4, $"{sealers.Values.Single()} segments closed by the sealer");
    }
}

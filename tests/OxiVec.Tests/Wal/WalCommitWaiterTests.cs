using System.Diagnostics;
using System.Runtime.InteropServices;
using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>The waiter a blocked writer thread sleeps on until its batch's fsync ends.</summary>
public sealed class WalCommitWaiterTests
{
    [Fact]
    public void OnLinuxX64AndArm64_TheWaiterIsAFutex()
    {
        bool expected = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;
        Assert.Equal(expected, new WalCommitWaiter().UsesFutex);
        Assert.False(new WalCommitWaiter(useFutex: false).UsesFutex);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SignalBeforeWait_WaitReturnsAtOnce(bool futex)
    {
        var waiter = new WalCommitWaiter(futex);
        waiter.Signal();
        waiter.Wait(); // would block forever if the signal were lost
        waiter.Signal(); // idempotent
        waiter.Wait();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Wait_BlocksUntilSignalled_ThenReturns(bool futex)
    {
        var waiter = new WalCommitWaiter(futex);
        using var started = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            started.Set();
            waiter.Wait();
        });
        thread.Start();
        started.Wait();

        Assert.False(thread.Join(TimeSpan.FromMilliseconds(200)), "Wait returned without a signal");
        waiter.Signal();
        Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "the signal did not wake the waiting thread");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SignalRacingTheWait_IsNeverLost(bool futex)
    {
        // The signal lands before, during and after the waiter goes to sleep; a lost wake-up leaves a thread blocked.
        const int Rounds = 2_000;
        var waiters = new WalCommitWaiter[Rounds];
        for (int i = 0; i < Rounds; i++)
        {
            waiters[i] = new WalCommitWaiter(futex);
        }

        int woken = 0;
        var sleeper = new Thread(() =>
        {
            foreach (WalCommitWaiter w in waiters)
            {
                w.Wait();
                woken++;
            }
        });
        sleeper.Start();
        for (int i = 0; i < Rounds; i++)
        {
            if (i % 3 == 0)
            {
                Thread.Yield(); // lets the sleeper reach FUTEX_WAIT now and then
            }

            waiters[i].Signal();
        }

        Assert.True(sleeper.Join(TimeSpan.FromSeconds(60)), $"a wake-up was lost after {Volatile.Read(ref woken)} of {Rounds}");
        Assert.Equal(Rounds, woken);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TimedWait_WithoutASignal_ReturnsFalseOnceTheTimeoutPassed(bool futex)
    {
        var waiter = new WalCommitWaiter(futex);
        Assert.False(waiter.Wait(timeoutNanos: 0));
        var clock = Stopwatch.StartNew();
        Assert.False(waiter.Wait(timeoutNanos: 20_000_000));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(15), $"a 20 ms wait returned after {clock.Elapsed.TotalMilliseconds:F1} ms");

        // A timed-out wait leaves no state behind: a signal still reaches the next wait, timed or not.
        waiter.Signal();
        Assert.True(waiter.Wait(timeoutNanos: 1));
        waiter.Wait();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TimedWait_WokenBySignal_ReturnsTrueBeforeItsTimeout(bool futex)
    {
        var waiter = new WalCommitWaiter(futex);
        bool signalled = false;
        using var started = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            started.Set();
            signalled = waiter.Wait(timeoutNanos: 600_000_000_000); // ten minutes: only the signal ends it in time
        });
        thread.Start();
        started.Wait();
        waiter.Signal();
        Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "the signal did not wake the timed wait");
        Assert.True(signalled);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OneSignal_WakesEveryThreadSleepingOnTheWaiter(bool futex)
    {
        var waiter = new WalCommitWaiter(futex);
        using var started = new CountdownEvent(16);
        Thread[] threads = [.. Enumerable.Range(0, 16).Select(_ => new Thread(() =>
        {
            started.Signal();
            waiter.Wait();
        }))];
        foreach (Thread t in threads)
        {
            t.Start();
        }

        started.Wait();
        Assert.False(threads[0].Join(TimeSpan.FromMilliseconds(100)), "Wait returned without a signal");
        waiter.Signal();
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a thread sleeping on the waiter was not woken"));
    }

    [Fact]
    public void ParkedThreadsOfABatch_ShareOneFutexWaiter_TheLeaderHasItsOwn()
    {
        var batch = new WalCommitBatch();
        WalCommitWaiter leader = batch.WaitToLead(1);
        WalCommitWaiter first = batch.Park(2);
        Assert.Equal(first.UsesFutex, ReferenceEquals(first, batch.Park(3)));
        Assert.NotSame(leader, first);
        Assert.True(batch.IsLeader(leader));
        Assert.False(batch.IsLeader(first));
    }

    [Fact]
    public void WithMonitorWaiters_EachParkedThreadHasItsOwn()
    {
        var batch = new WalCommitBatch(futexWaiters: false);
        WalCommitWaiter first = batch.Park(1);
        Assert.False(first.UsesFutex);
        Assert.NotSame(first, batch.Park(2));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BatchComplete_WakesEveryParkedThread_AndTheAsyncWaiters(bool futex)
    {
        var batch = new WalCommitBatch(futex);
        WalCommitWaiter[] parked = [.. Enumerable.Range(1, 8).Select(lsn => batch.Park(lsn))];
        Task asyncWait = batch.WaitAsync(9);
        Thread[] threads = [.. parked.Select(w => new Thread(w.Wait))];
        foreach (Thread t in threads)
        {
            t.Start();
        }

        Assert.Equal(9, batch.Count);
        Assert.Equal(1, batch.MinLsn);
        Assert.Equal(9, batch.MaxLsn);
        batch.Complete();

        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a parked writer was not woken"));
        await asyncWait.WaitAsync(TimeSpan.FromSeconds(60)); // throws TimeoutException when the task never completes
    }
}

using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>The waiter a blocked writer thread sleeps on until its batch's fsync ends.</summary>
public sealed class WalCommitWaiterTests
{
    [Fact]
    public void SignalBeforeWait_WaitReturnsAtOnce()
    {
        var waiter = new WalCommitWaiter();
        waiter.Signal();
        waiter.Wait(); // would block forever if the signal were lost
        waiter.Signal(); // idempotent
        waiter.Wait();
    }

    [Fact]
    public void Wait_BlocksUntilSignalled_ThenReturns()
    {
        var waiter = new WalCommitWaiter();
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

    [Fact]
    public async Task BatchComplete_WakesEveryParkedThread_AndTheAsyncWaiters()
    {
        var batch = new WalCommitBatch();
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

using OxiVec.Internal;

namespace OxiVec.Tests.Internal;

/// <summary>
/// <see cref="LsnWaiters.Advance"/> raises the position without the lock while no wait is registered: a wait that
/// registers while such an advance passes it must still complete (the advance finds it, or it finds the position).
/// </summary>
public sealed class LsnWaitersLockFreeAdvanceTests
{
    [Fact]
    public async Task Advance_WithNoWaiter_RaisesThePosition_AndLaterWaitsSeeIt()
    {
        var waiters = new LsnWaiters();
        waiters.Advance(5);
        Assert.Equal(5, waiters.Reached);
        waiters.Advance(3); // never lowers without mayLower
        Assert.Equal(5, waiters.Reached);

        Assert.True(waiters.WaitAsync(5).IsCompleted);
        Task later = waiters.WaitAsync(7);
        Assert.False(later.IsCompleted);
        Assert.Equal(1, waiters.Count);

        waiters.Advance(6);
        Assert.False(later.IsCompleted);
        waiters.Advance(7);
        await later.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, waiters.Count);

        waiters.Advance(2, mayLower: true);
        Assert.Equal(2, waiters.Reached);
        Assert.False(waiters.WaitAsync(3).IsCompleted);
        waiters.Advance(3); // a waiter is registered again: the locked path completes it
        Assert.Equal(0, waiters.Count);
    }

    [Fact]
    public void WaitsRegisteredWhileAnotherThreadAdvances_AllComplete_OnceThePositionPassesThem()
    {
        const int Last = 200_000;
        const int WaitersPerThread = 20_000;
        var waiters = new LsnWaiters();
        var tasks = new List<Task>[2];
        using var start = new Barrier(3);

        var advancer = new Thread(() =>
        {
            start.SignalAndWait();
            for (long lsn = 1; lsn <= Last; lsn++)
            {
                waiters.Advance(lsn);
            }
        });
        var registrars = new Thread[tasks.Length];
        for (int t = 0; t < registrars.Length; t++)
        {
            var mine = tasks[t] = new List<Task>(WaitersPerThread);
            int seed = t;
            registrars[t] = new Thread(() =>
            {
                var random = new Random(seed);
                start.SignalAndWait();
                for (int i = 0; i < WaitersPerThread; i++)
                {
                    // Just ahead of the position as last seen: the window in which an advance passes a wait that registers.
                    long target = Math.Min(Last, waiters.Reached + random.Next(0, 4));
                    mine.Add(waiters.WaitAsync(target));
                }
            });
        }

        advancer.Start();
        foreach (Thread r in registrars)
        {
            r.Start();
        }

        advancer.Join();
        foreach (Thread r in registrars)
        {
            r.Join();
        }

        // Every target is at most Last and the position is Last: each wait has completed, none was lost.
        Assert.Equal(Last, waiters.Reached);
        Assert.Equal(0, waiters.Count);
        int pending = tasks.Sum(list => list.Count(task => !task.IsCompleted));
        Assert.Equal(0, pending);
    }
}

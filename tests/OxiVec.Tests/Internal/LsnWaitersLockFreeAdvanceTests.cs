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
    public void WaitsRegisteredWhileAnotherThreadAdvances_EachCompletes_OnceThePositionPassesIt()
    {
        const int WaitersPerThread = 30_000;
        var waiters = new LsnWaiters();
        var registered = new List<(long Target, Task Task)>[2];
        int registering = registered.Length;
        long last = 0;
        using var start = new Barrier(registered.Length + 1);

        // The advancer runs for as long as waits are registered, so every registration can meet an advance.
        var advancer = new Thread(() =>
        {
            start.SignalAndWait();
            long lsn = 0;
            while (Volatile.Read(ref registering) > 0)
            {
                waiters.Advance(++lsn);
            }

            Volatile.Write(ref last, lsn);
        });
        var registrars = new Thread[registered.Length];
        for (int t = 0; t < registrars.Length; t++)
        {
            var mine = registered[t] = new List<(long, Task)>(WaitersPerThread);
            int seed = t;
            registrars[t] = new Thread(() =>
            {
                var random = new Random(seed);
                start.SignalAndWait();
                for (int i = 0; i < WaitersPerThread; i++)
                {
                    // Just ahead of the position as last seen: the window in which an advance passes a wait that registers.
                    long target = waiters.Reached + random.Next(0, 4);
                    mine.Add((target, waiters.WaitAsync(target)));
                }

                Interlocked.Decrement(ref registering);
            });
        }

        advancer.Start();
        foreach (Thread r in registrars)
        {
            r.Start();
        }

        foreach (Thread r in registrars)
        {
            r.Join();
        }

        advancer.Join();

        // No further advance: a wait at or below the last position advanced to that is still pending was lost.
        long reached = Volatile.Read(ref last);
        Assert.Equal(reached, waiters.Reached);
        int lost = registered.Sum(list => list.Count(w => w.Target <= reached && !w.Task.IsCompleted));
        Assert.Equal(0, lost);
        int ahead = registered.Sum(list => list.Count(w => w.Target > reached));
        Assert.Equal(ahead, waiters.Count);
    }

    [Fact]
    public void AWaitRacingTheLastAdvanceOfABurst_CompletesWithoutAnyLaterAdvance()
    {
        // Many short bursts: in each, one thread advances a few positions while another registers a wait inside them;
        // when both are done the wait must have completed, with no later advance to sweep it up.
        const int Bursts = 40_000;
        var waiters = new LsnWaiters();
        using var barrier = new Barrier(2);
        int lost = 0;
        var advancer = new Thread(() =>
        {
            for (int b = 0; b < Bursts; b++)
            {
                barrier.SignalAndWait();
                long from = (long)b * 4;
                for (long lsn = from + 1; lsn <= from + 4; lsn++)
                {
                    waiters.Advance(lsn);
                }

                barrier.SignalAndWait();
            }
        });
        advancer.Start();
        var random = new Random(7);
        for (int b = 0; b < Bursts; b++)
        {
            barrier.SignalAndWait();
            Task wait = waiters.WaitAsync(((long)b * 4) + random.Next(1, 5));
            barrier.SignalAndWait();
            if (!wait.IsCompleted)
            {
                lost++;
            }
        }

        advancer.Join();
        Assert.Equal(0, lost);
        Assert.Equal(0, waiters.Count);
    }
}

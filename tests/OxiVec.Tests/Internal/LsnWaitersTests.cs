using OxiVec.Internal;

namespace OxiVec.Tests.Internal;

/// <summary>
/// <see cref="LsnWaiters"/> with a second position: a wait for both (a synchronous commit's standby confirmation and
/// local fsync) completes once, when the later of the two reaches it, and never before.
/// </summary>
public sealed class LsnWaitersTests
{
    [Fact]
    public async Task WaitBoth_FirstPositionFirst_CompletesOnlyWhenTheSecondArrives()
    {
        var waiters = new LsnWaiters(() => 0);
        Task both = waiters.WaitBothAsync(5);

        waiters.Advance(7);
        Assert.False(both.IsCompleted, "completed before the second position reached it");
        Assert.Equal(0, waiters.AdvanceSecond(4));
        Assert.False(both.IsCompleted);

        Assert.Equal(1, waiters.AdvanceSecond(5)); // woken by the second, its first already there: counted
        await both.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, waiters.Count);
    }

    [Fact]
    public async Task WaitBoth_SecondPositionFirst_CompletesOnlyWhenTheFirstArrives()
    {
        var waiters = new LsnWaiters(() => 0);
        Task both = waiters.WaitBothAsync(5);
        Task firstOnly = waiters.WaitAsync(5);

        Assert.Equal(0, waiters.AdvanceSecond(9));
        Assert.False(both.IsCompleted, "completed before the first position reached it");
        waiters.Advance(5);

        await both.WaitAsync(TimeSpan.FromSeconds(30));
        await firstOnly.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task WaitBoth_ReadsTheSecondPositionWhenItRegisters_SoARiseBeforeTheWaitIsNotMissed()
    {
        long durable = 0;
        var waiters = new LsnWaiters(() => Volatile.Read(ref durable));
        waiters.Advance(10);
        Volatile.Write(ref durable, 8); // published, its AdvanceSecond call not made yet

        Assert.True(waiters.WaitBothAsync(8).IsCompleted);
        Task later = waiters.WaitBothAsync(9);
        Assert.False(later.IsCompleted);
        waiters.AdvanceSecond(8); // the late call for the rise the wait already saw changes nothing
        Assert.False(later.IsCompleted);
        waiters.AdvanceSecond(9);
        await later.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task WaitBoth_WhileOpen_WaitsForTheSecondAlone_AndFailFailsIt()
    {
        var waiters = new LsnWaiters(() => 0);
        Task queued = waiters.WaitBothAsync(3);
        waiters.SetOpen(true);
        Assert.False(queued.IsCompleted, "an open gate still waits for the local fsync");
        waiters.AdvanceSecond(3);
        await queued.WaitAsync(TimeSpan.FromSeconds(30));

        Task pending = waiters.WaitBothAsync(4);
        waiters.Fail(new ObjectDisposedException("gate"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiters.WaitBothAsync(1));
    }

    [Fact]
    public void WaitBoth_WithoutASecondPosition_Throws()
    {
        var waiters = new LsnWaiters();
        Assert.Throws<InvalidOperationException>(() => { _ = waiters.WaitBothAsync(1); });
    }
}

using OxiVec.Hosting.Qdrant;

namespace OxiVec.Server.Tests.Qdrant;

public sealed class PointLocksTests
{
    [Fact]
    public async Task Exclusive_WaitsForTheHolder_ThenIsGranted()
    {
        var locks = new PointLocks(16);
        PointLocks.Held first = await locks.AcquireAsync("c", ["1"], exclusive: true, CancellationToken.None);
        Task<PointLocks.Held> second = locks.AcquireAsync("c", ["1"], exclusive: true, CancellationToken.None);
        Assert.False(second.IsCompleted);
        first.Dispose();
        (await second).Dispose();
    }

    [Fact]
    public async Task Shared_AreGrantedTogether_AndAWaitingExclusiveHoldsBackLaterShared()
    {
        var locks = new PointLocks(16);
        PointLocks.Held a = await locks.AcquireAsync("c", ["1"], exclusive: false, CancellationToken.None);
        PointLocks.Held b = await locks.AcquireAsync("c", ["1"], exclusive: false, CancellationToken.None);
        Task<PointLocks.Held> writer = locks.AcquireAsync("c", ["1"], exclusive: true, CancellationToken.None);
        Task<PointLocks.Held> late = locks.AcquireAsync("c", ["1"], exclusive: false, CancellationToken.None);
        Assert.False(writer.IsCompleted);
        Assert.False(late.IsCompleted);
        a.Dispose();
        b.Dispose();
        PointLocks.Held w = await writer;
        Assert.False(late.IsCompleted);
        w.Dispose();
        (await late).Dispose();
    }

    [Fact]
    public async Task ACancelledWaiter_TakesNothing_AndLetsOthersThrough()
    {
        var locks = new PointLocks(16);
        PointLocks.Held holder = await locks.AcquireAsync("c", ["1", "2", "3"], exclusive: true, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        Task<PointLocks.Held> waiting = locks.AcquireAsync("c", ["3", "1"], exclusive: true, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        holder.Dispose();
        using PointLocks.Held again = await locks.AcquireAsync("c", ["1", "2", "3"], exclusive: true, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }
}

using OxiVec.Indexing;

namespace OxiVec.Tests.Indexing;

public sealed class InstancePoolTests
{
    [Fact]
    public void Rent_GivesAThreadBackTheObjectItReturned_EvenAfterAnotherThreadReturnedOne()
    {
        const int size = 4;
        var pool = new InstancePool<object>(() => new object(), size);
        object mine = pool.Rent();

        // Another thread with a different home slot rents (a new object: the pool is empty) and returns first.
        object? theirs = null;
        Thread other = OtherThread(size, () =>
        {
            theirs = pool.Rent();
            pool.Return(theirs);
        });
        other.Start();
        other.Join();

        pool.Return(mine);
        Assert.NotNull(theirs);
        Assert.NotSame(mine, theirs);
        Assert.Same(mine, pool.Rent());
        Assert.Same(theirs, pool.Rent());
    }

    [Fact]
    public void Pool_NeverHandsOutOneObjectTwice_AndDropsReturnsWhenFull()
    {
        int created = 0;
        var pool = new InstancePool<object>(() => { created++; return new object(); }, 2);
        object a = pool.Rent();
        object b = pool.Rent();
        object c = pool.Rent();
        Assert.Equal(3, created);
        Assert.Equal(3, new HashSet<object>([a, b, c], ReferenceEqualityComparer.Instance).Count);
        pool.Return(a);
        pool.Return(b);
        pool.Return(c); // full: dropped
        var again = new HashSet<object>([pool.Rent(), pool.Rent()], ReferenceEqualityComparer.Instance);
        Assert.Equal(2, again.Count);
        Assert.Subset(new HashSet<object>([a, b], ReferenceEqualityComparer.Instance), again);
        _ = pool.Rent();
        Assert.Equal(4, created);
    }

    [Fact]
    public void Constructor_RejectsAnEmptyPool()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InstancePool<object>(() => new object(), 0));
    }

    /// <summary>A thread (not started) whose managed id falls on another home slot than the current thread's.</summary>
    private static Thread OtherThread(int size, Action body)
    {
        int home = Environment.CurrentManagedThreadId % size;
        for (int attempt = 0; attempt < 100; attempt++)
        {
            var thread = new Thread(() => body());
            if (thread.ManagedThreadId % size != home)
            {
                return thread;
            }
        }

        throw new InvalidOperationException("no thread id with another home slot in 100 attempts");
    }
}

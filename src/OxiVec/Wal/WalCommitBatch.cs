namespace OxiVec.Wal;

/// <summary>
/// The commits waiting for one fsync: group commit wakes them together when that fsync ends, and no others.
/// </summary>
/// <remarks>
/// Changed only under the writer's sync gate. <see cref="Count"/> is also read without it, as a hint (the commit
/// delay watches it grow). <see cref="Complete"/> runs after the batch was swapped out under the gate, when nobody
/// can join it any more.
/// </remarks>
internal sealed class WalCommitBatch
{
    private TaskCompletionSource? _ended;
    private WalCommitWaiter? _leaderWake;
    private readonly bool _futexWaiters;
    private WalCommitWaiter? _shared; // with futex waiters, every blocked writer thread sleeps on it, woken by one call
    private List<WalCommitWaiter>? _parked; // otherwise (Monitor), one per blocked thread, each woken by its own signal
    private int _count;

    /// <summary>A batch whose blocked threads share one waiter where it is a futex (see <see cref="Park"/>).</summary>
    public WalCommitBatch()
        : this(futexWaiters: true)
    {
    }

    /// <summary>With <paramref name="futexWaiters"/> false, Monitor waiters, one per blocked thread (tests cover both).</summary>
    internal WalCommitBatch(bool futexWaiters) => _futexWaiters = futexWaiters;

    /// <summary>Commits that joined (the syncer's own included).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The smallest LSN a commit of the batch waits for (<see cref="long.MaxValue"/> when empty).</summary>
    public long MinLsn { get; private set; } = long.MaxValue;

    /// <summary>The largest LSN a commit of the batch waits for (0 when empty).</summary>
    public long MaxLsn { get; private set; }

    /// <summary>
    /// Completes when the batch's fsync has ended (or the WAL failed); waiters then re-check the durable LSN. First read
    /// it under the gate (<see cref="WaitAsync"/>): a task created after <see cref="Complete"/> would never complete.
    /// </summary>
    public Task Ended => (_ended ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Counts a commit through <paramref name="lsn"/> that waits for no signal (the syncer's own).</summary>
    public void Join(long lsn)
    {
        Volatile.Write(ref _count, _count + 1);
        MinLsn = Math.Min(MinLsn, lsn);
        MaxLsn = Math.Max(MaxLsn, lsn);
    }

    /// <summary>
    /// The largest LSN of a detached commit (<see cref="JoinDetached"/>), 0 when none: a commit that waits on nothing
    /// of the batch, so that when the batch wakes before an fsync covered it, nobody re-checks for it.
    /// </summary>
    public long DetachedMaxLsn { get; private set; }

    /// <summary>Detached commits counted (<see cref="JoinDetached"/>).</summary>
    public int DetachedCount { get; private set; }

    /// <summary>
    /// Counts a commit through <paramref name="lsn"/> that waits for something else first and does not watch the batch
    /// (<see cref="WalWriter.StartWaitFor"/>): the syncer must not drop it when the batch ends before covering it.
    /// </summary>
    public void JoinDetached(long lsn)
    {
        Join(lsn);
        DetachedCount++;
        DetachedMaxLsn = Math.Max(DetachedMaxLsn, lsn);
    }

    /// <summary>
    /// Counts in this batch (the next fsync's) the detached commits of <paramref name="woken"/>, a batch woken before
    /// an fsync covered them all: the ones it did cover are counted again, which only the commit delay's estimate sees.
    /// </summary>
    public void CarryDetached(WalCommitBatch woken)
    {
        Volatile.Write(ref _count, _count + woken.DetachedCount);
        DetachedCount += woken.DetachedCount;
        MinLsn = Math.Min(MinLsn, woken.DetachedMaxLsn);
        MaxLsn = Math.Max(MaxLsn, woken.DetachedMaxLsn);
        DetachedMaxLsn = Math.Max(DetachedMaxLsn, woken.DetachedMaxLsn);
    }

    /// <summary>Counts a waiting commit through <paramref name="lsn"/> and returns the task it waits on (<see cref="Ended"/>).</summary>
    public Task WaitAsync(long lsn)
    {
        Join(lsn);
        return Ended;
    }

    /// <summary>
    /// Counts a commit through <paramref name="lsn"/> whose thread blocks until the batch ends, on a waiter that sleeps
    /// without spinning (see <see cref="WalCommitWaiter"/>): a futex shared by the batch's blocked threads, woken by
    /// one call; where there is no futex, a Monitor waiter of its own (a monitor shared by all would make the woken
    /// threads queue on its lock).
    /// </summary>
    public WalCommitWaiter Park(long lsn)
    {
        Join(lsn);
        if (_shared is not null)
        {
            return _shared;
        }

        var waiter = new WalCommitWaiter(_futexWaiters);
        if (waiter.UsesFutex)
        {
            return _shared = waiter;
        }

        (_parked ??= []).Add(waiter);
        return waiter;
    }

    /// <summary>Whether a blocked writer of the batch waits to be handed the syncing role (<see cref="WaitToLead"/>).</summary>
    public bool HasLeader => _leaderWake is not null;

    /// <summary>Set (under the gate) when the batch's leader was handed the syncing role rather than merely woken.</summary>
    public bool RoleHandedOver { get; private set; }

    /// <summary>
    /// Counts a commit through <paramref name="lsn"/> whose thread will run the batch's fsync when the running one
    /// ends (<see cref="HandOver"/>), or wakes with the others (<see cref="Complete"/>): one thread woken to sync, not a
    /// thread-pool worker to schedule among the blocked writers.
    /// </summary>
    public WalCommitWaiter WaitToLead(long lsn)
    {
        Join(lsn);
        _leaderWake = new WalCommitWaiter();
        return _leaderWake;
    }

    /// <summary>Whether <paramref name="waiter"/> is the batch's leader (<see cref="WaitToLead"/>).</summary>
    public bool IsLeader(WalCommitWaiter waiter) => ReferenceEquals(_leaderWake, waiter);

    /// <summary>Marks the role as handed to the leader (under the gate); <see cref="WakeLeader"/> then wakes it.</summary>
    public void HandOver() => RoleHandedOver = true;

    /// <summary>Wakes the leader after <see cref="HandOver"/>.</summary>
    public void WakeLeader() => _leaderWake?.Signal();

    /// <summary>
    /// Wakes every waiter of the batch, its leader included (without the role unless handed over): the blocked
    /// threads (one call for the shared futex, else one signal each in the order they joined), then the asynchronous
    /// waiters' task.
    /// </summary>
    public void Complete()
    {
        _leaderWake?.Signal();
        _shared?.Signal();
        if (_parked is { } parked)
        {
            foreach (WalCommitWaiter waiter in parked)
            {
                waiter.Signal();
            }
        }

        _ended?.TrySetResult();
    }
}

using System.Diagnostics;

namespace OxiVec.Wal;

/// <summary>
/// Group commit: one fsync at a time, each waking only the commits it covered, the next one handed on.
/// </summary>
/// <remarks>
/// <para>A commit that finds no fsync running becomes the syncer: it writes what is pending, fsyncs it, publishes
/// the durable LSN and wakes its batch. Commits that arrive while it runs join one of two batches: the running
/// fsync's (while it still gathers, or when its written end covers them) or the next one's. When the fsync ends
/// only its batch wakes; the next batch sleeps on, and the syncing role passes to the thread of its first blocked
/// writer (or, when only asynchronous commits wait, to a thread-pool work item), so 32 waiters are not woken onto
/// 2 cores to elect a syncer among themselves.</para>
/// <para>Commit delay (PostgreSQL's commit_delay and commit_siblings, made adaptive): when the last fsync saw at
/// least <see cref="WalConfig.CommitSiblings"/> commits, a syncer sleeps before its write until as many commits have
/// joined its batch as the last fsync saw (the commit that completes it wakes the syncer), or
/// <see cref="WalConfig.CommitDelayMicros"/> have passed, or as long as a recent fsync took. The writers an fsync just
/// woke thus join the next fsync instead of arriving one fsync late.</para>
/// <para>A commit is acknowledged only after an fsync that covers it completed: every waiter re-checks the durable
/// LSN when its batch wakes. A failed fsync wakes every batch, and each waiter throws <see cref="WalFailedException"/>.</para>
/// <para>Why one fsync at a time, not a new batch's fsync overlapping a running one (issue 12, goal 2, measured
/// 2026-12-03). Durability: Linux records a writeback error once per open file description (errseq), so of two
/// fsyncs in flight on one descriptor only one reports it, and the other may publish bytes that never reached the disk
/// (<c>SimulatedDisk.ConcurrentSyncs</c> must stay 0). Overlapping would need a descriptor of its own per fsync in
/// flight, opened before the bytes it covers were written, and publication in start order. Throughput: with W
/// writers, K fsyncs in flight split them into batches of W/K, so commits/s ≤ (fsyncs/s with K in flight) × W/K;
/// it pays only when K fsyncs in flight complete nearly K times as many per second as one. On the quiet VM disk
/// a sequential log gained nothing from 2 in flight (about 4.0k vs 4.05k fdatasync/s); <c>bench wal --group-commit
/// --fsync-overlap</c> measures it. Today a 32-writer cycle is one fsync plus the time the 32 woken writers take
/// to append again on 2 cores (2026-12-05: about 150-180 µs at 8-11 µs of CPU per commit, most of it the kernel's
/// context switches), and the disk idles during the latter. The fsync of a 32-commit batch (19 KiB into preallocated
/// space) also takes about twice a lone commit's (230 against 110 µs: a journal commit for the extent conversion every
/// time), so even with free wake-ups 32 writers would reach only about 32 × 110 / 230 ≈ 15× one writer on this disk.</para>
/// <para>Tried and measured (2026-12-03, branch s16-group-overlap): two fsyncs in flight, each on a descriptor of its own
/// (a second one per segment, opened before its records were written), published in start order, the role passed on
/// when an fsync starts. In a same-run interleaved A/B on a loaded machine (3 rounds × 3 repeats, fsyncs of 0.8–2 ms)
/// 32 threads lost: the second fsync starts with whoever has arrived, so batches split (31.5 → 20–24 commits per
/// fsync, hundreds of 1-commit fsyncs where one fsync at a time had a few dozen), CPU per commit rose (11.5–14.6 →
/// 15–25 µs) and commits/s fell in 2 rounds of 3 (base 19.9k/25.5k/30.0k, overlap 20.3k/15.8k/15.1k). 32 async tasks
/// gained 7–19 % in each round (21.0k/13.8k/22.0k → 25.1k/16.1k/23.5k) with full batches. Not kept: it would need a
/// policy for when the second fsync may start (say, once its batch holds half the writers) that was not measured.</para>
/// </remarks>
internal sealed partial class WalWriter
{
    // Guarded by _syncGate. One syncer at a time (_syncBusy). While it gathers, every new waiter joins _covered; once
    // it has closed its batch, waiters its target (the written end it fsyncs) covers join _covered and the others
    // _next. _durableLsn only grows, under _syncGate.
    private readonly Lock _syncGate = new();
    private bool _syncBusy;
    private bool _gathering;
    private long _syncTarget = -1; // -1 until the syncer knows what its fsync covers
    private bool _closed;
    private WalCommitBatch _covered = new();
    private WalCommitBatch _next = new();
    private int _expectedCommits; // commits the last fsync saw (its batch and the next): whom the commit delay waits for
    private long _syncTicks; // recent fsync time (Stopwatch ticks, moving average); written and read by the syncer only
    private long _uncoveredWakeups;
    private WalCommitWaiter? _gatherWake; // the commit delay's sleeping syncer, woken when _covered reaches _gatherTarget
    private int _gatherTarget;

    /// <summary>
    /// Called with the new durable LSN after every rise, on the thread that published it, outside the sync gate (a
    /// segment seal calls it under its naming lock) (a primary's commit gate: commits that wait for their standbys and
    /// their local fsync together). It must be quick, must not throw, and must not call back into the writer. A rise published before it was set is not reported: read the durable LSN
    /// after setting it.
    /// </summary>
    public Action<long>? DurableAdvanced
    {
        get => Volatile.Read(ref _durableAdvanced);
        set => Volatile.Write(ref _durableAdvanced, value);
    }

    private Action<long>? _durableAdvanced;

    /// <summary>Waiters woken although the durable LSN did not cover them (only a failure or a seal race does that; tests).</summary>
    internal long UncoveredWakeups => Interlocked.Read(ref _uncoveredWakeups);

    /// <summary>Commits counted in the running fsync's batch and the next one, the syncer's own included (tests).</summary>
    internal int WaitingCommits
    {
        get
        {
            lock (_syncGate)
            {
                return _syncBusy ? _covered.Count + _next.Count : 0;
            }
        }
    }

    /// <summary>
    /// Returns once every record up to <paramref name="lsn"/> has been written to the operating system and,
    /// when <paramref name="durable"/>, fsynced. Concurrent callers share the work (group commit).
    /// </summary>
    /// <exception cref="WalFailedException">A write or fsync failed, now or earlier.</exception>
    public void WaitFor(long lsn, bool durable)
    {
        if (!durable)
        {
            WriteThrough(lsn);
            return;
        }

        while (true)
        {
            WalCommitBatch? follow = JoinBatch(lsn, canLead: true, out bool done, out WalCommitWaiter? waiter);
            if (done)
            {
                return;
            }

            if (follow is null)
            {
                DelayForSiblings();
                SyncAndHandOff();
                continue;
            }

            // The batch's blocked threads sleep without spinning on one futex, woken by one call (they take no lock on
            // waking: a shared monitor once made them queue on its lock; without a futex each has a Monitor waiter of
            // its own); the leader sleeps on a waiter of its own, woken first and alone when handed the fsync.
            waiter!.Wait();
            if (follow.RoleHandedOver && follow.IsLeader(waiter))
            {
                // The fsync before ended and handed this batch's fsync to this thread.
                DelayForSiblings();
                SyncAndHandOff();
            }
            else
            {
                NoteWakeup(lsn);
            }
        }
    }

    /// <summary>Asynchronous <see cref="WaitFor"/>; cancellation abandons the wait, not the records.</summary>
    public async ValueTask WaitForAsync(long lsn, bool durable, CancellationToken cancellationToken)
    {
        if (!durable)
        {
            WriteThrough(lsn);
            return;
        }

        while (true)
        {
            // An asynchronous waiter never leads: its wait may be cancelled, and the role must not be lost with it.
            WalCommitBatch? follow = JoinBatch(lsn, canLead: false, out bool done, out _);
            if (done)
            {
                return;
            }

            if (follow is not null)
            {
                await follow.Ended.WaitAsync(cancellationToken).ConfigureAwait(false);
                NoteWakeup(lsn);
                continue;
            }

            // Let callers that are appending on this thread's continuation queue join the batch first.
            await Task.Yield();
            DelayForSiblings();
            SyncAndHandOff();
        }
    }

    /// <summary>
    /// Returns done=true when <paramref name="lsn"/> is durable; otherwise the batch joined, to wait on, or null when
    /// the caller has become the syncer (its commit counted in the batch it gathers). The batch's task is created
    /// here, under the gate, so the batch's end cannot miss it. A blocked thread (<paramref name="canLead"/>) gets a
    /// <paramref name="waiter"/> instead, the batch's shared one; the first of the next batch is its leader (a waiter
    /// of its own): its thread is handed
    /// that batch's fsync.
    /// </summary>
    /// <remarks>
    /// A <paramref name="detached"/> commit (<see cref="StartWaitFor"/>) waits on nothing of the batch: when the batch
    /// wakes before an fsync covered it, the syncer keeps the role for it (<see cref="EndSync"/>).
    /// </remarks>
    private WalCommitBatch? JoinBatch(long lsn, bool canLead, out bool done, out WalCommitWaiter? waiter, bool detached = false)
    {
        WalCommitWaiter? gathered = null;
        try
        {
            return JoinBatchLocked(lsn, canLead, out done, out waiter, detached, ref gathered);
        }
        finally
        {
            gathered?.Signal(); // outside the gate: the syncer it wakes takes the gate first thing
        }
    }

    private WalCommitBatch? JoinBatchLocked(long lsn, bool canLead, out bool done, out WalCommitWaiter? waiter, bool detached, ref WalCommitWaiter? gathered)
    {
        done = false;
        waiter = null;
        lock (_syncGate)
        {
            ThrowIfFailed();
            if (Volatile.Read(ref _durableLsn) >= lsn)
            {
                done = true;
                return null;
            }

            if (!_syncBusy)
            {
                ClaimSyncLocked();
                _covered.Join(lsn);
                return null;
            }

            WalCommitBatch batch = _gathering || lsn <= _syncTarget ? _covered : _next;
            if (detached)
            {
                batch.JoinDetached(lsn);
            }
            else if (!canLead)
            {
                _ = batch.WaitAsync(lsn);
            }
            else if (batch == _next && !batch.HasLeader)
            {
                waiter = batch.WaitToLead(lsn);
            }
            else
            {
                waiter = batch.Park(lsn);
            }

            if (_gatherWake is not null && batch == _covered && batch.Count >= _gatherTarget)
            {
                gathered = _gatherWake; // the batch the commit delay waits for is full: wake its syncer
                _gatherWake = null;
            }

            return batch;
        }
    }

    private void ClaimSyncLocked()
    {
        _syncBusy = true;
        _gathering = true;
        _syncTarget = -1;
    }

    private void NoteWakeup(long lsn)
    {
        if (Volatile.Read(ref _durableLsn) < lsn && _failure is null)
        {
            Interlocked.Increment(ref _uncoveredWakeups);
        }
    }

    /// <summary>
    /// The commit delay: when the last fsync saw at least <see cref="WalConfig.CommitSiblings"/> commits, sleeps until
    /// as many have joined the batch (the commit that completes it wakes this one), or
    /// <see cref="WalConfig.CommitDelayMicros"/> have passed, or as long as a recent fsync took (a moving average).
    /// </summary>
    private void DelayForSiblings()
    {
        int delayMicros = _config.CommitDelayMicros;
        int expected = Volatile.Read(ref _expectedCommits);
        if (delayMicros == 0 || expected < _config.CommitSiblings)
        {
            return;
        }

        // Never longer than an fsync takes: waiting longer costs more disk time than the batch saves.
        double seconds = Math.Min(delayMicros / 1e6, Volatile.Read(ref _syncTicks) / (double)Stopwatch.Frequency);
        long deadline = _time.GetTimestamp() + (long)(seconds * _time.TimestampFrequency);
        WalCommitWaiter wake;
        lock (_syncGate)
        {
            // The syncer's own batch stays _covered until this syncer ends; the commit that fills it wakes this one.
            if (_covered.Count >= expected)
            {
                return;
            }

            _gatherWake = wake = new WalCommitWaiter();
            _gatherTarget = expected;
        }

        try
        {
            // Asleep, not spinning: a syncer that yielded in a loop here took a fifth of the CPU of 32 blocked writers
            // on 2 cores (sched_yield and the switches it makes) while they were waking to append again. The clock
            // decides the end, so a test clock that never moves leaves the delay to the batch alone.
            while (_failure is null)
            {
                long remaining = deadline - _time.GetTimestamp();
                if (remaining <= 0 || wake.Wait((long)(remaining * (1e9 / _time.TimestampFrequency))))
                {
                    break;
                }
            }
        }
        finally
        {
            lock (_syncGate)
            {
                if (ReferenceEquals(_gatherWake, wake))
                {
                    _gatherWake = null;
                }
            }
        }
    }

    /// <summary>Ends a commit delay at once (the WAL failed).</summary>
    private void WakeGatheringSyncer() => Volatile.Read(ref _gatherWake)?.Signal();

    /// <summary>One fsync as the syncer; when a next batch waits, a thread-pool worker takes the role on.</summary>
    private void SyncAndHandOff()
    {
        if (SyncOnce())
        {
            HandOff();
        }
    }

    /// <summary>
    /// Queues the next fsync on the thread pool's global queue. Not a loop on this thread: when this thread is a pool
    /// worker, the continuations of the commits it just woke sit in its local queue and run first, so they join the
    /// next batch before its commit delay begins instead of waiting for a spinning syncer.
    /// </summary>
    private void HandOff() => ThreadPool.UnsafeQueueUserWorkItem(static writer => writer.RunHandedOffSync(), this, preferLocal: false);

    /// <summary>The handed-on syncer: one fsync for the batch that waits, handing on again when another formed meanwhile.</summary>
    private void RunHandedOffSync()
    {
        try
        {
            DelayForSiblings();
            SyncAndHandOff();
        }
        catch (WalFailedException)
        {
            // The WAL is in its failed state: every waiter was woken and sees the failure.
        }
    }

    /// <summary>One fsync for everyone waiting, unless another is running (that one or the next covers the bytes).</summary>
    private void TrySyncInBackground()
    {
        lock (_writeLock)
        {
            _backgroundSyncQueued = false;
        }

        lock (_syncGate)
        {
            if (_syncBusy || _closed || _failure is not null)
            {
                return;
            }

            ClaimSyncLocked();
        }

        try
        {
            SyncAndHandOff();
        }
        catch (WalFailedException)
        {
            // The WAL is in its failed state: every waiter and every later call sees the failure.
        }
    }

    /// <summary>
    /// The syncer's work (the caller claimed the role): closes its batch, writes everything appended so far, fsyncs
    /// the active segment through it, publishes the durable LSN and wakes the batch. Writers keep writing meanwhile:
    /// the fsync never holds the write lock, so acknowledgements that need only a write never wait for one.
    /// Returns true when the role stays with the caller because commits wait for the next fsync.
    /// </summary>
    private bool SyncOnce()
    {
        lock (_syncGate)
        {
            _gathering = false; // from here on only commits the target covers join this batch
        }

        IWalFile file;
        long target;
        long synced = 0;
        ulong syncedSegment;
        long syncedEnd;
        bool handOff;
        try
        {
            lock (_writeLock)
            {
                ThrowIfFailed();
                if (Volatile.Read(ref _writtenLsn) < Volatile.Read(ref _appendedLsn) && WritePendingLocked())
                {
                    _backgroundSyncQueued = false; // this fsync is the one a background sync would have been
                }

                file = _activeFile;
                target = Volatile.Read(ref _writtenLsn);
                SegmentBound active = Segments.Active; // under _writeLock: the segment and end this fsync covers
                (syncedSegment, syncedEnd) = (active.SegmentId, active.Limit);
                _unsyncedBytes = 0;
                _fileBeingSynced = file;
            }

            lock (_syncGate)
            {
                _syncTarget = target;
            }

            try
            {
                if (Volatile.Read(ref _durableLsn) < target)
                {
                    long start = Stopwatch.GetTimestamp();
                    SyncFile(file);
                    synced = target;
                    long took = Stopwatch.GetTimestamp() - start;
                    long average = Volatile.Read(ref _syncTicks);
                    Volatile.Write(ref _syncTicks, average == 0 ? took : average + ((took - average) / 4));
                }
            }
            catch (Exception ex) when (ex is not WalFailedException)
            {
                throw Fail(ex);
            }
            finally
            {
                lock (_writeLock)
                {
                    _fileBeingSynced = null;
                    if (!ReferenceEquals(file, _activeFile))
                    {
                        file.Dispose(); // sealed while this fsync ran; the seal left closing it to us
                    }
                }
            }
        }
        finally
        {
            handOff = EndSync(synced);
        }

        if (synced > 0)
        {
            NoteSynced(syncedSegment, syncedEnd, synced);
        }

        return handOff;
    }

    /// <summary>
    /// Publishes the durable LSN and wakes the batch the fsync covered. The next batch keeps sleeping when none of it
    /// is covered yet: then the syncing role passes to its leader's thread, or, when it has none (only asynchronous
    /// waiters), stays with the caller to hand on (returns true). Otherwise (it formed before the target was known, or
    /// the WAL failed) it wakes too, and its waiters re-check; when it holds detached commits (<see cref="StartWaitFor"/>)
    /// the fsync did not cover, the role stays with the caller to hand on for them, since they re-check nothing.
    /// </summary>
    private bool EndSync(long synced)
    {
        WalCommitBatch done, carried;
        bool handOff, wakeCarried, syncDetached, advanced = false;
        int commits;
        lock (_syncGate)
        {
            if (synced > Volatile.Read(ref _durableLsn))
            {
                Volatile.Write(ref _durableLsn, synced);
                SignalPositions();
                advanced = true;
            }

            long durable = Volatile.Read(ref _durableLsn);
            done = _covered;
            carried = _next;
            if (carried.Count > 0)
            {
                _next = new WalCommitBatch(); // an empty one nobody joined stays for the next fsync
            }

            _gathering = true;
            _syncTarget = -1;
            _expectedCommits = done.Count + carried.Count;
            handOff = carried.Count > 0 && _failure is null && carried.MinLsn > durable;
            wakeCarried = carried.Count > 0 && !handOff; // read here: an empty carried batch is the live _next again

            // A carried batch partly covered wakes, and its waiters re-check and join again, but its detached commits
            // (StartWaitFor) wait for a standby first and re-check nothing: one not covered yet would never be fsynced
            // (nor written, nor shipped) unless another commit came. The role stays here for them.
            syncDetached = wakeCarried && _failure is null && carried.DetachedMaxLsn > durable;
            commits = done.Count + (wakeCarried && carried.MaxLsn <= durable ? carried.Count : 0);
            _covered = handOff ? carried : new WalCommitBatch();
            if (syncDetached)
            {
                _covered.CarryDetached(carried);
            }

            _syncBusy = handOff || syncDetached;
            if (handOff && carried.HasLeader)
            {
                carried.HandOver();
            }
        }

        if (synced > 0 && _failure is null && commits > 0)
        {
            _instrumentation.CommitsSynced(commits);
        }

        if (advanced)
        {
            DurableAdvanced?.Invoke(synced); // before the batch wakes: a commit gate's waiters for both wake at once
        }

        bool leaderSyncs = handOff && carried.RoleHandedOver;
        if (leaderSyncs)
        {
            // First: the next fsync's thread starts its commit delay while the covered writers wake and append again.
            carried.WakeLeader();
        }

        done.Complete();
        if (wakeCarried)
        {
            carried.Complete();
        }

        return (handOff && !leaderSyncs) || syncDetached; // true: no leader thread, the caller hands the next fsync on
    }

    /// <summary>Raises the durable LSN (a segment seal); waiters see it when the running fsync ends or when they next look.</summary>
    private void AdvanceDurable(long lsn)
    {
        bool advanced = false;
        lock (_syncGate)
        {
            if (lsn > Volatile.Read(ref _durableLsn) && _failure is null)
            {
                Volatile.Write(ref _durableLsn, lsn);
                SignalPositions();
                advanced = true;
            }
        }

        if (advanced)
        {
            DurableAdvanced?.Invoke(lsn);
        }
    }

    /// <summary>At close: no background fsync starts from now on; waits for the running syncer and those it hands on to.</summary>
    private void CloseGroupCommit()
    {
        while (true)
        {
            Task running;
            lock (_syncGate)
            {
                _closed = true;
                if (!_syncBusy)
                {
                    return;
                }

                running = _covered.Ended;
            }

            running.GetAwaiter().GetResult();
        }
    }
}

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
/// least <see cref="WalConfig.CommitSiblings"/> commits, a syncer waits before its write, yielding the processor,
/// until as many commits have joined its batch as the last fsync saw, or <see cref="WalConfig.CommitDelayMicros"/>
/// have passed, or as long as a recent fsync took. The writers an fsync just woke thus join the next fsync instead of arriving one fsync late.</para>
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
/// --fsync-overlap</c> measures it. Today a 32-writer cycle is one fsync plus the CPU time the 32 woken writers take
/// to append again on 2 cores (about 190 µs each at 11.8 µs of CPU per commit), and the disk idles during the latter.</para>
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
    private long _syncTicks; // recent fsync time (Stopwatch ticks, moving average); written and read by the syncers
    private long _uncoveredWakeups;

    /// <summary>
    /// fsyncs of the group commit in flight at once, at most. Two: on the disk measured, two fdatasyncs in flight on a
    /// sequential log completed 1.43 times as many per second as one, three only 1.18 times (<c>bench wal
    /// --group-commit --fsync-overlap</c>).
    /// </summary>
    internal const int MaxSyncsInFlight = 2;

    // Guarded by _syncGate. The flights not yet published, in the order their fsyncs started; at most
    // MaxSyncsInFlight of them run (_runningSyncs counts those and the slot a role holder has taken).
    private readonly List<SyncFlight> _flights = [];
    private int _runningSyncs;
    private long _overlappedSyncs;

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
                int flights = 0;
                foreach (SyncFlight f in _flights)
                {
                    flights += f.Batch.Count;
                }

                return flights + (_syncBusy ? _covered.Count + _next.Count : 0);
            }
        }
    }

    /// <summary>fsyncs started while another fsync of the group commit was in flight (tests, benchmarks).</summary>
    internal long OverlappedSyncs
    {
        get
        {
            lock (_syncGate)
            {
                return _overlappedSyncs;
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
    /// joins the next batch, the role passes to that batch when the running syncer starts its fsync (<see cref="PassRoleLocked"/>).
    /// </remarks>
    private WalCommitBatch? JoinBatch(long lsn, bool canLead, out bool done, out WalCommitWaiter? waiter, bool detached = false)
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

            // Covered by an fsync in flight: wait for it (the oldest that covers it is published first).
            WalCommitBatch? batch = null;
            foreach (SyncFlight f in _flights)
            {
                if (f.Target >= lsn)
                {
                    batch = f.Batch;
                    break;
                }
            }

            if (batch is null && !_syncBusy)
            {
                ClaimSyncLocked();
                _covered.Join(lsn);
                return null;
            }

            batch ??= _gathering || lsn <= _syncTarget ? _covered : _next;
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
    /// The commit delay: when the last fsync saw at least <see cref="WalConfig.CommitSiblings"/> commits, waits (yielding
    /// the processor) until as many have joined the batch, or <see cref="WalConfig.CommitDelayMicros"/> have passed, or
    /// as long as a recent fsync took (a moving average).
    /// </summary>
    private void DelayForSiblings()
    {
        int delayMicros = _config.CommitDelayMicros;
        int expected = Volatile.Read(ref _expectedCommits);
        if (delayMicros == 0 || expected < _config.CommitSiblings)
        {
            return;
        }

        WalCommitBatch batch;
        lock (_syncGate)
        {
            batch = _covered; // the syncer's own batch: it stays until this syncer ends
        }

        // Never longer than an fsync takes: waiting longer costs more disk time than the batch saves.
        double seconds = Math.Min(delayMicros / 1e6, Volatile.Read(ref _syncTicks) / (double)Stopwatch.Frequency);
        long deadline = _time.GetTimestamp() + (long)(seconds * _time.TimestampFrequency);
        while (batch.Count < expected && _failure is null && _time.GetTimestamp() < deadline)
        {
            if (!Thread.Yield())
            {
                Thread.SpinWait(64);
            }
        }
    }

    /// <summary>One fsync as the syncer (the role passes on to the next batch when this fsync starts).</summary>
    private void SyncAndHandOff() => SyncOnce();

    /// <summary>
    /// Queues the next batch's syncer on the thread pool's global queue (a batch of asynchronous waiters only, which
    /// has no blocked thread to lead it). Not this thread: it is about to run its own fsync.
    /// </summary>
    private void HandOff() => ThreadPool.UnsafeQueueUserWorkItem(static writer => writer.RunHandedOffSync(), this, preferLocal: false);

    /// <summary>The handed-on syncer: one fsync for the batch that waits.</summary>
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

    /// <summary>One fsync for everyone waiting, unless a syncer gathers already (its fsync covers the bytes).</summary>
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
    /// The syncer's work (the caller claimed the role): waits, still gathering, until fewer than
    /// <see cref="MaxSyncsInFlight"/> fsyncs run; closes its batch; writes everything appended so far; starts a
    /// flight (its fsync of the active segment through that end, on a descriptor no other fsync in flight uses) and
    /// hands the role on to the batch that formed meanwhile, which may start the next fsync while this one runs. The
    /// flight is published in start order (<see cref="FinishFlight"/>): the durable LSN rises to its end, and its
    /// batch wakes, only once every fsync started before it finished too. Writers keep writing meanwhile: the fsync
    /// never holds the write lock.
    /// </summary>
    private void SyncOnce()
    {
        SyncFlight? flight = null;
        bool slot = false;
        try
        {
            WaitForSyncSlot();
            slot = true;
            lock (_syncGate)
            {
                _gathering = false;
                // Every commit of the batch was appended before it joined: the write below covers them all. Commits
                // appended after this point join the next batch unless they were appended by then.
                _syncTarget = Volatile.Read(ref _appendedLsn);
            }

            SharedWalFile file;
            long target;
            SegmentBound active;
            lock (_writeLock)
            {
                ThrowIfFailed();
                if (Volatile.Read(ref _writtenLsn) < Volatile.Read(ref _appendedLsn) && WritePendingLocked())
                {
                    _backgroundSyncQueued = false; // this fsync is the one a background sync would have been
                }

                file = (SharedWalFile)_activeFile;
                target = Volatile.Read(ref _writtenLsn);
                active = Segments.Active; // under _writeLock: the segment and end this fsync covers
                _unsyncedBytes = 0;
                file.AddOwner(); // the flight's: a rotation may seal the file while its fsync runs
            }

            WalCommitBatch? leader;
            bool poolHandOff;
            lock (_syncGate)
            {
                flight = StartFlightLocked(file, target, active);
                if (!flight.Running)
                {
                    slot = false; // nothing new to fsync: the slot was given back, the flight waits for the ones before it
                }

                (leader, poolHandOff) = PassRoleLocked();
            }

            // The next batch's syncer gathers (and may start the next fsync) while this fsync runs.
            leader?.WakeLeader();
            if (poolHandOff)
            {
                HandOff();
            }

            if (flight.Running)
            {
                long start = Stopwatch.GetTimestamp();
                SyncFileVia(file, flight.Descriptor);
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
            if (flight is null)
            {
                AbandonRole(slot);
            }
            else
            {
                flight.File.Dispose();
                FinishFlight(flight, slot);
            }
        }
    }

    /// <summary>
    /// Blocks until fewer than <see cref="MaxSyncsInFlight"/> fsyncs run (the role holder's batch keeps gathering
    /// meanwhile), then takes a slot; throws when the WAL failed.
    /// </summary>
    private void WaitForSyncSlot()
    {
        while (true)
        {
            SyncFlight? oldest = null;
            lock (_syncGate)
            {
                ThrowIfFailed();
                if (_runningSyncs < MaxSyncsInFlight)
                {
                    _runningSyncs++;
                    return;
                }

                foreach (SyncFlight f in _flights)
                {
                    if (f.Running)
                    {
                        oldest = f;
                        break;
                    }
                }
            }

            oldest?.Done.Wait();
        }
    }

    /// <summary>
    /// Adds the flight that fsyncs <paramref name="file"/> through <paramref name="target"/> (the caller holds a slot),
    /// or, when the durable LSN or an fsync in flight already covers the target, a flight with no fsync of its own that
    /// is published after them; on a descriptor no other fsync in flight uses.
    /// </summary>
    private SyncFlight StartFlightLocked(SharedWalFile file, long target, SegmentBound active)
    {
        long covered = Volatile.Read(ref _durableLsn);
        bool sameFileDescriptor0 = false;
        int running = 0;
        foreach (SyncFlight f in _flights)
        {
            covered = Math.Max(covered, f.Target);
            if (f.Running)
            {
                running++;
                sameFileDescriptor0 |= ReferenceEquals(f.File, file) && f.Descriptor == 0;
            }
        }

        bool needsSync = target > covered;
        // Descriptor 1 only while another fsync of this file runs on descriptor 0; without a second descriptor the
        // two fsyncs take turns on the first (SyncFileOnly locks it): never two in flight on one descriptor.
        int descriptor = sameFileDescriptor0 && file.Second is not null ? 1 : 0;
        var flight = new SyncFlight(_covered, file, target, active.SegmentId, active.Limit, descriptor, needsSync);
        _flights.Add(flight);
        if (!needsSync)
        {
            _runningSyncs--;
        }
        else if (running > 0)
        {
            _overlappedSyncs++;
        }

        return flight;
    }

    /// <summary>
    /// The role holder's fsync has started (or needs none): the role passes to the batch that formed meanwhile, whose
    /// leader's thread is woken to take it (returned), or, with asynchronous waiters only, a thread-pool worker
    /// (<c>true</c>); with no batch waiting the role is free, and the next commit takes it.
    /// </summary>
    private (WalCommitBatch? Leader, bool PoolHandOff) PassRoleLocked()
    {
        WalCommitBatch carried = _next;
        _expectedCommits = _covered.Count + carried.Count;
        _gathering = true;
        _syncTarget = -1;
        if (carried.Count == 0)
        {
            _covered = new WalCommitBatch();
            _syncBusy = false;
            return (null, false);
        }

        _covered = carried;
        _next = new WalCommitBatch();
        if (carried.HasLeader)
        {
            carried.HandOver();
            return (carried, false);
        }

        return (null, true);
    }

    /// <summary>
    /// The role holder failed before starting its fsync (the WAL has failed): frees the role and the slot, and wakes
    /// its batch and the next one, whose waiters see the failure.
    /// </summary>
    private void AbandonRole(bool slot)
    {
        WalCommitBatch done, carried;
        lock (_syncGate)
        {
            if (slot)
            {
                _runningSyncs--;
            }

            done = _covered;
            carried = _next;
            _covered = new WalCommitBatch();
            _next = new WalCommitBatch();
            _gathering = true;
            _syncTarget = -1;
            _syncBusy = false;
        }

        done.Complete();
        carried.Complete();
    }

    /// <summary>
    /// A flight's fsync returned (or it had none). Publishes in start order: while the oldest flight has finished, its
    /// end becomes the durable LSN and its batch wakes; a flight that finished before an older one waits for it. When
    /// the WAL has failed (this fsync, another, or anything else), nothing more is published and every flight's batch
    /// wakes to see the failure.
    /// </summary>
    private void FinishFlight(SyncFlight flight, bool slot)
    {
        List<SyncFlight>? published = null;
        List<SyncFlight>? failed = null;
        long newDurable = 0;
        lock (_syncGate)
        {
            if (slot)
            {
                _runningSyncs--;
            }

            flight.Running = false;
            flight.Finished = true;
            if (_failure is not null)
            {
                failed = [.. _flights];
                _flights.Clear();
            }
            else
            {
                while (_flights.Count > 0 && _flights[0].Finished)
                {
                    SyncFlight oldest = _flights[0];
                    _flights.RemoveAt(0);
                    (published ??= []).Add(oldest);
                    if (oldest.Target > Volatile.Read(ref _durableLsn))
                    {
                        Volatile.Write(ref _durableLsn, oldest.Target);
                        newDurable = oldest.Target;
                    }
                }

                if (newDurable > 0)
                {
                    SignalPositions();
                }
            }
        }

        flight.Done.Signal();
        if (failed is not null)
        {
            foreach (SyncFlight f in failed)
            {
                f.Batch.Complete();
            }

            return;
        }

        if (published is null)
        {
            return; // an older flight still runs: it publishes this one
        }

        foreach (SyncFlight f in published)
        {
            if (f.Synced && f.Batch.Count > 0)
            {
                _instrumentation.CommitsSynced(f.Batch.Count);
            }
        }

        if (newDurable > 0)
        {
            DurableAdvanced?.Invoke(newDurable); // before the batches wake: a commit gate's waiters for both wake at once
        }

        foreach (SyncFlight f in published)
        {
            f.Batch.Complete();
        }

        foreach (SyncFlight f in published)
        {
            if (f.Synced)
            {
                NoteSynced(f.SegmentId, f.SegmentEnd, f.Target);
            }
        }
    }

    /// <summary>
    /// One fsync in flight (or a flight with none, published after the ones that cover it): its batch, the file and
    /// descriptor it fsyncs, the LSN and segment end it covers. Running and Finished change under the sync gate.
    /// </summary>
    private sealed class SyncFlight(WalCommitBatch batch, SharedWalFile file, long target, ulong segmentId, long segmentEnd, int descriptor, bool synced)
    {
        public WalCommitBatch Batch { get; } = batch;

        public SharedWalFile File { get; } = file;

        public long Target { get; } = target;

        public ulong SegmentId { get; } = segmentId;

        public long SegmentEnd { get; } = segmentEnd;

        /// <summary>0: the file's first descriptor; 1: its second (<see cref="SharedWalFile.Second"/>).</summary>
        public int Descriptor { get; } = descriptor;

        /// <summary>Whether the flight has an fsync of its own.</summary>
        public bool Synced { get; } = synced;

        /// <summary>Its fsync runs (holds a slot).</summary>
        public bool Running { get; set; } = synced;

        /// <summary>Its fsync returned (or it had none); published once every older flight is.</summary>
        public bool Finished { get; set; }

        /// <summary>Set when its fsync returned: a syncer waiting for a slot waits on the oldest running flight.</summary>
        public WalCommitWaiter Done { get; } = new();
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
                if (_syncBusy)
                {
                    running = _covered.Ended;
                }
                else if (_flights.Count > 0)
                {
                    running = _flights[^1].Batch.Ended; // published last
                }
                else
                {
                    return;
                }
            }

            running.GetAwaiter().GetResult();
        }
    }
}

namespace OxiVec.Wal;

/// <summary>
/// How long records have gone without a checkpoint: the age of the newest checkpoint, and the age of the oldest
/// record logged after the newest checkpoint record. A database whose last record is its checkpoint has nothing
/// uncovered however old that checkpoint is (nothing checkpoints on a timer, so an idle database is healthy).
/// Thread safe: the state is one immutable value swapped atomically.
/// </summary>
/// <remarks>
/// Records logged while a checkpoint was being written (between the LSN it covers and its own record) are not
/// counted: the next record logged after the checkpoint record starts the count again. After a reopen the age of
/// the records found after the newest checkpoint is not read from the WAL: it is taken as the checkpoint's own age
/// (they are at most that old), or, without a checkpoint, counted from the open.
/// </remarks>
internal sealed class WalCheckpointLag
{
    private readonly TimeProvider _time;
    private readonly long _lastLsnAtOpen;
    private State _state;

    /// <param name="time">The clock.</param>
    /// <param name="lastLsnAtOpen">The WAL's last LSN when it was opened (0 when empty).</param>
    /// <param name="checkpointTimestamp">When the newest checkpoint record in the WAL's tail was written, if it holds one.</param>
    public WalCheckpointLag(TimeProvider time, long lastLsnAtOpen, long? checkpointTimestamp)
    {
        _time = time;
        _lastLsnAtOpen = lastLsnAtOpen;
        _state = new State(0, checkpointTimestamp ?? time.GetTimestamp(), checkpointTimestamp is not null, 0, 0, lastLsnAtOpen == 0);
    }

    /// <summary>
    /// Records through <paramref name="lsn"/> were logged; <paramref name="checkpoint"/> says the last one is a
    /// checkpoint record.
    /// </summary>
    public void Logged(long lsn, bool checkpoint) => Logged(lsn, checkpoint, _time.GetTimestamp());

    /// <summary>
    /// <see cref="Logged(long, bool)"/> at <paramref name="now"/>, a timestamp of this object's clock
    /// (<see cref="TimeProvider.GetTimestamp"/>) read by the append of <paramref name="lsn"/>: the writer's
    /// own clock read, so a single write reads the clock once for both.
    /// </summary>
    public void Logged(long lsn, bool checkpoint, long now)
    {
        State current = Volatile.Read(ref _state);
        if (!checkpoint && (lsn <= current.CheckpointLsn || (current.FirstUncoveredLsn != 0 && current.FirstUncoveredLsn <= lsn && current.FirstUncoveredTimestamp <= now)))
        {
            return; // nothing changes (every write after the first uncovered one): no closure, no new state
        }

        LoggedChanging(lsn, checkpoint, now);
    }

    /// <summary>
    /// The part of <see cref="Logged(long, bool)"/> that swaps in a new state. A method of its own: the closure's captures are
    /// allocated on entry to the method that declares them, so in <see cref="Logged(long, bool)"/> every write paid for it.
    /// </summary>
    private void LoggedChanging(long lsn, bool checkpoint, long now)
    {
        Update(s =>
        {
            if (checkpoint)
            {
                return lsn <= s.CheckpointLsn
                    ? s
                    : s.FirstUncoveredLsn > lsn
                        ? new State(lsn, now, true, s.FirstUncoveredLsn, s.FirstUncoveredTimestamp, true)
                        : new State(lsn, now, true, 0, 0, true);
            }

            if (lsn <= s.CheckpointLsn)
            {
                return s; // logged before the newest checkpoint record: see the remarks
            }

            return s.FirstUncoveredLsn == 0
                ? s with { FirstUncoveredLsn = lsn, FirstUncoveredTimestamp = now }
                : s with { FirstUncoveredLsn = Math.Min(lsn, s.FirstUncoveredLsn), FirstUncoveredTimestamp = Math.Min(now, s.FirstUncoveredTimestamp) };
        });
    }

    /// <summary>The newest checkpoint was written at <paramref name="timestamp"/> (known from its files after a reopen).</summary>
    public void CheckpointWrittenAt(long timestamp) =>
        Update(s => !s.CheckpointKnown || timestamp > s.CheckpointTimestamp ? s with { CheckpointTimestamp = timestamp, CheckpointKnown = true } : s);

    /// <summary>
    /// The age of the newest checkpoint (or of the open, without one) and of the oldest record logged after it (null
    /// when there is none).
    /// </summary>
    /// <param name="coveredAtOpen">
    /// Whether the record with the given LSN (the last one before the open) is covered by a checkpoint: it is a
    /// checkpoint record, or it is no longer in the WAL (retention and base backups drop only covered records).
    /// Called at most once per open.
    /// </param>
    public (TimeSpan CheckpointAge, TimeSpan? OldestUncoveredAge) Read(Func<long, bool> coveredAtOpen)
    {
        State s = Volatile.Read(ref _state);
        if (!s.OpenTailResolved)
        {
            bool uncovered = !coveredAtOpen(_lastLsnAtOpen);
            s = Update(t => t.OpenTailResolved
                ? t
                : !uncovered
                    ? t with { OpenTailResolved = true }
                    : t with
                    {
                        OpenTailResolved = true,
                        FirstUncoveredLsn = t.FirstUncoveredLsn == 0 ? _lastLsnAtOpen : Math.Min(t.FirstUncoveredLsn, _lastLsnAtOpen),
                        FirstUncoveredTimestamp = t.FirstUncoveredLsn == 0 ? t.CheckpointTimestamp : Math.Min(t.FirstUncoveredTimestamp, t.CheckpointTimestamp),
                    });
        }

        // A timestamp learnt from a record's wall-clock time after a reopen can lie ahead of now when the clock
        // stepped back: an age is never negative.
        return (NonNegative(_time.GetElapsedTime(s.CheckpointTimestamp)), s.FirstUncoveredLsn == 0 ? null : NonNegative(_time.GetElapsedTime(s.FirstUncoveredTimestamp)));
    }

    private State Update(Func<State, State> change)
    {
        while (true)
        {
            State current = Volatile.Read(ref _state);
            State next = change(current);
            if (ReferenceEquals(next, current) || ReferenceEquals(Interlocked.CompareExchange(ref _state, next, current), current))
            {
                return next;
            }
        }
    }

    /// <param name="CheckpointLsn">The newest checkpoint record's LSN logged since the open (0 before one).</param>
    /// <param name="CheckpointTimestamp">When the newest checkpoint was written, or the open without one.</param>
    /// <param name="CheckpointKnown">False while <paramref name="CheckpointTimestamp"/> is the open.</param>
    /// <param name="FirstUncoveredLsn">The oldest record logged after the newest checkpoint record (0: none).</param>
    /// <param name="FirstUncoveredTimestamp">When that record was logged.</param>
    /// <param name="OpenTailResolved">Whether the records before the open have been judged covered or not.</param>
    private sealed record State(
        long CheckpointLsn, long CheckpointTimestamp, bool CheckpointKnown, long FirstUncoveredLsn, long FirstUncoveredTimestamp, bool OpenTailResolved);

    private static TimeSpan NonNegative(TimeSpan age) => age < TimeSpan.Zero ? TimeSpan.Zero : age;
}

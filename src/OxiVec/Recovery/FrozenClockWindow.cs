namespace OxiVec.Recovery;

/// <summary>
/// A stretch of the WAL whose records all carry the same timestamp because the wall clock had stepped behind the
/// newest record's (see "Clock steps" in docs/wal-format.md). Records written while the wall clock read from
/// <see cref="WallClockAtStep"/> up to <see cref="FrozenTimestamp"/> are all stamped <see cref="FrozenTimestamp"/>,
/// so recovery to a time in that range cannot tell which of them came before it: it restores none of them. Recover
/// to an LSN in <see cref="FromLsn"/>..<see cref="ToLsn"/> instead.
/// </summary>
/// <param name="FromLsn">The clock-step record that opens the window.</param>
/// <param name="ToLsn">The last record stamped <paramref name="FrozenTimestamp"/>.</param>
/// <param name="FrozenTimestamp">The timestamp every record in the window carries.</param>
/// <param name="WallClockAtStep">What the wall clock read when the step was seen (earlier than <paramref name="FrozenTimestamp"/>).</param>
public sealed record FrozenClockWindow(long FromLsn, long ToLsn, DateTimeOffset FrozenTimestamp, DateTimeOffset WallClockAtStep)
{
    /// <summary>
    /// True when <paramref name="time"/> is at or after <see cref="WallClockAtStep"/> and before
    /// <see cref="FrozenTimestamp"/>: records written around it carry a later timestamp, so recovery to it cannot
    /// place them. (At or after the frozen timestamp, the whole window is before the target and is restored.)
    /// </summary>
    public bool Contains(DateTimeOffset time) => time >= WallClockAtStep && time < FrozenTimestamp;

    /// <inheritdoc/>
    public override string ToString() =>
        $"LSN {FromLsn} to {ToLsn}, written while the wall clock read {WallClockAtStep:O} to {FrozenTimestamp:O}, all stamped {FrozenTimestamp:O}";
}

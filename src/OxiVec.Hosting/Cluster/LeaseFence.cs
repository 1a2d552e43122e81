using System.Globalization;
using OxiVec.Storage;

namespace OxiVec.Hosting.Cluster;

/// <summary>
/// The primary's write fence: writes may be acknowledged only until the monotonic time at which the last successful
/// renewal was SENT, plus the TTL granted, minus a safety margin (max(1 s, TTL / 3)): by then the coordinator may
/// let the lease expire and another node lead. A failed renewal, a lost lease or a planned switchover closes it at
/// once. Its state is one immutable value swapped atomically (<see cref="Check"/> runs on every write, twice).
/// </summary>
internal sealed class LeaseFence : IWriteFence
{
    private readonly TimeProvider _time;
    private State _state;

    /// <summary>A fence that is closed until the first renewal (<see cref="Renewed"/>).</summary>
    public LeaseFence(TimeProvider time)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _state = new State(long.MinValue, "the leadership lease has not been confirmed yet", null, null);
    }

    /// <summary>The margin kept inside a TTL: max(1 s, TTL / 3).</summary>
    public static TimeSpan Margin(TimeSpan ttl) => TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, ttl.Ticks / 3));

    /// <inheritdoc />
    public string? Check()
    {
        State s = Volatile.Read(ref _state);
        if ((s.Revoked ?? s.Held) is { } refused)
        {
            return refused;
        }

        long now = _time.GetTimestamp();
        return now < s.Deadline ? null : s.Expired ?? "the leadership lease could not be renewed in time; this node may no longer be the primary";
    }

    /// <summary>
    /// A renewal sent at <paramref name="sentTimestamp"/> (<see cref="TimeProvider.GetTimestamp"/>, read BEFORE the
    /// request went out) was granted <paramref name="grantedTtl"/>: writes may be acknowledged until sent + TTL - margin.
    /// </summary>
    public void Renewed(long sentTimestamp, TimeSpan grantedTtl)
    {
        TimeSpan valid = grantedTtl - Margin(grantedTtl);
        long deadline = valid <= TimeSpan.Zero ? long.MinValue : sentTimestamp + (long)(valid.TotalSeconds * _time.TimestampFrequency);
        string expired = string.Create(
            CultureInfo.InvariantCulture,
            $"the leadership lease was last renewed more than {valid.TotalSeconds:0.###} s ago (TTL {grantedTtl.TotalSeconds:0.###} s minus a margin of {Margin(grantedTtl).TotalSeconds:0.###} s); this node may no longer be the primary");
        Update(s => s with { Deadline = Math.Max(s.Deadline, deadline), Expired = expired });
    }

    /// <summary>Closes the fence for good: the lease is lost or the node steps down.</summary>
    public void Revoke(string reason) => Update(s => s with { Revoked = s.Revoked ?? reason });

    /// <summary>Refuses writes while <paramref name="reason"/> holds (a switchover draining), whatever the lease; <see cref="Release"/> ends it.</summary>
    public void Hold(string reason) => Update(s => s with { Held = reason });

    /// <summary>Ends a <see cref="Hold"/> (the lease deadline applies again).</summary>
    public void Release() => Update(s => s with { Held = null });

    private void Update(Func<State, State> change)
    {
        while (true)
        {
            State current = Volatile.Read(ref _state);
            if (Interlocked.CompareExchange(ref _state, change(current), current) == current)
            {
                return;
            }
        }
    }

    /// <param name="Deadline">The timestamp until which writes may be acknowledged.</param>
    /// <param name="Expired">The reason given once the deadline passed.</param>
    /// <param name="Held">Writes refused whatever the deadline (a switchover draining), with this reason, until released.</param>
    /// <param name="Revoked">Writes refused for good (the lease is lost), with this reason.</param>
    private sealed record State(long Deadline, string? Expired, string? Held, string? Revoked);
}

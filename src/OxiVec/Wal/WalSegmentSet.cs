using System.Collections.Immutable;

namespace OxiVec.Wal;

/// <summary>
/// The WAL's segments as one immutable value: the sealed segments oldest first, and the active segment with how far
/// it is written (<see cref="SegmentBound.Limit"/>). The writer swaps in a new set whenever a segment is sealed,
/// written, removed or compressed; every reader (retention, compression, metrics, live reads) takes one set and
/// works from it, so it never combines the segment list of one moment with the active segment of another.
/// </summary>
internal sealed record WalSegmentSet(ImmutableList<SegmentBound> Sealed, SegmentBound Active)
{
    /// <summary>Every segment, oldest first, the active one last.</summary>
    public IReadOnlyList<SegmentBound> All => Sealed.Add(Active);

    /// <summary>The number of segments, active included.</summary>
    public int Count => Sealed.Count + 1;

    /// <summary>Bytes of records on disk (compressed segments count their compressed size).</summary>
    public long Bytes => Active.Limit + Sealed.Sum(s => s.Limit);

    /// <summary>The oldest LSN retained.</summary>
    public long FirstLsn => Sealed.Count > 0 ? Sealed[0].FirstLsn : Active.FirstLsn;

    /// <summary>The last LSN the sealed segment at <paramref name="index"/> can hold: one before the next segment's first.</summary>
    public long LastLsnOfSealed(int index) => (index + 1 < Sealed.Count ? Sealed[index + 1].FirstLsn : Active.FirstLsn) - 1;

    /// <summary>The set after the active segment is sealed at its written end and <paramref name="next"/> becomes active.</summary>
    public WalSegmentSet Rotated(SegmentBound next) => new(Sealed.Add(Active), next);

    /// <summary>The set with the active segment written through <paramref name="end"/>.</summary>
    public WalSegmentSet WrittenTo(long end) => this with { Active = Active with { Limit = end } };
}

namespace OxiVec.Indexing;

/// <summary>A node and its distance to the current query or base node.</summary>
internal readonly record struct Candidate(float Distance, int Id) : IComparable<Candidate>
{
    /// <summary>Orders by distance, then id (so sorts are deterministic).</summary>
    public int CompareTo(Candidate other)
    {
        int c = Distance.CompareTo(other.Distance);
        return c != 0 ? c : Id.CompareTo(other.Id);
    }
}

using System.Collections.Immutable;

namespace OxiVec.Transactions;

/// <summary>
/// The global transactions a participant knows, as one immutable value (swapped whole, so a reader or a checkpoint
/// sees one consistent state): the prepared ones with the records they reserve, and the resolved gids (never reused).
/// </summary>
internal sealed record TransactionTable
{
    /// <summary>No transaction known.</summary>
    public static readonly TransactionTable Empty = new();

    /// <summary>The prepared (in-doubt) transactions by gid.</summary>
    public ImmutableDictionary<string, PreparedEntry> Prepared { get; private init; } = ImmutableDictionary.Create<string, PreparedEntry>(StringComparer.Ordinal);

    /// <summary>The committed and rolled-back gids with the LSN of the record that resolved them (0 when loaded without it).</summary>
    public ImmutableDictionary<string, ResolvedGid> Resolved { get; private init; } = ImmutableDictionary.Create<string, ResolvedGid>(StringComparer.Ordinal);

    /// <summary>The records the prepared transactions write, with the gid holding each.</summary>
    public ImmutableDictionary<(string Collection, string Id), string> Reservations { get; private init; } = ImmutableDictionary<(string, string), string>.Empty;

    /// <summary>The gid's state.</summary>
    public PreparedTransactionState StateOf(string gid) =>
        Prepared.ContainsKey(gid) ? PreparedTransactionState.Prepared
        : Resolved.TryGetValue(gid, out ResolvedGid? resolved) ? resolved.State
        : PreparedTransactionState.Unknown;

    /// <summary>With <paramref name="entry"/> prepared and its records reserved.</summary>
    public TransactionTable Prepare(PreparedEntry entry)
    {
        ImmutableDictionary<(string, string), string>.Builder reservations = Reservations.ToBuilder();
        foreach (TransactionOperation operation in entry.Operations)
        {
            reservations[(operation.Collection, operation.Id)] = entry.Gid;
        }

        return this with { Prepared = Prepared.SetItem(entry.Gid, entry), Reservations = reservations.ToImmutable() };
    }

    /// <summary>With <paramref name="gid"/> resolved as <paramref name="state"/> at <paramref name="lsn"/> and its reservations released.</summary>
    public TransactionTable Resolve(string gid, PreparedTransactionState state, long lsn)
    {
        ImmutableDictionary<(string, string), string> reservations = Reservations;
        if (Prepared.TryGetValue(gid, out PreparedEntry? entry))
        {
            reservations = reservations.RemoveRange(entry.Operations.Select(o => (o.Collection, o.Id)));
        }

        return this with { Prepared = Prepared.Remove(gid), Resolved = Resolved.SetItem(gid, new ResolvedGid(state, lsn)), Reservations = reservations };
    }

    /// <summary>A prepared transaction that writes to <paramref name="collection"/>, or null.</summary>
    public string? GidWriting(string collection) =>
        Prepared.Values.Where(p => p.Operations.Any(o => o.Collection == collection)).Select(p => p.Gid).Order(StringComparer.Ordinal).FirstOrDefault();
}

/// <summary>A resolved gid: committed or rolled back by the record at <paramref name="Lsn"/>.</summary>
internal sealed record ResolvedGid(PreparedTransactionState State, long Lsn);

namespace OxiVec.Storage;

/// <summary>
/// The engine's natural order of record ids, which <see cref="VectorDatabase.Scroll"/> pages through: ids that are
/// canonical unsigned decimal integers (<c>0</c>, <c>42</c>, no sign, no leading zero, at most 2^64 - 1) first, by
/// value; then every other id, ordinally. This is Qdrant's order of point ids (integers, then UUIDs).
/// </summary>
public sealed class RecordIdOrder : IComparer<string>
{
    private RecordIdOrder()
    {
    }

    /// <summary>The comparer (stateless).</summary>
    public static RecordIdOrder Instance { get; } = new();

    /// <summary>True when <paramref name="id"/> is the canonical decimal form of an unsigned 64-bit integer.</summary>
    public static bool IsCanonicalInteger(string id, out ulong value)
    {
        ArgumentNullException.ThrowIfNull(id);
        return IsCanonicalInteger(id.AsSpan(), out value);
    }

    /// <summary>As <see cref="Compare(string?, string?)"/>, for an id read in place (<paramref name="x"/>) against a string.</summary>
    internal static int Compare(ReadOnlySpan<char> x, string y)
    {
        bool xn = IsCanonicalInteger(x, out ulong a);
        bool yn = IsCanonicalInteger(y, out ulong b);
        return (xn, yn) switch
        {
            (true, true) => a.CompareTo(b),
            (true, false) => -1,
            (false, true) => 1,
            _ => Math.Sign(x.SequenceCompareTo(y)),
        };
    }

    /// <summary>As <see cref="IsCanonicalInteger(string, out ulong)"/>, for a span.</summary>
    internal static bool IsCanonicalInteger(ReadOnlySpan<char> id, out ulong value)
    {
        value = 0;
        if (id.Length is 0 or > 20 || (id.Length > 1 && id[0] == '0'))
        {
            return false;
        }

        foreach (char c in id)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return ulong.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);
    }

    /// <inheritdoc/>
    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        // The span overload orders ids that are not integers by UTF-16 code units, as string.CompareOrdinal does.
        return Compare(x.AsSpan(), y);
    }
}

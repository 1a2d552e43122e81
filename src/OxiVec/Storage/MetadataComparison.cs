namespace OxiVec.Storage;

/// <summary>The order of two metadata values as filters compare them: exact, and only between comparable types.</summary>
internal static class MetadataComparison
{
    /// <summary>
    /// The sign of <paramref name="a"/> minus <paramref name="b"/>, or null when they do not compare (different
    /// types other than long and double, or lists or objects that differ). Longs and doubles compare exactly: a long is
    /// never rounded to a double.
    /// </summary>
    public static int? Compare(MetadataValue a, MetadataValue b) => (a.Kind, b.Kind) switch
    {
        (MetadataKind.Long, MetadataKind.Long) => a.AsLong.CompareTo(b.AsLong),
        (MetadataKind.Double, MetadataKind.Double) => a.AsDouble.CompareTo(b.AsDouble),
        (MetadataKind.Long, MetadataKind.Double) => CompareExactly(a.AsLong, b.AsDouble),
        (MetadataKind.Double, MetadataKind.Long) => -CompareExactly(b.AsLong, a.AsDouble),
        (MetadataKind.String, MetadataKind.String) => Math.Sign(string.CompareOrdinal(a.AsString, b.AsString)),
        (MetadataKind.Bool, MetadataKind.Bool) => a.AsBool.CompareTo(b.AsBool),
        (MetadataKind.StringList, MetadataKind.StringList) or (MetadataKind.List, MetadataKind.List) or (MetadataKind.Object, MetadataKind.Object) => a.Equals(b) ? 0 : null,
        (MetadataKind.Null, MetadataKind.Null) => 0,
        _ => null,
    };

    /// <summary>The sign of <paramref name="l"/> minus <paramref name="d"/>, exactly (<paramref name="d"/> is not NaN).</summary>
    public static int CompareExactly(long l, double d)
    {
        // 2^63 is exactly representable; every double in [-2^63, 2^63) truncates to a long exactly.
        const double TwoTo63 = 9_223_372_036_854_775_808.0;
        if (d >= TwoTo63)
        {
            return -1;
        }

        if (d < -TwoTo63)
        {
            return 1;
        }

        double whole = Math.Truncate(d);
        int byWhole = l.CompareTo((long)whole);
        if (byWhole != 0)
        {
            return byWhole;
        }

        // Same integer part: the fraction decides (l has none).
        return d > whole ? -1 : d < whole ? 1 : 0;
    }
}

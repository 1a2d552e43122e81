using OxiVec.Client;
using OxiVec.Storage;

namespace OxiVec.VectorData.Remote;

/// <summary>
/// The provider's <see cref="MetadataFilter"/>s as the server's (Qdrant's) filters, with the same results as the
/// embedded back end on the records the provider writes (scalar fields, string lists):
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>field == string</c> or <c>bool</c> or <c>long</c>: <c>match.value</c> (a string also matches inside a string list, as embedded);</item>
/// <item><c>field == double</c>: <c>range {gte: d, lte: d}</c> (compares exactly with longs and doubles, as embedded);</item>
/// <item><c>field == null</c>: <c>is_null</c> (present and null);</item>
/// <item><c>&lt;, &lt;=, &gt;, &gt;=</c> on a number: <c>range</c>; on a string (DateTime and DateTimeOffset fields are
/// stored as fixed-width sortable strings): OxiVec's <c>oxivec_string_range</c> extension (ordinal, as embedded); on a
/// long beyond ±2^53 or a bool: <see cref="NotSupportedException"/> (range bounds are doubles);</item>
/// <item><c>in</c>: <c>should</c> of the equalities; list membership: <c>match.any</c>; ids: <c>has_id</c>;
/// and, or, not: <c>must</c>, <c>should</c>, <c>must_not</c> of nested filters; always: <c>{}</c>; never: <c>must_not [{}]</c>.</item>
/// </list>
/// Field names holding <c>.</c>, <c>[</c>, <c>]</c> or <c>"</c> are refused (the server reads them as paths).
/// </remarks>
internal static class RemoteFilter
{
    private const double MaxExactLong = 9_007_199_254_740_992; // 2^53

    /// <summary>The server's filter for <paramref name="filter"/> (null: none).</summary>
    /// <exception cref="NotSupportedException">A condition the server cannot express with the embedded back end's meaning; the message names it.</exception>
    public static Filter? Translate(MetadataFilter? filter) => filter is null ? null : ToFilter(filter);

    private static Filter ToFilter(MetadataFilter filter) => filter switch
    {
        MetadataFilter.AndFilter and => Filter.Must(and.Operands.Select(ToCondition)),
        MetadataFilter.OrFilter or => Filter.Should(or.Operands.Select(ToCondition)),
        MetadataFilter.NotFilter not => Filter.MustNot(ToCondition(not.Inner)),
        MetadataFilter.ConstantFilter constant => constant.Equals(MetadataFilter.Always) ? new Filter() : Filter.MustNot(Condition.Nested(new Filter())),
        _ => Filter.Must(ToCondition(filter)),
    };

    private static Condition ToCondition(MetadataFilter filter) => filter switch
    {
        MetadataFilter.Comparison comparison => Compare(comparison.Field, comparison.Operator, comparison.Value),
        MetadataFilter.InList inList => Condition.Nested(Filter.Should(inList.Values.Select(v => Compare(inList.Field, FilterOperator.Equal, v)))),
        MetadataFilter.MatchFilter match => Match(match),
        MetadataFilter.HasIdFilter hasId => Condition.HasId(hasId.Ids.Select(id => RemoteIds.ToPoint(id).Point)),
        _ => Condition.Nested(ToFilter(filter)),
    };

    private static Condition Compare(string field, FilterOperator op, MetadataValue value)
    {
        string key = Key(field);
        if (op == FilterOperator.Equal)
        {
            return value.Kind switch
            {
                MetadataKind.String => Condition.Match(key, value.AsString),
                MetadataKind.Bool => Condition.Match(key, value.AsBool),
                MetadataKind.Long => Condition.Match(key, value.AsLong),
                MetadataKind.Double => Condition.Range(key, gte: value.AsDouble, lte: value.AsDouble),
                MetadataKind.Null => Condition.IsNull(key),
                _ => throw Unsupported($"an equality with a {value.Kind} value on '{field}'"),
            };
        }

        if (op == FilterOperator.NotEqual)
        {
            return Condition.Nested(Filter.MustNot(Compare(field, FilterOperator.Equal, value)));
        }

        if (value.Kind == MetadataKind.String)
        {
            string text = value.AsString;
            return op switch
            {
                FilterOperator.LessThan => Condition.StringRange(key, lt: text),
                FilterOperator.LessThanOrEqual => Condition.StringRange(key, lte: text),
                FilterOperator.GreaterThan => Condition.StringRange(key, gt: text),
                _ => Condition.StringRange(key, gte: text),
            };
        }

        double bound = value.Kind switch
        {
            MetadataKind.Double => value.AsDouble,
            MetadataKind.Long when Math.Abs((double)value.AsLong) <= MaxExactLong => value.AsLong,
            MetadataKind.Long => throw Unsupported($"an ordering comparison of '{field}' with {value.AsLong}, beyond ±2^53 (the server's range bounds are doubles)"),
            _ => throw Unsupported($"an ordering comparison ({op}) of '{field}' with a {value.Kind} value"),
        };
        return op switch
        {
            FilterOperator.LessThan => Condition.Range(key, lt: bound),
            FilterOperator.LessThanOrEqual => Condition.Range(key, lte: bound),
            FilterOperator.GreaterThan => Condition.Range(key, gt: bound),
            _ => Condition.Range(key, gte: bound),
        };
    }

    private static Condition Match(MetadataFilter.MatchFilter match)
    {
        string key = match.Path.ToString(); // a path means the same to the server as to the embedded filter
        if (match.Values.Count > 0 && match.Values.All(v => v.Kind == MetadataKind.String))
        {
            return Condition.MatchAny(key, match.Values.Select(v => v.AsString));
        }

        if (match.Values.Count > 0 && match.Values.All(v => v.Kind == MetadataKind.Long))
        {
            return Condition.MatchAny(key, match.Values.Select(v => v.AsLong));
        }

        return Condition.Nested(Filter.Should(match.Values.Select(v => v.Kind switch
        {
            MetadataKind.String => Condition.Match(key, v.AsString),
            MetadataKind.Long => Condition.Match(key, v.AsLong),
            MetadataKind.Bool => Condition.Match(key, v.AsBool),
            _ => throw Unsupported($"list membership of a {v.Kind} value in '{key}'"),
        })));
    }

    private static string Key(string field) =>
        field.AsSpan().IndexOfAny(".[]\"") >= 0
            ? throw Unsupported($"a filter on the field '{field}': the server reads '.', '[', ']' and '\"' in a key as a path into nested payloads")
            : field;

    private static NotSupportedException Unsupported(string what) =>
        new($"The remote OxiVec back end cannot filter by {what}.");
}

namespace OxiVec.Storage;

/// <summary>Comparison operators of a <see cref="MetadataFilter"/>.</summary>
public enum FilterOperator
{
    /// <summary>Equal (for a string list: contains).</summary>
    Equal,

    /// <summary>Not equal (true when the field is missing).</summary>
    NotEqual,

    /// <summary>Less than.</summary>
    LessThan,

    /// <summary>Less than or equal.</summary>
    LessThanOrEqual,

    /// <summary>Greater than.</summary>
    GreaterThan,

    /// <summary>Greater than or equal.</summary>
    GreaterThanOrEqual,
}

/// <summary>
/// A condition on a record's metadata, applied inside the index search (so a filtered search still returns k
/// results when k records match). Build with the static methods or <see cref="Parse"/>:
/// <c>group = 3 and (i &gt;= 100 or tag in ["a", "b"]) and not done = true</c>.
/// </summary>
/// <remarks>
/// Longs and doubles compare numerically with each other; strings compare ordinally; a comparison with a field
/// the record lacks, or of a different type, is false. On a string-list field, <c>=</c> and <c>in</c> test
/// membership.
/// </remarks>
public abstract record MetadataFilter
{
    private protected MetadataFilter()
    {
    }

    /// <summary>True when <paramref name="metadata"/> satisfies the filter.</summary>
    public abstract bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata);

    /// <summary><paramref name="field"/> compared with <paramref name="value"/>.</summary>
    public static MetadataFilter Compare(string field, FilterOperator op, MetadataValue value) => new Comparison(field, op, value);

    /// <summary><paramref name="field"/> equals <paramref name="value"/>.</summary>
    public static MetadataFilter Equal(string field, MetadataValue value) => new Comparison(field, FilterOperator.Equal, value);

    /// <summary><paramref name="field"/> equals one of <paramref name="values"/>.</summary>
    public static MetadataFilter In(string field, params MetadataValue[] values) => new InList(field, values);

    /// <summary>Both hold.</summary>
    public static MetadataFilter And(MetadataFilter left, MetadataFilter right) => new AndFilter(left, right);

    /// <summary>Either holds.</summary>
    public static MetadataFilter Or(MetadataFilter left, MetadataFilter right) => new OrFilter(left, right);

    /// <summary>The filter does not hold.</summary>
    public static MetadataFilter Not(MetadataFilter inner) => new NotFilter(inner);

    /// <summary>Parses the filter language (see the type's summary).</summary>
    /// <exception cref="FormatException">The expression is invalid; the message gives the position.</exception>
    public static MetadataFilter Parse(string expression) => new FilterParser(expression).ParseAll();

    /// <summary>A comparison of one field with a value.</summary>
    /// <param name="Field">The metadata field.</param>
    /// <param name="Operator">The comparison.</param>
    /// <param name="Value">The value to compare with.</param>
    public sealed record Comparison(string Field, FilterOperator Operator, MetadataValue Value) : MetadataFilter
    {
        /// <inheritdoc/>
        public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata)
        {
            ArgumentNullException.ThrowIfNull(metadata);
            if (!metadata.TryGetValue(Field, out MetadataValue actual))
            {
                return Operator == FilterOperator.NotEqual;
            }

            if (actual.Kind == MetadataKind.StringList && Value.Kind == MetadataKind.String)
            {
                bool contains = actual.AsStringList.Contains(Value.AsString, StringComparer.Ordinal);
                return Operator switch
                {
                    FilterOperator.Equal => contains,
                    FilterOperator.NotEqual => !contains,
                    _ => false,
                };
            }

            int? order = CompareValues(actual, Value);
            return Operator switch
            {
                FilterOperator.Equal => order == 0,
                FilterOperator.NotEqual => order != 0,
                FilterOperator.LessThan => order < 0,
                FilterOperator.LessThanOrEqual => order <= 0,
                FilterOperator.GreaterThan => order > 0,
                FilterOperator.GreaterThanOrEqual => order >= 0,
                _ => false,
            };
        }

        private static int? CompareValues(MetadataValue a, MetadataValue b)
        {
            if (a.IsNumber && b.IsNumber)
            {
                return a.Kind == MetadataKind.Long && b.Kind == MetadataKind.Long
                    ? a.AsLong.CompareTo(b.AsLong)
                    : a.AsNumber.CompareTo(b.AsNumber);
            }

            if (a.Kind != b.Kind)
            {
                return null;
            }

            return a.Kind switch
            {
                MetadataKind.String => string.CompareOrdinal(a.AsString, b.AsString),
                MetadataKind.Bool => a.AsBool.CompareTo(b.AsBool),
                _ => a.Equals(b) ? 0 : null,
            };
        }
    }

    /// <summary>The field equals one of the values (for a string list: shares an element).</summary>
    /// <param name="Field">The metadata field.</param>
    /// <param name="Values">The accepted values.</param>
    public sealed record InList(string Field, IReadOnlyList<MetadataValue> Values) : MetadataFilter
    {
        /// <inheritdoc/>
        public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata)
        {
            foreach (MetadataValue value in Values)
            {
                if (new Comparison(Field, FilterOperator.Equal, value).Matches(metadata))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Both filters hold.</summary>
    /// <param name="Left">The first filter.</param>
    /// <param name="Right">The second filter.</param>
    public sealed record AndFilter(MetadataFilter Left, MetadataFilter Right) : MetadataFilter
    {
        /// <inheritdoc/>
        public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata) => Left.Matches(metadata) && Right.Matches(metadata);
    }

    /// <summary>Either filter holds.</summary>
    /// <param name="Left">The first filter.</param>
    /// <param name="Right">The second filter.</param>
    public sealed record OrFilter(MetadataFilter Left, MetadataFilter Right) : MetadataFilter
    {
        /// <inheritdoc/>
        public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata) => Left.Matches(metadata) || Right.Matches(metadata);
    }

    /// <summary>The filter does not hold.</summary>
    /// <param name="Inner">The negated filter.</param>
    public sealed record NotFilter(MetadataFilter Inner) : MetadataFilter
    {
        /// <inheritdoc/>
        public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata) => !Inner.Matches(metadata);
    }
}

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
/// Longs and doubles compare numerically with each other, exactly (a long above 2^53 is not equal to the double
/// nearest it); strings compare ordinally. A comparison of values of different types is false, whatever the
/// operator (<c>!=</c> included); a comparison with a field the record lacks is false, except <c>!=</c>, which is
/// true. On a string-list field, <c>=</c> and <c>in</c> test membership and <c>!=</c> non-membership.
/// <para>
/// <c>and</c> and <c>or</c> are n-ary (nested ones are flattened) and evaluated term by term, so a long chain costs
/// no stack. Filters nest at most <see cref="MaxDepth"/> levels; parsed text is at most <see cref="MaxLength"/>
/// characters and <see cref="MaxTerms"/> terms. Beyond a limit, building or parsing throws and names it.
/// </para>
/// </remarks>
public abstract partial record MetadataFilter
{
    /// <summary>The deepest nesting of <c>and</c>, <c>or</c>, <c>not</c> and parentheses a filter may have (64).</summary>
    public const int MaxDepth = 64;

    /// <summary>The longest filter text <see cref="Parse"/> accepts, in characters (65,536).</summary>
    public const int MaxLength = 65_536;

    /// <summary>The most terms (comparisons, and values of <c>in</c> lists) <see cref="Parse"/> accepts (4,096).</summary>
    public const int MaxTerms = 4_096;

    private protected MetadataFilter(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"The filter nests {depth} levels deep; at most {MaxDepth} are allowed (MetadataFilter.MaxDepth).");
        }

        Depth = depth;
    }

    /// <summary>Levels of nesting: 1 for a comparison, one more per enclosing <c>and</c>, <c>or</c> or <c>not</c>.</summary>
    public int Depth { get; }

    /// <summary>True when <paramref name="metadata"/> satisfies the filter; a condition on the record's id is false (no id is given).</summary>
    public bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata) => Matches(null, metadata);

    /// <summary>True when the record <paramref name="id"/> with <paramref name="metadata"/> satisfies the filter (a null id satisfies no id condition).</summary>
    public abstract bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata);

    /// <summary><paramref name="field"/> compared with <paramref name="value"/>.</summary>
    public static MetadataFilter Compare(string field, FilterOperator op, MetadataValue value) => new Comparison(field, op, value);

    /// <summary><paramref name="field"/> equals <paramref name="value"/>.</summary>
    public static MetadataFilter Equal(string field, MetadataValue value) => new Comparison(field, FilterOperator.Equal, value);

    /// <summary><paramref name="field"/> equals one of <paramref name="values"/>.</summary>
    public static MetadataFilter In(string field, params MetadataValue[] values) => new InList(field, values);

    /// <summary>Both hold.</summary>
    /// <exception cref="ArgumentException">The result would nest deeper than <see cref="MaxDepth"/>.</exception>
    public static MetadataFilter And(MetadataFilter left, MetadataFilter right) => And([left, right]);

    /// <summary>All hold (nested <c>and</c>s are flattened into one).</summary>
    /// <exception cref="ArgumentException">No operands, or the result would nest deeper than <see cref="MaxDepth"/>.</exception>
    public static MetadataFilter And(params IReadOnlyList<MetadataFilter> operands) => new AndFilter(Flatten<AndFilter>(operands, a => a.Operands));

    /// <summary>Either holds.</summary>
    /// <exception cref="ArgumentException">The result would nest deeper than <see cref="MaxDepth"/>.</exception>
    public static MetadataFilter Or(MetadataFilter left, MetadataFilter right) => Or([left, right]);

    /// <summary>Any holds (nested <c>or</c>s are flattened into one).</summary>
    /// <exception cref="ArgumentException">No operands, or the result would nest deeper than <see cref="MaxDepth"/>.</exception>
    public static MetadataFilter Or(params IReadOnlyList<MetadataFilter> operands) => new OrFilter(Flatten<OrFilter>(operands, o => o.Operands));

    /// <summary>The filter does not hold.</summary>
    /// <exception cref="ArgumentException">The result would nest deeper than <see cref="MaxDepth"/>.</exception>
    public static MetadataFilter Not(MetadataFilter inner) => new NotFilter(inner);

    /// <summary>Parses the filter language (see the type's summary).</summary>
    /// <exception cref="FormatException">
    /// The expression is invalid, or longer, deeper or with more terms than <see cref="MaxLength"/>,
    /// <see cref="MaxDepth"/> or <see cref="MaxTerms"/> allow; the message gives the position and the limit.
    /// </exception>
    public static MetadataFilter Parse(string expression) => new FilterParser(expression).ParseAll();

    private static List<MetadataFilter> Flatten<T>(IReadOnlyList<MetadataFilter> operands, Func<T, IReadOnlyList<MetadataFilter>> inner)
        where T : MetadataFilter
    {
        ArgumentNullException.ThrowIfNull(operands);
        var flat = new List<MetadataFilter>(operands.Count);
        foreach (MetadataFilter operand in operands)
        {
            if (operand is T same)
            {
                flat.AddRange(inner(same)); // already flat: one level suffices
            }
            else
            {
                flat.Add(operand); // a null is refused by the constructor
            }
        }

        return flat;
    }

    private static int DepthOf(IReadOnlyList<MetadataFilter> operands)
    {
        int deepest = 0;
        foreach (MetadataFilter operand in operands)
        {
            deepest = Math.Max(deepest, operand.Depth);
        }

        return deepest + 1;
    }

    /// <summary>A comparison of one field with a value.</summary>
    public sealed record Comparison : MetadataFilter
    {
        /// <summary>Creates the comparison.</summary>
        /// <param name="field">The metadata field.</param>
        /// <param name="op">The comparison.</param>
        /// <param name="value">The value to compare with.</param>
        public Comparison(string field, FilterOperator op, MetadataValue value)
            : base(1)
        {
            Field = field ?? throw new ArgumentNullException(nameof(field));
            Operator = Enum.IsDefined(op) ? op : throw new ArgumentOutOfRangeException(nameof(op), op, "Unknown filter operator.");
            Value = value;
        }

        /// <summary>The metadata field.</summary>
        public string Field { get; }

        /// <summary>The comparison.</summary>
        public FilterOperator Operator { get; }

        /// <summary>The value to compare with.</summary>
        public MetadataValue Value { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata)
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

            int? order = MetadataComparison.Compare(actual, Value);
            return order is { } o && Operator switch
            {
                FilterOperator.Equal => o == 0,
                FilterOperator.NotEqual => o != 0,
                FilterOperator.LessThan => o < 0,
                FilterOperator.LessThanOrEqual => o <= 0,
                FilterOperator.GreaterThan => o > 0,
                FilterOperator.GreaterThanOrEqual => o >= 0,
                _ => false,
            };
        }
    }

    /// <summary>The field equals one of the values (for a string list: shares an element).</summary>
    public sealed record InList : MetadataFilter
    {
        /// <summary>Creates the membership test.</summary>
        /// <param name="field">The metadata field.</param>
        /// <param name="values">The accepted values (copied).</param>
        public InList(string field, IReadOnlyList<MetadataValue> values)
            : base(1)
        {
            Field = field ?? throw new ArgumentNullException(nameof(field));
            Values = [.. values ?? throw new ArgumentNullException(nameof(values))];
        }

        /// <summary>The metadata field.</summary>
        public string Field { get; }

        /// <summary>The accepted values.</summary>
        public IReadOnlyList<MetadataValue> Values { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata)
        {
            foreach (MetadataValue value in Values)
            {
                if (new Comparison(Field, FilterOperator.Equal, value).Matches(id, metadata))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Every operand holds (evaluated left to right, stopping at the first that does not).</summary>
    public sealed record AndFilter : MetadataFilter
    {
        /// <summary>Creates the conjunction; prefer <see cref="MetadataFilter.And(IReadOnlyList{MetadataFilter})"/>, which flattens.</summary>
        /// <param name="operands">At least one filter (copied).</param>
        /// <exception cref="ArgumentException">The result would nest deeper than <see cref="MaxDepth"/>.</exception>
        public AndFilter(IReadOnlyList<MetadataFilter> operands)
            : this(Checked(operands))
        {
        }

        private AndFilter(MetadataFilter[] operands)
            : base(DepthOf(operands)) => Operands = operands;

        /// <summary>The filters that must all hold.</summary>
        public IReadOnlyList<MetadataFilter> Operands { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata)
        {
            foreach (MetadataFilter operand in Operands)
            {
                if (!operand.Matches(id, metadata))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Some operand holds (evaluated left to right, stopping at the first that does).</summary>
    public sealed record OrFilter : MetadataFilter
    {
        /// <summary>Creates the disjunction; prefer <see cref="MetadataFilter.Or(IReadOnlyList{MetadataFilter})"/>, which flattens.</summary>
        /// <param name="operands">At least one filter (copied).</param>
        /// <exception cref="ArgumentException">The result would nest deeper than <see cref="MaxDepth"/>.</exception>
        public OrFilter(IReadOnlyList<MetadataFilter> operands)
            : this(Checked(operands))
        {
        }

        private OrFilter(MetadataFilter[] operands)
            : base(DepthOf(operands)) => Operands = operands;

        /// <summary>The filters of which one must hold.</summary>
        public IReadOnlyList<MetadataFilter> Operands { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata)
        {
            foreach (MetadataFilter operand in Operands)
            {
                if (operand.Matches(id, metadata))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>The filter does not hold.</summary>
    public sealed record NotFilter : MetadataFilter
    {
        /// <summary>Creates the negation.</summary>
        /// <param name="inner">The negated filter.</param>
        /// <exception cref="ArgumentException">The result would nest deeper than <see cref="MaxDepth"/>.</exception>
        public NotFilter(MetadataFilter inner)
            : base((inner ?? throw new ArgumentNullException(nameof(inner))).Depth + 1) => Inner = inner;

        /// <summary>The negated filter.</summary>
        public MetadataFilter Inner { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata) => !Inner.Matches(id, metadata);
    }

    private static MetadataFilter[] Checked(IReadOnlyList<MetadataFilter> operands)
    {
        ArgumentNullException.ThrowIfNull(operands);
        if (operands.Count == 0)
        {
            throw new ArgumentException("A conjunction or disjunction needs at least one operand.", nameof(operands));
        }

        MetadataFilter[] copy = [.. operands];
        if (Array.IndexOf(copy, null) >= 0)
        {
            throw new ArgumentNullException(nameof(operands), "An operand is null.");
        }

        return copy;
    }
}

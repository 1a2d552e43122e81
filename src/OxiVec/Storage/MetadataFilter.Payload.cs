namespace OxiVec.Storage;

/// <summary>
/// Conditions with the semantics of Qdrant's payload filters, on <see cref="FieldPath"/>s into nested metadata.
/// </summary>
/// <remarks>
/// A path yields the values found along it (none when a field is missing; several through <c>[]</c>). A
/// <see cref="MatchFilter"/>, <see cref="ExceptFilter"/> or <see cref="RangeFilter"/> holds when some value does,
/// and a list value when some item does; no value at all makes them false (so <c>Not</c> of one is true on a missing
/// field). <see cref="ExceptFilter"/> is false on null and on no value, as in Qdrant's condition checker.
/// </remarks>
public abstract partial record MetadataFilter
{
    /// <summary>A filter no record satisfies (Qdrant's empty <c>should</c>).</summary>
    public static MetadataFilter Never { get; } = new ConstantFilter(false);

    /// <summary>A filter every record satisfies.</summary>
    public static MetadataFilter Always { get; } = new ConstantFilter(true);

    /// <summary>
    /// Some value at <paramref name="path"/> (or item of a list there) equals one of <paramref name="values"/>, of
    /// the same kind: a string, long or bool (Qdrant's <c>match.value</c> and <c>match.any</c>; a double never matches).
    /// </summary>
    /// <exception cref="FormatException"><paramref name="path"/> is not a path.</exception>
    public static MetadataFilter MatchAny(string path, params IReadOnlyList<MetadataValue> values) => new MatchFilter(FieldPath.Parse(path), values);

    /// <summary>Some value at <paramref name="path"/> (or item of a list there) is not null and equals none of <paramref name="values"/> (Qdrant's <c>match.except</c>).</summary>
    /// <exception cref="FormatException"><paramref name="path"/> is not a path.</exception>
    public static MetadataFilter MatchExcept(string path, params IReadOnlyList<MetadataValue> values) => new ExceptFilter(FieldPath.Parse(path), values);

    /// <summary>Some number at <paramref name="path"/> (or in a list there) is within the bounds given (null: no bound).</summary>
    /// <exception cref="FormatException"><paramref name="path"/> is not a path.</exception>
    /// <exception cref="ArgumentException">A bound is NaN.</exception>
    public static MetadataFilter Range(string path, double? gt = null, double? gte = null, double? lt = null, double? lte = null) =>
        new RangeFilter(FieldPath.Parse(path), gt, gte, lt, lte);

    /// <summary>
    /// The number of values at <paramref name="path"/> is within the bounds (Qdrant's <c>values_count</c>): no value
    /// counts 0; otherwise some value's count is: a list its items, null 0, anything else 1.
    /// </summary>
    /// <exception cref="FormatException"><paramref name="path"/> is not a path.</exception>
    public static MetadataFilter ValuesCount(string path, long? gt = null, long? gte = null, long? lt = null, long? lte = null) =>
        new ValuesCountFilter(FieldPath.Parse(path), gt, gte, lt, lte);

    /// <summary>Every value at <paramref name="path"/> is null or an empty list, or there is none (Qdrant's <c>is_empty</c>).</summary>
    /// <exception cref="FormatException"><paramref name="path"/> is not a path.</exception>
    public static MetadataFilter IsEmpty(string path) => new IsEmptyFilter(FieldPath.Parse(path));

    /// <summary>Some value at <paramref name="path"/> is null (Qdrant's <c>is_null</c>; a list holding null is not null).</summary>
    /// <exception cref="FormatException"><paramref name="path"/> is not a path.</exception>
    public static MetadataFilter IsNull(string path) => new IsNullFilter(FieldPath.Parse(path));

    /// <summary>The record's id is one of <paramref name="ids"/> (Qdrant's <c>has_id</c>); false when evaluated without an id.</summary>
    public static MetadataFilter HasId(IEnumerable<string> ids) => new HasIdFilter(ids);

    /// <summary>At least <paramref name="count"/> of <paramref name="operands"/> hold (Qdrant's <c>min_should</c>).</summary>
    /// <exception cref="ArgumentException">A negative count, or nesting deeper than <see cref="MaxDepth"/>.</exception>
    public static MetadataFilter AtLeast(int count, IReadOnlyList<MetadataFilter> operands) => new AtLeastFilter(count, operands);

    /// <summary>A filter that always gives <see cref="Value"/>.</summary>
    public sealed record ConstantFilter : MetadataFilter
    {
        /// <summary>Creates the constant.</summary>
        public ConstantFilter(bool value)
            : base(1) => Value = value;

        /// <summary>The answer.</summary>
        public bool Value { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata) => Value;
    }

    /// <summary>Some value at <see cref="Path"/> equals one of <see cref="Values"/> (see <see cref="MatchAny"/>).</summary>
    public sealed record MatchFilter : MetadataFilter
    {
        private readonly Func<MetadataValue, bool> _test;
        private readonly HashSet<MetadataValue>? _set;

        /// <summary>Creates the condition.</summary>
        public MatchFilter(FieldPath path, IReadOnlyList<MetadataValue> values)
            : base(1)
        {
            Path = path ?? throw new ArgumentNullException(nameof(path));
            Values = [.. values ?? throw new ArgumentNullException(nameof(values))];
            _set = Values.Count > 8 ? [.. Values] : null;
            _test = v => v.Kind is MetadataKind.List or MetadataKind.StringList ? AnyItem(v, Accepts) : Accepts(v);
        }

        /// <summary>The path.</summary>
        public FieldPath Path { get; }

        /// <summary>The accepted values.</summary>
        public IReadOnlyList<MetadataValue> Values { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata) => Path.AnyValue(metadata, _test);

        private bool Accepts(MetadataValue value) => value.Kind is MetadataKind.String or MetadataKind.Long or MetadataKind.Bool
            && (_set?.Contains(value) ?? Contains(Values, value));
    }

    /// <summary>Some value at <see cref="Path"/> is not null and none of <see cref="Values"/> (see <see cref="MatchExcept"/>).</summary>
    public sealed record ExceptFilter : MetadataFilter
    {
        private readonly Func<MetadataValue, bool> _test;
        private readonly HashSet<MetadataValue>? _set;

        /// <summary>Creates the condition.</summary>
        public ExceptFilter(FieldPath path, IReadOnlyList<MetadataValue> values)
            : base(1)
        {
            Path = path ?? throw new ArgumentNullException(nameof(path));
            Values = [.. values ?? throw new ArgumentNullException(nameof(values))];
            _set = Values.Count > 8 ? [.. Values] : null;
            _test = v => v.Kind == MetadataKind.StringList || v.Kind == MetadataKind.List ? AnyItem(v, Outside) : Outside(v);
        }

        /// <summary>The path.</summary>
        public FieldPath Path { get; }

        /// <summary>The refused values.</summary>
        public IReadOnlyList<MetadataValue> Values { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata) => Path.AnyValue(metadata, _test);

        // A list inside a list is not looked into, and counts as outside the values (as in Qdrant).
        private bool Outside(MetadataValue value) => value.Kind switch
        {
            MetadataKind.Null => false,
            MetadataKind.List or MetadataKind.StringList => true,
            _ => !(_set?.Contains(value) ?? Contains(Values, value)),
        };
    }

    /// <summary>Some number at <see cref="Path"/> is within the bounds (see <see cref="Range"/>).</summary>
    public sealed record RangeFilter : MetadataFilter
    {
        private readonly Func<MetadataValue, bool> _test;

        /// <summary>Creates the condition.</summary>
        /// <exception cref="ArgumentException">A bound is NaN.</exception>
        public RangeFilter(FieldPath path, double? gt, double? gte, double? lt, double? lte)
            : base(1)
        {
            Path = path ?? throw new ArgumentNullException(nameof(path));
            if (double.IsNaN(gt ?? 0) || double.IsNaN(gte ?? 0) || double.IsNaN(lt ?? 0) || double.IsNaN(lte ?? 0))
            {
                throw new ArgumentException("A range bound cannot be NaN.");
            }

            (Gt, Gte, Lt, Lte) = (gt, gte, lt, lte);
            _test = v => v.Kind is MetadataKind.List ? AnyItem(v, InRange) : InRange(v);
        }

        /// <summary>The path.</summary>
        public FieldPath Path { get; }

        /// <summary>Greater than.</summary>
        public double? Gt { get; }

        /// <summary>Greater than or equal.</summary>
        public double? Gte { get; }

        /// <summary>Less than.</summary>
        public double? Lt { get; }

        /// <summary>Less than or equal.</summary>
        public double? Lte { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata) => Path.AnyValue(metadata, _test);

        private bool InRange(MetadataValue value)
        {
            if (!value.IsNumber)
            {
                return false;
            }

            return (Gt is not { } gt || Order(value, gt) > 0)
                && (Gte is not { } gte || Order(value, gte) >= 0)
                && (Lt is not { } lt || Order(value, lt) < 0)
                && (Lte is not { } lte || Order(value, lte) <= 0);
        }

        private static int Order(MetadataValue value, double bound) => value.Kind == MetadataKind.Long
            ? MetadataComparison.CompareExactly(value.AsLong, bound)
            : value.AsDouble.CompareTo(bound);
    }

    /// <summary>The number of values at <see cref="Path"/> is within the bounds (see <see cref="ValuesCount"/>).</summary>
    public sealed record ValuesCountFilter : MetadataFilter
    {
        private static readonly Func<MetadataValue, bool> Exists = _ => true;
        private readonly Func<MetadataValue, bool> _test;

        /// <summary>Creates the condition.</summary>
        public ValuesCountFilter(FieldPath path, long? gt, long? gte, long? lt, long? lte)
            : base(1)
        {
            Path = path ?? throw new ArgumentNullException(nameof(path));
            (Gt, Gte, Lt, Lte) = (gt, gte, lt, lte);
            _test = v => InRange(v.Kind switch
            {
                MetadataKind.Null => 0,
                MetadataKind.List or MetadataKind.StringList => v.ItemCount,
                _ => 1,
            });
        }

        /// <summary>The path.</summary>
        public FieldPath Path { get; }

        /// <summary>Greater than.</summary>
        public long? Gt { get; }

        /// <summary>Greater than or equal.</summary>
        public long? Gte { get; }

        /// <summary>Less than.</summary>
        public long? Lt { get; }

        /// <summary>Less than or equal.</summary>
        public long? Lte { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata)
            => Path.AnyValue(metadata, _test) || (!Path.AnyValue(metadata, Exists) && InRange(0));

        private bool InRange(long count) =>
            (Gt is not { } gt || count > gt) && (Gte is not { } gte || count >= gte) && (Lt is not { } lt || count < lt) && (Lte is not { } lte || count <= lte);
    }

    /// <summary>Every value at <see cref="Path"/> is null or an empty list, or there is none.</summary>
    public sealed record IsEmptyFilter : MetadataFilter
    {
        private static readonly Func<MetadataValue, bool> NotEmpty = v => !v.IsNull && !(v.Kind is MetadataKind.List or MetadataKind.StringList && v.ItemCount == 0);

        /// <summary>Creates the condition.</summary>
        public IsEmptyFilter(FieldPath path)
            : base(1) => Path = path ?? throw new ArgumentNullException(nameof(path));

        /// <summary>The path.</summary>
        public FieldPath Path { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata) => !Path.AnyValue(metadata, NotEmpty);
    }

    /// <summary>Some value at <see cref="Path"/> is null.</summary>
    public sealed record IsNullFilter : MetadataFilter
    {
        private static readonly Func<MetadataValue, bool> Null = v => v.IsNull;

        /// <summary>Creates the condition.</summary>
        public IsNullFilter(FieldPath path)
            : base(1) => Path = path ?? throw new ArgumentNullException(nameof(path));

        /// <summary>The path.</summary>
        public FieldPath Path { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata) => Path.AnyValue(metadata, Null);
    }

    /// <summary>The record's id is one of <see cref="Ids"/>.</summary>
    public sealed record HasIdFilter : MetadataFilter
    {
        private readonly HashSet<string> _ids;

        /// <summary>Creates the condition.</summary>
        public HasIdFilter(IEnumerable<string> ids)
            : base(1) => _ids = new HashSet<string>(ids ?? throw new ArgumentNullException(nameof(ids)), StringComparer.Ordinal);

        /// <summary>The ids.</summary>
        public IReadOnlyCollection<string> Ids => _ids;

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata) => id is not null && _ids.Contains(id);
    }

    /// <summary>At least <see cref="Count"/> of <see cref="Operands"/> hold (evaluated until that many do).</summary>
    public sealed record AtLeastFilter : MetadataFilter
    {
        /// <summary>Creates the condition.</summary>
        /// <exception cref="ArgumentException">A negative count, or nesting deeper than <see cref="MaxDepth"/>.</exception>
        public AtLeastFilter(int count, IReadOnlyList<MetadataFilter> operands)
            : base(operands is null || operands.Count == 0 ? 1 : DepthOf(operands))
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            ArgumentNullException.ThrowIfNull(operands);
            Count = count;
            Operands = operands.Count == 0 ? [] : Checked(operands);
        }

        /// <summary>How many must hold.</summary>
        public int Count { get; }

        /// <summary>The conditions.</summary>
        public IReadOnlyList<MetadataFilter> Operands { get; }

        /// <inheritdoc/>
        public override bool Matches(string? id, IReadOnlyDictionary<string, MetadataValue> metadata)
        {
            int held = 0;
            for (int i = 0; i < Operands.Count && held < Count; i++)
            {
                if (Operands[i].Matches(id, metadata))
                {
                    held++;
                }
            }

            return held >= Count;
        }
    }

    private static bool AnyItem(MetadataValue list, Func<MetadataValue, bool> test)
    {
        int count = list.ItemCount;
        for (int i = 0; i < count; i++)
        {
            if (test(list.ItemAt(i)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Contains(IReadOnlyList<MetadataValue> values, MetadataValue value)
    {
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i].Equals(value))
            {
                return true;
            }
        }

        return false;
    }
}

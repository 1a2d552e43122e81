using System.Globalization;

namespace OxiVec.Storage;

/// <summary>The type of a <see cref="MetadataValue"/>.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The kinds are named after the value types they hold.")]
public enum MetadataKind : byte
{
    /// <summary>A UTF-8 string.</summary>
    String = 1,

    /// <summary>A 64-bit signed integer.</summary>
    Long = 2,

    /// <summary>A 64-bit float (not NaN).</summary>
    Double = 3,

    /// <summary>A boolean.</summary>
    Bool = 4,

    /// <summary>A list of strings (also the empty list).</summary>
    StringList = 5,

    /// <summary>JSON's null: a field that is present with no value.</summary>
    Null = 6,

    /// <summary>A list of values that are not all strings (numbers, booleans, nulls, lists, objects, mixed).</summary>
    List = 7,

    /// <summary>An object: named values, in the order they were given.</summary>
    Object = 8,
}

/// <summary>
/// One typed, immutable metadata value: a string, long, double, bool, list of strings, null, list of any values or
/// object, so any JSON value has one (a list whose items are all strings, the empty list included, is always a
/// <see cref="MetadataKind.StringList"/>). Longs and doubles compare with each other numerically in filters. Lists
/// and objects nest at most <see cref="MaxNesting"/> levels.
/// </summary>
public readonly struct MetadataValue : IEquatable<MetadataValue>
{
    /// <summary>The deepest nesting of lists and objects in one value (64): a list of scalars is 1 level deep.</summary>
    public const int MaxNesting = 64;

    private readonly object? _reference;
    private readonly long _bits; // the value of a long, double or bool; the nesting depth of a list or object

    private MetadataValue(MetadataKind kind, object? reference, long bits)
    {
        Kind = kind;
        _reference = reference;
        _bits = bits;
    }

    /// <summary>The value's type.</summary>
    public MetadataKind Kind { get; }

    /// <summary>The string; throws when <see cref="Kind"/> is not <see cref="MetadataKind.String"/>.</summary>
    public string AsString => Kind == MetadataKind.String ? (string)_reference! : throw WrongKind(MetadataKind.String);

    /// <summary>The integer; throws when <see cref="Kind"/> is not <see cref="MetadataKind.Long"/>.</summary>
    public long AsLong => Kind == MetadataKind.Long ? _bits : throw WrongKind(MetadataKind.Long);

    /// <summary>The float; throws when <see cref="Kind"/> is not <see cref="MetadataKind.Double"/>.</summary>
    public double AsDouble => Kind == MetadataKind.Double ? BitConverter.Int64BitsToDouble(_bits) : throw WrongKind(MetadataKind.Double);

    /// <summary>The boolean; throws when <see cref="Kind"/> is not <see cref="MetadataKind.Bool"/>.</summary>
    public bool AsBool => Kind == MetadataKind.Bool ? _bits != 0 : throw WrongKind(MetadataKind.Bool);

    /// <summary>The strings; throws when <see cref="Kind"/> is not <see cref="MetadataKind.StringList"/>.</summary>
    public IReadOnlyList<string> AsStringList => Kind == MetadataKind.StringList ? (string[])_reference! : throw WrongKind(MetadataKind.StringList);

    /// <summary>The items of a <see cref="MetadataKind.List"/>; throws for any other kind (a string list: <see cref="AsStringList"/>).</summary>
    public IReadOnlyList<MetadataValue> AsList => Kind == MetadataKind.List ? (MetadataValue[])_reference! : throw WrongKind(MetadataKind.List);

    /// <summary>The fields of an <see cref="MetadataKind.Object"/>, in the order they were given; throws for any other kind.</summary>
    public IReadOnlyList<KeyValuePair<string, MetadataValue>> AsObject => Kind == MetadataKind.Object ? ((MetadataObject)_reference!).Fields() : throw WrongKind(MetadataKind.Object);

    /// <summary>True for <see cref="MetadataKind.Null"/>.</summary>
    public bool IsNull => Kind == MetadataKind.Null;

    /// <summary>Levels of list and object nesting: 0 for a scalar, 1 for a string list or a list of scalars.</summary>
    internal int Nesting => Kind switch
    {
        MetadataKind.List or MetadataKind.Object => (int)_bits,
        MetadataKind.StringList => 1,
        _ => 0,
    };

    /// <summary>The number of items of a list or string list (0 for other kinds).</summary>
    internal int ItemCount => Kind switch
    {
        MetadataKind.List => ((MetadataValue[])_reference!).Length,
        MetadataKind.StringList => ((string[])_reference!).Length,
        _ => 0,
    };

    /// <summary>Item <paramref name="index"/> of a list or string list.</summary>
    internal MetadataValue ItemAt(int index) => Kind == MetadataKind.List
        ? ((MetadataValue[])_reference!)[index]
        : From(((string[])_reference!)[index]);

    /// <summary>The field <paramref name="name"/> of an object; false for a missing field or another kind.</summary>
    public bool TryGetField(string name, out MetadataValue value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Kind == MetadataKind.Object)
        {
            return ((MetadataObject)_reference!).TryGet(name, out value);
        }

        value = default;
        return false;
    }

    /// <summary>True for longs and doubles.</summary>
    public bool IsNumber => Kind is MetadataKind.Long or MetadataKind.Double;

    /// <summary>The numeric value of a long or double.</summary>
    public double AsNumber => Kind switch
    {
        MetadataKind.Long => _bits,
        MetadataKind.Double => BitConverter.Int64BitsToDouble(_bits),
        _ => throw WrongKind(MetadataKind.Double),
    };

    /// <summary>A string value.</summary>
    public static MetadataValue From(string value) => new(MetadataKind.String, value ?? throw new ArgumentNullException(nameof(value)), 0);

    /// <summary>An integer value.</summary>
    public static MetadataValue From(long value) => new(MetadataKind.Long, null, value);

    /// <summary>A float value; NaN is refused (it would never match a filter).</summary>
    public static MetadataValue From(double value) => double.IsNaN(value)
        ? throw new ArgumentException("Metadata values cannot be NaN.", nameof(value))
        : new(MetadataKind.Double, null, BitConverter.DoubleToInt64Bits(value));

    /// <summary>A boolean value.</summary>
    public static MetadataValue From(bool value) => new(MetadataKind.Bool, null, value ? 1 : 0);

    /// <summary>A list of strings (copied).</summary>
    public static MetadataValue From(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        string[] copy = [.. values];
        if (Array.IndexOf(copy, null) >= 0)
        {
            throw new ArgumentException("A metadata string list cannot contain null.", nameof(values));
        }

        return new(MetadataKind.StringList, copy, 0);
    }

    /// <summary>JSON's null.</summary>
    public static MetadataValue Null { get; } = new(MetadataKind.Null, null, 0);

    /// <summary>
    /// A list of any values (copied): a <see cref="MetadataKind.StringList"/> when every item is a string (or there
    /// is none), a <see cref="MetadataKind.List"/> otherwise.
    /// </summary>
    /// <exception cref="ArgumentException">An item is the default (kindless) value, or the list would nest deeper than <see cref="MaxNesting"/>.</exception>
    public static MetadataValue FromList(IEnumerable<MetadataValue> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        MetadataValue[] copy = [.. items];
        bool allStrings = true;
        int deepest = 0;
        foreach (MetadataValue item in copy)
        {
            CheckItem(item, nameof(items));
            allStrings &= item.Kind == MetadataKind.String;
            deepest = Math.Max(deepest, item.Nesting);
        }

        return allStrings ? From(copy.Select(i => i.AsString)) : new(MetadataKind.List, copy, Nested(deepest, nameof(items)));
    }

    /// <summary>An object of the given fields, in their order (copied).</summary>
    /// <exception cref="ArgumentException">A null or repeated name, a kindless value, or nesting deeper than <see cref="MaxNesting"/>.</exception>
    public static MetadataValue FromObject(IEnumerable<KeyValuePair<string, MetadataValue>> fields)
    {
        var value = new MetadataObject(fields);
        int deepest = 0;
        for (int i = 0; i < value.Count; i++)
        {
            CheckItem(value.ValueAt(i), nameof(fields));
            deepest = Math.Max(deepest, value.ValueAt(i).Nesting);
        }

        return new(MetadataKind.Object, value, Nested(deepest, nameof(fields)));
    }

    /// <summary>Converts a string.</summary>
    public static implicit operator MetadataValue(string value) => From(value);

    /// <summary>Converts an integer.</summary>
    public static implicit operator MetadataValue(long value) => From(value);

    /// <summary>Converts a float.</summary>
    public static implicit operator MetadataValue(double value) => From(value);

    /// <summary>Converts a boolean.</summary>
    public static implicit operator MetadataValue(bool value) => From(value);

    /// <summary>Converts a string array.</summary>
    public static implicit operator MetadataValue(string[] values) => From(values);

    /// <summary>Equality of kind and value (lists element by element).</summary>
    public static bool operator ==(MetadataValue left, MetadataValue right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(MetadataValue left, MetadataValue right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(MetadataValue other) => Kind == other.Kind && Kind switch
    {
        MetadataKind.String => string.Equals((string)_reference!, (string)other._reference!, StringComparison.Ordinal),
        MetadataKind.StringList => ((string[])_reference!).AsSpan().SequenceEqual((string[])other._reference!),
        MetadataKind.List => ((MetadataValue[])_reference!).AsSpan().SequenceEqual((MetadataValue[])other._reference!),
        MetadataKind.Object => ((MetadataObject)_reference!).SameAs((MetadataObject)other._reference!),
        _ => _bits == other._bits,
    };

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MetadataValue other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Kind switch
    {
        MetadataKind.String => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode((string)_reference!)),
        MetadataKind.StringList => HashCode.Combine(Kind, ((string[])_reference!).Length),
        MetadataKind.List => HashCode.Combine(Kind, ((MetadataValue[])_reference!).Length),
        MetadataKind.Object => HashCode.Combine(Kind, ((MetadataObject)_reference!).Count),
        _ => HashCode.Combine(Kind, _bits),
    };

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        MetadataKind.String => AsString,
        MetadataKind.Long => AsLong.ToString(CultureInfo.InvariantCulture),
        MetadataKind.Double => AsDouble.ToString("R", CultureInfo.InvariantCulture),
        MetadataKind.Bool => AsBool ? "true" : "false",
        MetadataKind.StringList => "[" + string.Join(", ", AsStringList) + "]",
        MetadataKind.Null => "null",
        MetadataKind.List => "[" + string.Join(", ", AsList) + "]",
        MetadataKind.Object => "{" + string.Join(", ", AsObject.Select(f => $"{f.Key}: {f.Value}")) + "}",
        _ => "?",
    };

    private static void CheckItem(MetadataValue item, string parameter)
    {
        if (item.Kind == 0)
        {
            throw new ArgumentException("A metadata list or object cannot hold a default (kindless) MetadataValue.", parameter);
        }
    }

    private static long Nested(int deepestItem, string parameter) => deepestItem + 1 <= MaxNesting
        ? deepestItem + 1
        : throw new ArgumentException($"The metadata value nests {deepestItem + 1} levels of lists and objects; at most {MaxNesting} are allowed (MetadataValue.MaxNesting).", parameter);

    private InvalidOperationException WrongKind(MetadataKind wanted) => new($"The metadata value is a {Kind}, not a {wanted}.");
}

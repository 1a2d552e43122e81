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

    /// <summary>A list of strings.</summary>
    StringList = 5,
}

/// <summary>
/// One typed metadata value: a string, long, double, bool or list of strings. Longs and doubles compare with each
/// other numerically in filters.
/// </summary>
public readonly struct MetadataValue : IEquatable<MetadataValue>
{
    private readonly object? _reference;
    private readonly long _bits;

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
        _ => _bits == other._bits,
    };

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MetadataValue other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Kind switch
    {
        MetadataKind.String => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode((string)_reference!)),
        MetadataKind.StringList => HashCode.Combine(Kind, ((string[])_reference!).Length),
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
        _ => "?",
    };

    private InvalidOperationException WrongKind(MetadataKind wanted) => new($"The metadata value is a {Kind}, not a {wanted}.");
}

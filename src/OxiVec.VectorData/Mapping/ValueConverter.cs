using System.Collections;
using System.Globalization;
using OxiVec.Storage;

namespace OxiVec.VectorData.Mapping;

/// <summary>
/// Converts data property values to <see cref="MetadataValue"/>s and back, keeping equality exact and ranges
/// ordered: string, bool, Guid (a string in "D" form) as themselves; int and long as longs; float and double as
/// doubles (NaN refused); decimal as a double when that double converts back to the same decimal, refused otherwise;
/// DateTime and DateTimeOffset as their UTC instant in the fixed-width sortable form
/// <c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c> (a local DateTime is converted to UTC, an unspecified one is taken as UTC; both
/// read back as UTC, a DateTimeOffset with offset zero), so ordinal order is time order, equality is exact to the
/// tick, and both back ends compare them exactly (the remote one through the server's ordinal string range; as
/// longs, ticks beyond 2^53 would meet its double range bounds). Arrays and lists of these become lists; null becomes
/// <see cref="MetadataValue.Null"/>.
/// </summary>
internal static class ValueConverter
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public const string SupportedTypes =
        "string, bool, int, long, float, double, decimal, DateTime, DateTimeOffset, Guid, their nullable forms, and arrays or List<T> of them";

    /// <summary>True for a supported scalar, nullable scalar, array or <see cref="List{T}"/> of them.</summary>
    public static bool IsSupported(Type type) => IsScalar(type) || (ElementType(type) is { } element && IsScalar(element));

    /// <summary>The element type of an array or <see cref="List{T}"/>, or null for other types.</summary>
    public static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GenericTypeArguments[0]
        : null;

    /// <summary>True for the scalar types (and their nullable forms).</summary>
    public static bool IsScalar(Type type)
    {
        Type t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(string) || t == typeof(bool) || t == typeof(int) || t == typeof(long) || t == typeof(float)
            || t == typeof(double) || t == typeof(decimal) || t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(Guid);
    }

    /// <summary>The stored form of <paramref name="value"/> (of the property type <paramref name="type"/>).</summary>
    /// <exception cref="ArgumentException">A value OxiVec cannot hold exactly (NaN, a decimal without an exact double).</exception>
    public static MetadataValue ToStorage(object? value, Type type)
    {
        if (value is null)
        {
            return MetadataValue.Null;
        }

        if (ElementType(type) is { } element)
        {
            var items = new List<MetadataValue>();
            foreach (object? item in (IEnumerable)value)
            {
                items.Add(ToStorage(item, element));
            }

            return MetadataValue.FromList(items);
        }

        return ScalarToStorage(value);
    }

    /// <summary>The stored form of one scalar value.</summary>
    public static MetadataValue ScalarToStorage(object value) => value switch
    {
        string s => MetadataValue.From(s),
        bool b => MetadataValue.From(b),
        int i => MetadataValue.From(i),
        long l => MetadataValue.From(l),
        float f => MetadataValue.From((double)f),
        double d => MetadataValue.From(d),
        decimal m => MetadataValue.From(DecimalToDouble(m)),
        DateTime t => MetadataValue.From(FormatTime(t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t)),
        DateTimeOffset o => MetadataValue.From(FormatTime(o.UtcDateTime)),
        Guid g => MetadataValue.From(g.ToString("D")),
        _ => throw new NotSupportedException($"OxiVec does not store values of type '{value.GetType().Name}'; data properties are: {SupportedTypes}."),
    };

    /// <summary>The property value of type <paramref name="type"/> stored as <paramref name="value"/>.</summary>
    /// <exception cref="InvalidOperationException">The stored value does not fit the type.</exception>
    public static object? FromStorage(MetadataValue value, Type type)
    {
        if (value.IsNull)
        {
            return type.IsValueType && Nullable.GetUnderlyingType(type) is null
                ? throw new InvalidOperationException($"A null is stored for a property of the non-nullable type '{type.Name}'.")
                : null;
        }

        if (ElementType(type) is { } element)
        {
            int count = value.Kind == MetadataKind.StringList ? value.AsStringList.Count
                : value.Kind == MetadataKind.List ? value.AsList.Count
                : throw new InvalidOperationException($"A {value.Kind} is stored for the list type '{type.Name}'.");
            var array = Array.CreateInstance(element, count);
            for (int i = 0; i < count; i++)
            {
                MetadataValue item = value.Kind == MetadataKind.StringList ? MetadataValue.From(value.AsStringList[i]) : value.AsList[i];
                array.SetValue(FromStorage(item, element), i);
            }

            if (type.IsArray)
            {
                return array;
            }

            var list = (IList)Activator.CreateInstance(type, count)!;
            foreach (object? item in array)
            {
                list.Add(item);
            }

            return list;
        }

        Type t = Nullable.GetUnderlyingType(type) ?? type;
        try
        {
            // Each arm is boxed on its own: a conditional chain would widen an int to the long of a later arm.
            object result;
            if (t == typeof(string)) result = value.AsString;
            else if (t == typeof(bool)) result = value.AsBool;
            else if (t == typeof(int)) result = checked((int)value.AsLong);
            else if (t == typeof(long)) result = value.AsLong;
            else if (t == typeof(float)) result = (float)value.AsNumber;
            else if (t == typeof(double)) result = value.AsNumber;
            else if (t == typeof(decimal)) result = (decimal)value.AsNumber;
            else if (t == typeof(DateTime)) result = ParseTime(value.AsString);
            else if (t == typeof(DateTimeOffset)) result = new DateTimeOffset(ParseTime(value.AsString));
            else if (t == typeof(Guid)) result = Guid.ParseExact(value.AsString, "D");
            else throw new NotSupportedException($"OxiVec does not store values of type '{type.Name}'.");
            return result;
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            throw new InvalidOperationException($"The stored value {value} does not convert to '{type.Name}'.", ex);
        }
    }

    private static double DecimalToDouble(decimal value)
    {
        double d = (double)value;
        return (decimal)d == value
            ? d
            : throw new ArgumentException(
                $"The decimal {value.ToString(CultureInfo.InvariantCulture)} has no exact double; OxiVec stores decimals as doubles and refuses values it would change.");
    }

    private static string FormatTime(DateTime utc) => utc.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private static DateTime ParseTime(string text) =>
        DateTime.SpecifyKind(DateTime.ParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.None), DateTimeKind.Utc);
}

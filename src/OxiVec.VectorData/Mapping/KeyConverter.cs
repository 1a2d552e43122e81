using System.Globalization;

namespace OxiVec.VectorData.Mapping;

/// <summary>Record keys as OxiVec ids: a string as itself, a Guid in "D" form, an int or long in invariant decimal.</summary>
internal static class KeyConverter
{
    /// <summary>The id of <paramref name="key"/>, a key of type <paramref name="keyType"/>.</summary>
    /// <exception cref="ArgumentException">A null key or one of another type.</exception>
    public static string ToId(object? key, Type keyType) => key switch
    {
        null => throw new ArgumentNullException(nameof(key), "A record key cannot be null."),
        string s when keyType == typeof(string) => s,
        Guid g when keyType == typeof(Guid) => g.ToString("D"),
        int i when keyType == typeof(int) => i.ToString(CultureInfo.InvariantCulture),
        long l when keyType == typeof(long) => l.ToString(CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"The key {key} is a '{key.GetType().Name}'; this collection's keys are '{keyType.Name}'.", nameof(key)),
    };

    /// <summary>The key of type <paramref name="keyType"/> whose id is <paramref name="id"/>.</summary>
    public static object FromId(string id, Type keyType) =>
        // Each arm is boxed on its own: a conditional chain would widen an int to the long of the next arm.
        keyType == typeof(string) ? id
        : keyType == typeof(Guid) ? (object)Guid.ParseExact(id, "D")
        : keyType == typeof(int) ? (object)int.Parse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
        : keyType == typeof(long) ? (object)long.Parse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
        : throw new NotSupportedException($"Key type '{keyType.Name}' is not supported.");
}

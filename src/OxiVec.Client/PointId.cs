using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OxiVec.Client;

/// <summary>
/// A point id as the server (and Qdrant) accepts it: an unsigned 64-bit integer or a UUID. Written to JSON as a
/// number or as a string in the hyphenated form (<c>"D"</c>); the server returns each id in the form it was given.
/// </summary>
[JsonConverter(typeof(PointIdJsonConverter))]
public readonly struct PointId : IEquatable<PointId>
{
    private readonly ulong _number;
    private readonly Guid _uuid;

    /// <summary>An integer id.</summary>
    public PointId(ulong number)
    {
        _number = number;
        _uuid = Guid.Empty;
        IsUuid = false;
    }

    /// <summary>A UUID id.</summary>
    public PointId(Guid uuid)
    {
        _number = 0;
        _uuid = uuid;
        IsUuid = true;
    }

    /// <summary>True for a UUID id, false for an integer id.</summary>
    public bool IsUuid { get; }

    /// <summary>The integer id.</summary>
    /// <exception cref="InvalidOperationException">The id is a UUID.</exception>
    public ulong Number => IsUuid ? throw new InvalidOperationException($"The point id {this} is a UUID, not an integer.") : _number;

    /// <summary>The UUID id.</summary>
    /// <exception cref="InvalidOperationException">The id is an integer.</exception>
    public Guid Uuid => IsUuid ? _uuid : throw new InvalidOperationException($"The point id {this} is an integer, not a UUID.");

    /// <summary>An integer id.</summary>
    public static implicit operator PointId(ulong number) => new(number);

    /// <summary>A UUID id.</summary>
    public static implicit operator PointId(Guid uuid) => new(uuid);

    /// <summary>An integer id.</summary>
    public static PointId FromUInt64(ulong number) => new(number);

    /// <summary>A UUID id.</summary>
    public static PointId FromGuid(Guid uuid) => new(uuid);

    /// <summary>Parses a decimal unsigned integer or a UUID.</summary>
    /// <exception cref="FormatException"><paramref name="text"/> is neither.</exception>
    public static PointId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number))
        {
            return new PointId(number);
        }

        return Guid.TryParse(text, out Guid uuid)
            ? new PointId(uuid)
            : throw new FormatException($"A point id is an unsigned 64-bit integer or a UUID; got '{text}'.");
    }

    /// <summary>The id as text: the decimal integer, or the UUID in its hyphenated lower-case form.</summary>
    public override string ToString() => IsUuid ? _uuid.ToString("D") : _number.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public bool Equals(PointId other) => IsUuid == other.IsUuid && _number == other._number && _uuid == other._uuid;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PointId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => IsUuid ? _uuid.GetHashCode() : _number.GetHashCode();

    /// <summary>Equality.</summary>
    public static bool operator ==(PointId left, PointId right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(PointId left, PointId right) => !left.Equals(right);

    internal void Write(Utf8JsonWriter writer)
    {
        if (IsUuid)
        {
            writer.WriteStringValue(_uuid.ToString("D"));
        }
        else
        {
            writer.WriteNumberValue(_number);
        }
    }

    internal static PointId Read(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number when element.TryGetUInt64(out ulong number) => new PointId(number),
        JsonValueKind.String => Parse(element.GetString()!),
        _ => throw new JsonException($"A point id is an unsigned integer or a UUID string; got {element.ValueKind}."),
    };
}

/// <summary>Reads and writes a <see cref="PointId"/> as the server does: a number or a UUID string.</summary>
public sealed class PointIdJsonConverter : JsonConverter<PointId>
{
    /// <inheritdoc />
    public override PointId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using JsonDocument document = JsonDocument.ParseValue(ref reader);
        return PointId.Read(document.RootElement);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, PointId value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        value.Write(writer);
    }
}

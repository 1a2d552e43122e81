using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using OxiVec.Client;
using OxiVec.Storage;

namespace OxiVec.VectorData.Remote;

/// <summary>
/// OxiVec ids (any string: the provider's string, Guid, int and long keys) as the server's point ids, which are
/// unsigned 64-bit integers or UUIDs (Qdrant's). The mapping is injective and needs no server extension:
/// <list type="bullet">
/// <item>a canonical decimal unsigned integer (<c>42</c>, an int or long key of 0 or more) is that integer;</item>
/// <item>a UUID in lower-case "D" form whose version is not 8 (a Guid key) is that UUID;</item>
/// <item>any other string (a string key, a negative int or long) is a version-8 UUID made of the SHA-256 of the
/// string, and the point carries the string in its payload under <see cref="KeyField"/>.</item>
/// </list>
/// Native ids never have version 8 and hashed ones always do, so two ids share a point only if SHA-256 collides.
/// </summary>
internal static class RemoteIds
{
    /// <summary>The payload field that holds the OxiVec id of a point whose id is hashed. Records may not use it.</summary>
    public const string KeyField = "__oxivec_id";

    /// <summary>The point id of <paramref name="id"/>, and whether it is hashed (the point must carry <see cref="KeyField"/>).</summary>
    public static (PointId Point, bool Hashed) ToPoint(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id); // as the embedded back end: a record id is not empty
        if (RecordIdOrder.IsCanonicalInteger(id, out ulong number))
        {
            return (new PointId(number), false);
        }

        if (id.Length == 36 && Guid.TryParseExact(id, "D", out Guid uuid) && string.Equals(uuid.ToString("D"), id, StringComparison.Ordinal) && uuid.Version != 8)
        {
            return (new PointId(uuid), false);
        }

        return (new PointId(Hash(id)), true);
    }

    /// <summary>The OxiVec id of a point the server returned: <see cref="KeyField"/> when its payload has it, else the id's text.</summary>
    public static string FromPoint(PointId point, string? keyField) =>
        keyField ?? (point.IsUuid ? point.Uuid.ToString("D") : point.Number.ToString(CultureInfo.InvariantCulture));

    /// <summary>A version-8 (RFC 9562 "custom") UUID of the SHA-256 of <paramref name="id"/>'s UTF-8 bytes.</summary>
    private static Guid Hash(string id)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(id), hash);
        Span<byte> bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 9562 variant
        return new Guid(bytes, bigEndian: true);
    }
}

using System.Text;

namespace OxiVec.Storage;

/// <summary>Validation of collection names and record ids, shared by every write.</summary>
internal static class StoreNames
{
    public const int MaxCollectionNameLength = 128;
    public const int MaxIdBytes = 512;

    public static void ValidateCollectionName(string name, string paramName = "collection")
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (name.Length == 0 || name.Length > MaxCollectionNameLength)
        {
            throw new ArgumentException($"A collection name must have 1 to {MaxCollectionNameLength} characters; got {name.Length}.", paramName);
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                throw new ArgumentException($"Collection name '{name}' has '{c}'; use letters, digits, '_', '-' and '.'.", paramName);
            }
        }
    }

    public static void ValidateId(string id, string paramName = "id")
    {
        ArgumentNullException.ThrowIfNull(id, paramName);
        if (id.Length == 0)
        {
            throw new ArgumentException("A record id cannot be empty.", paramName);
        }

        int bytes;
        try
        {
            bytes = Encoding.UTF8.GetByteCount(id);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException("The record id is not valid Unicode.", paramName, ex);
        }

        if (bytes > MaxIdBytes || id.Contains('\u0000', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A record id must be at most {MaxIdBytes} UTF-8 bytes without NUL characters; '{Truncate(id)}' is {bytes}.", paramName);
        }
    }

    private static string Truncate(string id) => id.Length <= 40 ? id : id[..40] + "...";
}

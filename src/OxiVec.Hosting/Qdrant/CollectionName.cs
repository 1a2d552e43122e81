using OxiVec.Hosting.Qdrant.Translation;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Collection names from URL paths, checked before anything touches the database: 1 to 128 of letters, digits,
/// <c>_</c>, <c>-</c> and <c>.</c> (the engine's rule), and never <c>.</c> or <c>..</c>. So a name can never be a path
/// (<c>/</c>, <c>%2F</c>, <c>\</c>, <c>..</c> are all refused with 400).
/// </summary>
internal static class CollectionName
{
    public const int MaxLength = 128;

    /// <summary>Returns <paramref name="name"/> when it is a valid collection name.</summary>
    /// <exception cref="QdrantRequestException">It is not.</exception>
    public static string Check(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength)
        {
            throw new QdrantRequestException("collection_name", $"a collection name has 1 to {MaxLength} characters; got {name?.Length ?? 0}.");
        }

        if (name is "." or "..")
        {
            throw new QdrantRequestException("collection_name", $"'{name}' is not a collection name.");
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                throw new QdrantRequestException(
                    "collection_name", $"collection name '{Printable(name)}' has '{Printable(c.ToString())}'; use letters, digits, '_', '-' and '.'.");
            }
        }

        return name;
    }

    private static string Printable(string text)
    {
        string shown = text.Length <= 64 ? text : text[..64] + "...";
        return string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}

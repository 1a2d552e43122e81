using System.Text;

namespace OxiVec.Transactions;

/// <summary>Validation of global transaction ids: 1 to 200 UTF-8 bytes of printable characters (PostgreSQL's limit is 200 too).</summary>
internal static class PreparedTransactionGid
{
    public const int MaxBytes = 200;

    /// <exception cref="ArgumentException">The gid is empty, too long, not valid Unicode, or holds a control or unassigned character.</exception>
    public static void Validate(string gid, string paramName = "gid")
    {
        ArgumentNullException.ThrowIfNull(gid, paramName);
        if (gid.Length == 0)
        {
            throw new ArgumentException("A transaction gid cannot be empty.", paramName);
        }

        int bytes;
        try
        {
            bytes = new UTF8Encoding(false, throwOnInvalidBytes: true).GetByteCount(gid);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException("The transaction gid is not valid Unicode.", paramName, ex);
        }

        if (bytes > MaxBytes)
        {
            throw new ArgumentException($"A transaction gid must be at most {MaxBytes} UTF-8 bytes; got {bytes}.", paramName);
        }

        for (int i = 0; i < gid.Length; i++)
        {
            char c = gid[i];
            if (char.IsControl(c) || char.IsWhiteSpace(c) && c != ' ' || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.OtherNotAssigned or System.Globalization.UnicodeCategory.Format)
            {
                throw new ArgumentException($"A transaction gid must be printable; character {i} is U+{(int)c:X4}.", paramName);
            }
        }
    }
}

using System.Globalization;

namespace OxiVec.Wal;

/// <summary>
/// Segment file names: <c>{segment id:x16}-{first LSN:x16}.wal</c>, so that an ordinal sort is the log order and
/// a listing shows where each segment starts. Compressed sealed segments end in <c>.walz</c>. Files being prepared
/// carry the suffix <c>.tmp</c> until renamed.
/// </summary>
internal static class WalSegmentName
{
    public const string Suffix = ".wal";
    public const string TempSuffix = ".tmp";

    /// <summary>The start of a spare segment's temporary name (<c>spare-N.tmp</c>): the next segment's file, made in the background.</summary>
    public const string SparePrefix = "spare-";

    /// <summary>True when <paramref name="fileName"/> is a spare segment's temporary name.</summary>
    public static bool IsSpare(string fileName) =>
        fileName.StartsWith(SparePrefix, StringComparison.Ordinal) && fileName.EndsWith(TempSuffix, StringComparison.Ordinal) && !fileName.Contains('/', StringComparison.Ordinal);

    public static string Format(ulong segmentId, long firstLsn) =>
        string.Create(CultureInfo.InvariantCulture, $"{segmentId:x16}-{firstLsn:x16}{Suffix}");

    /// <summary>True when <paramref name="fileName"/> is a compressed sealed segment.</summary>
    public static bool IsCompressed(string fileName) => fileName.EndsWith(WalSegmentCompression.Suffix, StringComparison.Ordinal);

    /// <summary>Parses a segment name, plain (<c>.wal</c>) or compressed (<c>.walz</c>).</summary>
    public static bool TryParse(string fileName, out ulong segmentId, out long firstLsn)
    {
        segmentId = 0;
        firstLsn = 0;
        ReadOnlySpan<char> name = fileName;
        bool plain = name.Length == 16 + 1 + 16 + Suffix.Length && name.EndsWith(Suffix, StringComparison.Ordinal);
        bool compressed = name.Length == 16 + 1 + 16 + WalSegmentCompression.Suffix.Length && name.EndsWith(WalSegmentCompression.Suffix, StringComparison.Ordinal);
        if (!(plain || compressed) || name[16] != '-')
        {
            return false;
        }

        return ulong.TryParse(name[..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out segmentId)
            && long.TryParse(name[17..33], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out firstLsn)
            && firstLsn >= 1;
    }
}

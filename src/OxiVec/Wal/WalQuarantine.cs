using System.Globalization;

namespace OxiVec.Wal;

/// <summary>
/// Keeps the bytes a repair passes over (a torn tail that opening cuts, a damaged range that recovery skips) in
/// <c>quarantine/&lt;segment&gt;.&lt;offset&gt;.broken</c> inside the WAL directory, durably, before anything is
/// changed, so an operator can salvage them (etcd keeps a <c>.broken</c> copy the same way). Nothing in OxiVec
/// deletes quarantined files; readers and listers of the WAL directory never look into the subdirectory.
/// </summary>
internal static class WalQuarantine
{
    /// <summary>The subdirectory of the WAL directory.</summary>
    public const string DirectoryName = "quarantine";

    /// <summary>The suffix of a quarantined file.</summary>
    public const string Suffix = ".broken";

    /// <summary>The name, relative to the WAL directory, of the copy of the bytes at <paramref name="offset"/> of <paramref name="segmentFile"/>.</summary>
    public static string NameFor(string segmentFile, long offset) =>
        string.Create(CultureInfo.InvariantCulture, $"{DirectoryName}/{segmentFile}.{offset}{Suffix}");

    /// <summary>
    /// Keeps the bytes of <paramref name="range"/>, read from its segment (decompressed when it is a <c>.walz</c>): the
    /// whole file when the damage is in its header (offset 0). Returns null when the range holds no bytes to keep
    /// (durable records found missing: zeros or the end of the file).
    /// </summary>
    public static string? Keep(IWalStorage storage, WalSkippedRange range)
    {
        if (range.Bytes <= 0 && range.Offset > 0)
        {
            return null;
        }

        string name = range.SegmentFile;
        if (!WalSegmentName.IsCompressed(name) && !storage.Exists(name))
        {
            name = Path.ChangeExtension(name, WalSegmentCompression.Suffix); // compressed since it was read
        }

        using IWalFile source = WalSegmentName.IsCompressed(name)
            ? WalSegmentCompression.OpenDecompressed(storage, name)
            : storage.Open(name, writable: false);
        return Keep(storage, source, range.SegmentFile, range.Offset, range.Bytes);
    }

    /// <summary>
    /// Copies <paramref name="count"/> bytes at <paramref name="offset"/> of <paramref name="source"/> (to its end when
    /// <paramref name="count"/> is 0 or less) into the quarantine: written as a temporary file, fdatasynced, renamed,
    /// the quarantine directory fsynced (and the WAL directory when the quarantine directory is new). When the copy
    /// exists already (a repair interrupted after copying), it is kept as it is. Returns its name relative to the
    /// WAL directory.
    /// </summary>
    /// <exception cref="IOException">The copy could not be made durable; the caller must not go on with the repair.</exception>
    public static string Keep(IWalStorage storage, IWalFile source, string segmentFile, long offset, long count)
    {
        string name = NameFor(segmentFile, offset);
        storage.CreateSubdirectory(DirectoryName);
        if (storage.Exists(name))
        {
            return name;
        }

        string temp = name + WalSegmentName.TempSuffix;
        if (storage.Exists(temp))
        {
            storage.Delete(temp); // left by a crash mid-copy
        }

        long end = count > 0 ? offset + count : source.Length;
        using (IWalFile copy = storage.Create(temp, 0))
        {
            var buffer = new byte[(int)Math.Clamp(end - offset, 1, 1 << 20)];
            for (long position = offset; position < end;)
            {
                int read = source.Read(position, buffer.AsSpan(0, (int)Math.Min(buffer.Length, end - position)));
                if (read == 0)
                {
                    break;
                }

                copy.Write(position - offset, buffer.AsSpan(0, read));
                position += read;
            }

            copy.Sync();                         // the bytes are on disk before the name says they are
        }

        storage.Rename(temp, name);
        storage.SyncSubdirectory(DirectoryName); // the name survives a power loss
        return name;
    }
}

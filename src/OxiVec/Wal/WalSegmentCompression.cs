using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace OxiVec.Wal;

/// <summary>
/// zstd compression of sealed segments. A compressed segment <c>{id}-{lsn}.walz</c> holds the segment header (with
/// the compressed flag set and its checksum recomputed), the u64 length of the uncompressed body, and one zstd
/// frame (with its content checksum) of the body. Readers decompress it whole in memory and read it as the
/// original segment; the records keep their own checksums.
/// </summary>
internal static class WalSegmentCompression
{
    public const string Suffix = ".walz";
    private const int Level = 3;

    /// <summary>
    /// Writes the compressed twin of the sealed segment <paramref name="name"/> crash-safely (temporary file,
    /// fsync, rename, directory fsync) and returns its name and size; the caller then deletes the original. The
    /// fsyncs go through <paramref name="syncFile"/> and <paramref name="syncDirectory"/> (the writer's, which fail
    /// the WAL). A temporary file left by an earlier failed attempt is deleted first; one this attempt leaves
    /// behind by failing is deleted before the exception leaves.
    /// </summary>
    public static (string Name, long Bytes) Compress(IWalStorage storage, string name, Action<IWalFile> syncFile, Action syncDirectory)
    {
        string compressed = Path.ChangeExtension(name, Suffix);
        string temp = compressed + WalSegmentName.TempSuffix;
        if (storage.ListFiles(WalSegmentName.TempSuffix).Contains(temp))
        {
            storage.Delete(temp); // a failed earlier attempt's; "file exists" would stop compression for good
        }

        try
        {
            return CompressVia(storage, name, compressed, temp, syncFile, syncDirectory);
        }
        catch
        {
            if (storage.ListFiles(WalSegmentName.TempSuffix).Contains(temp))
            {
                storage.Delete(temp);
            }

            throw;
        }
    }

    private static (string Name, long Bytes) CompressVia(
        IWalStorage storage, string name, string compressed, string temp, Action<IWalFile> syncFile, Action syncDirectory)
    {
        byte[] segment;
        using (IWalFile source = storage.Open(name, writable: false))
        {
            segment = new byte[source.Length];
            if (source.Read(0, segment) != segment.Length)
            {
                throw new IOException($"Segment '{name}' changed size while it was being compressed.");
            }
        }

        if (!WalFormat.TryReadSegmentHeader(segment, out WalSegmentHeader header, out string? error))
        {
            throw new WalCorruptionException(Path.Combine(storage.Directory, name), 0, error!);
        }

        using var compressor = new Compressor(Level);
        compressor.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
        byte[] frame = compressor.Wrap(segment.AsSpan(WalFormat.SegmentHeaderSize)).ToArray();
        var output = new byte[WalFormat.SegmentHeaderSize + 8 + frame.Length];
        WalFormat.WriteSegmentHeader(output, header with { Flags = (ushort)(header.Flags | WalFormat.SegmentFlagCompressed) });
        BinaryPrimitives.WriteInt64LittleEndian(output.AsSpan(WalFormat.SegmentHeaderSize), segment.Length - WalFormat.SegmentHeaderSize);
        frame.CopyTo(output, WalFormat.SegmentHeaderSize + 8);

        using (IWalFile file = storage.Create(temp, 0))
        {
            file.Write(0, output);
            syncFile(file);                    // the compressed bytes are on disk before the name appears
        }

        storage.Rename(temp, compressed);      // atomic
        syncDirectory();                       // the new name survives a power loss before the original goes
        return (compressed, output.Length);
    }

    /// <summary>
    /// Deletes each compressed segment whose original is still there (a crash or a failure interrupted its
    /// compression before the original was deleted; both hold the same records), then fsyncs the directory.
    /// Returns how many were deleted.
    /// </summary>
    public static int RemoveCompressedTwins(IWalStorage storage, ILogger logger)
    {
        IReadOnlyList<string> plain = storage.ListFiles(WalSegmentName.Suffix);
        List<string> twins = [.. storage.ListFiles(Suffix).Where(z => plain.Contains(Path.ChangeExtension(z, WalSegmentName.Suffix)))];
        foreach (string twin in twins)
        {
            logger.LogInformation("WAL: removing '{File}', a compressed copy whose original is still there.", twin);
            storage.Delete(twin);
        }

        if (twins.Count > 0)
        {
            storage.SyncDirectory();
        }

        return twins.Count;
    }

    /// <summary>Opens a compressed segment as an in-memory copy of the original segment.</summary>
    /// <exception cref="WalCorruptionException">The header or the zstd frame is damaged.</exception>
    public static IWalFile OpenDecompressed(IWalStorage storage, string name)
    {
        string path = Path.Combine(storage.Directory, name);
        byte[] file;
        using (IWalFile source = storage.Open(name, writable: false))
        {
            file = new byte[source.Length];
            source.Read(0, file);
        }

        if (!WalFormat.TryReadSegmentHeader(file, out WalSegmentHeader header, out string? error))
        {
            throw new WalCorruptionException(path, 0, error!);
        }

        if ((header.Flags & WalFormat.SegmentFlagCompressed) == 0 || file.Length < WalFormat.SegmentHeaderSize + 8)
        {
            throw new WalCorruptionException(path, 0, "a .walz file without the compressed flag or body length");
        }

        long bodyLength = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(WalFormat.SegmentHeaderSize));
        if (bodyLength < 0 || bodyLength > WalConfig.MaxSegmentSizeBytes)
        {
            throw new WalCorruptionException(path, WalFormat.SegmentHeaderSize, $"impossible uncompressed length {bodyLength}");
        }

        var segment = new byte[WalFormat.SegmentHeaderSize + bodyLength];
        WalFormat.WriteSegmentHeader(segment, header with { Flags = (ushort)(header.Flags & ~WalFormat.SegmentFlagCompressed) });
        try
        {
            using var decompressor = new Decompressor();
            int written = decompressor.Unwrap(file.AsSpan(WalFormat.SegmentHeaderSize + 8), segment.AsSpan(WalFormat.SegmentHeaderSize));
            if (written != bodyLength)
            {
                throw new WalCorruptionException(path, WalFormat.SegmentHeaderSize + 8, $"the zstd frame holds {written} bytes, the header says {bodyLength}");
            }
        }
        catch (ZstdException ex)
        {
            throw new WalCorruptionException(path, WalFormat.SegmentHeaderSize + 8, $"the zstd frame is damaged: {ex.Message}", ex);
        }

        return new MemoryWalFile(name, segment);
    }

    private sealed class MemoryWalFile(string name, byte[] content) : IWalFile
    {
        public string Name { get; } = name;

        public long Length => content.Length;

        public int Read(long offset, Span<byte> buffer)
        {
            int n = (int)Math.Clamp(content.Length - offset, 0, buffer.Length);
            content.AsSpan((int)offset, n).CopyTo(buffer);
            return n;
        }

        public void Write(long offset, ReadOnlySpan<byte> data) => throw new NotSupportedException("Compressed segments are read-only.");

        public void Sync() => throw new NotSupportedException("Compressed segments are read-only.");

        public void SetLength(long length) => throw new NotSupportedException("Compressed segments are read-only.");

        public void Dispose()
        {
        }
    }
}

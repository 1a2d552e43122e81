using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using OxiVec.Internal;

namespace OxiVec.Storage.Checkpoints;

/// <summary>One collection's content in a checkpoint (on load, <see cref="CollectionImage.IndexSnapshot"/> is empty and <see cref="Index"/> holds the loaded index).</summary>
internal sealed record CheckpointCollection(string Name, CollectionOptions Options, CollectionImage Image)
{
    /// <summary>The index loaded from the checkpoint.</summary>
    public OxiVec.Indexing.IVectorIndex? Index { get; init; }

    /// <summary>The live records.</summary>
    public IEnumerable<VectorRecord> Records => Image.Records.Select(r => r.Record);
}

/// <summary>A loaded checkpoint: the state of the store up to and including <see cref="CoveredLsn"/>.</summary>
internal sealed record CheckpointData(long Sequence, long CoveredLsn, DateTimeOffset Created, IReadOnlyList<CheckpointCollection> Collections, string Path);

/// <summary>A checkpoint found on disk (not yet validated).</summary>
internal sealed record CheckpointEntry(long Sequence, long CoveredLsn, string Path);

/// <summary>
/// Checkpoint directories under <c>DATA/checkpoints</c>: <c>{sequence:x16}-{covered LSN:x16}/</c> holding
/// <c>MANIFEST</c>, and per collection <c>c{n}.records</c> and <c>c{n}.index</c> (the index snapshot, so recovery
/// need not rebuild the HNSW graph), each file ending in a CRC-32C of its bytes.
/// A checkpoint is built in <c>NAME.tmp/</c> (every file fsynced), then renamed into place and the parent
/// directory fsynced, so it exists whole or not at all.
/// </summary>
/// <remarks>
/// MANIFEST: magic "OXIVCKPT", u16 version, u16 0, i64 sequence, i64 covered LSN, i64 created (µs since the Unix
/// epoch), u32 collection count, then per collection u32 n + the collection-create payload, u32 record count;
/// u32 CRC. Records file: magic "OXIVRECS", u16 version, u16 0, u32 count, u32 slot high-water mark, u32 free-slot
/// count + the free slots, then per record u32 slot, u16 id bytes + UTF-8, dimension × float32, u32 metadata bytes +
/// metadata; u32 CRC. Index file: the index snapshot (see <c>VectorIndexSnapshot</c>); u32 CRC.
/// </remarks>
internal static class CheckpointFiles
{
    public const string DirectoryName = "checkpoints";
    private const ulong ManifestMagic = 0x54504B435649584F; // "OXIVCKPT"
    private const ulong RecordsMagic = 0x534345525649584F; // "OXIVRECS"
    private const ushort Version = 1;
    private const string Manifest = "MANIFEST";
    private const string TempSuffix = ".tmp";

    public static string FormatName(long sequence, long coveredLsn) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence:x16}-{coveredLsn:x16}");

    /// <summary>
    /// The checkpoints in <paramref name="root"/>, newest (highest sequence) first. Half-built ones are deleted
    /// when <paramref name="removeHalfBuilt"/> (only the process that owns the database may do that).
    /// </summary>
    public static List<CheckpointEntry> List(string root, bool removeHalfBuilt = true)
    {
        var entries = new List<CheckpointEntry>();
        if (!Directory.Exists(root))
        {
            return entries;
        }

        foreach (string dir in Directory.GetDirectories(root))
        {
            string name = Path.GetFileName(dir);
            if (name.EndsWith(TempSuffix, StringComparison.Ordinal))
            {
                if (removeHalfBuilt)
                {
                    Directory.Delete(dir, recursive: true); // a checkpoint a crash interrupted; never renamed, never used
                }

                continue;
            }

            if (name.Length == 33 && name[16] == '-'
                && long.TryParse(name.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long sequence)
                && long.TryParse(name.AsSpan(17), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long lsn))
            {
                entries.Add(new CheckpointEntry(sequence, lsn, dir));
            }
        }

        entries.Sort((a, b) => b.Sequence.CompareTo(a.Sequence));
        return entries;
    }

    /// <summary>Writes a checkpoint directory atomically and returns its path and size in bytes.</summary>
    public static (string Path, long Bytes) Write(string root, long sequence, long coveredLsn, DateTimeOffset created, IReadOnlyList<CheckpointCollection> collections)
    {
        DurableFiles.CreateDirectoryDurably(root); // the checkpoints directory itself survives a power loss
        string final = Path.Combine(root, FormatName(sequence, coveredLsn));
        string temp = final + TempSuffix;
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }

        Directory.CreateDirectory(temp);
        long bytes = 0;
        try
        {
            for (int i = 0; i < collections.Count; i++)
            {
                bytes += WriteFile(Path.Combine(temp, $"c{i}.records"), s => WriteRecords(s, collections[i]));
                bytes += WriteFile(Path.Combine(temp, $"c{i}.index"), s => s.Write(collections[i].Image.IndexSnapshot));
            }

            bytes += WriteFile(Path.Combine(temp, Manifest), s => WriteManifest(s, sequence, coveredLsn, created, collections));
            DurableFiles.SyncDirectory(temp);  // the files' names inside the new directory are durable
            Directory.Move(temp, final);       // atomic: the checkpoint appears whole
            DurableFiles.SyncDirectory(root);  // the rename survives a power loss
            return (final, bytes);
        }
        catch
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            throw;
        }
    }

    /// <summary>Loads and validates a checkpoint.</summary>
    /// <exception cref="InvalidDataException">A file is missing, truncated or fails its checksum; the message names it.</exception>
    public static CheckpointData Read(CheckpointEntry entry)
    {
        string manifestPath = Path.Combine(entry.Path, Manifest);
        if (!File.Exists(manifestPath))
        {
            throw new InvalidDataException($"Checkpoint '{entry.Path}' has no MANIFEST.");
        }

        (long sequence, long lsn, DateTimeOffset created, List<(string Name, CollectionOptions Options, int Count)> shapes) = ReadManifest(manifestPath);
        if (sequence != entry.Sequence || lsn != entry.CoveredLsn)
        {
            throw new InvalidDataException($"Checkpoint '{entry.Path}': the MANIFEST names sequence {sequence} and LSN {lsn}, the directory name disagrees.");
        }

        var collections = new List<CheckpointCollection>(shapes.Count);
        for (int i = 0; i < shapes.Count; i++)
        {
            (string name, CollectionOptions options, int count) = shapes[i];
            CollectionImage image = ReadRecords(Path.Combine(entry.Path, $"c{i}.records"), options.Dimension, count);
            collections.Add(new CheckpointCollection(name, options, image) { Index = ReadIndex(Path.Combine(entry.Path, $"c{i}.index")) });
        }

        return new CheckpointData(sequence, lsn, created, collections, entry.Path);
    }

    /// <summary>Deletes a checkpoint directory and fsyncs its parent.</summary>
    public static void Delete(CheckpointEntry entry)
    {
        Directory.Delete(entry.Path, recursive: true);
        DurableFiles.SyncDirectory(Path.GetDirectoryName(entry.Path)!);
    }

    private static long WriteFile(string path, Action<ChecksumWriteStream> body)
    {
        long written = 0;
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var crc = new ChecksumWriteStream(file);
            body(crc);
            Span<byte> trailer = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(trailer, crc.Crc);
            file.Write(trailer);
            written = crc.Written + 4;
            file.Flush(flushToDisk: true);
        }

        return written;
    }

    private static void WriteManifest(Stream s, long sequence, long lsn, DateTimeOffset created, IReadOnlyList<CheckpointCollection> collections)
    {
        Span<byte> head = stackalloc byte[40];
        BinaryPrimitives.WriteUInt64LittleEndian(head, ManifestMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(head[8..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(head[12..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(head[20..], lsn);
        BinaryPrimitives.WriteInt64LittleEndian(head[28..], (created.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond);
        BinaryPrimitives.WriteInt32LittleEndian(head[36..], collections.Count);
        s.Write(head);
        foreach (CheckpointCollection c in collections)
        {
            byte[] shape = SchemaOperations.Create(c.Name, c.Options).Payload.ToArray();
            WriteInt32(s, shape.Length);
            s.Write(shape);
            WriteInt32(s, c.Image.Records.Count);
        }
    }

    private static (long, long, DateTimeOffset, List<(string, CollectionOptions, int)>) ReadManifest(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var s = new ChecksumReadStream(file, path);
        Span<byte> head = stackalloc byte[40];
        s.ReadFully(head);
        if (BinaryPrimitives.ReadUInt64LittleEndian(head) != ManifestMagic)
        {
            throw new InvalidDataException($"'{path}' is not a checkpoint manifest (bad magic).");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(head[8..]);
        if (version != Version)
        {
            throw new InvalidDataException($"'{path}' has checkpoint format version {version}; this build reads version {Version}.");
        }

        long sequence = BinaryPrimitives.ReadInt64LittleEndian(head[12..]);
        long lsn = BinaryPrimitives.ReadInt64LittleEndian(head[20..]);
        DateTimeOffset created = DateTimeOffset.UnixEpoch.AddTicks(BinaryPrimitives.ReadInt64LittleEndian(head[28..]) * TimeSpan.TicksPerMicrosecond);
        int count = BinaryPrimitives.ReadInt32LittleEndian(head[36..]);
        CheckCount(count, 1 << 20, path, s.Consumed);
        var shapes = new List<(string, CollectionOptions, int)>(count);
        for (int i = 0; i < count; i++)
        {
            int length = ReadInt32(s);
            CheckCount(length, 1 << 16, path, s.Consumed);
            var shape = new byte[length];
            s.ReadFully(shape);
            (string name, CollectionOptions options) = SchemaOperations.ReadCreate(shape);
            int records = ReadInt32(s);
            CheckCount(records, int.MaxValue, path, s.Consumed);
            shapes.Add((name, options, records));
        }

        CheckTrailer(s);
        return (sequence, lsn, created, shapes);
    }

    private static void WriteRecords(Stream s, CheckpointCollection collection)
    {
        CollectionImage image = collection.Image;
        Span<byte> head = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(head, RecordsMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(head[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(head[12..], image.Records.Count);
        s.Write(head);
        WriteInt32(s, image.HighWater);
        WriteInt32(s, image.FreeSlots.Count);
        foreach (int slot in image.FreeSlots)
        {
            WriteInt32(s, slot);
        }

        Span<byte> idLength = stackalloc byte[2];
        foreach (SlottedRecord slotted in image.Records)
        {
            VectorRecord record = slotted.Record;
            WriteInt32(s, slotted.Slot);
            byte[] id = Encoding.UTF8.GetBytes(record.Id);
            BinaryPrimitives.WriteUInt16LittleEndian(idLength, (ushort)id.Length);
            s.Write(idLength);
            s.Write(id);
            s.Write(MemoryMarshal.AsBytes(record.Vector.Span));
            byte[] metadata = MetadataCodec.Encode(record.Metadata);
            WriteInt32(s, metadata.Length);
            s.Write(metadata);
        }
    }

    private static CollectionImage ReadRecords(string path, int dimension, int expected)
    {
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"Checkpoint file '{path}' is missing.");
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var s = new ChecksumReadStream(file, path);
        Span<byte> head = stackalloc byte[16];
        s.ReadFully(head);
        if (BinaryPrimitives.ReadUInt64LittleEndian(head) != RecordsMagic || BinaryPrimitives.ReadUInt16LittleEndian(head[8..]) != Version)
        {
            throw new InvalidDataException($"'{path}' is not a version {Version} checkpoint records file.");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(head[12..]);
        if (count != expected)
        {
            throw new InvalidDataException($"'{path}' holds {count} records; the manifest says {expected}.");
        }

        int highWater = ReadInt32(s);
        CheckCount(highWater, int.MaxValue, path, s.Consumed);
        int freeCount = ReadInt32(s);
        CheckCount(freeCount, highWater, path, s.Consumed);
        var free = new int[freeCount];
        for (int i = 0; i < freeCount; i++)
        {
            free[i] = ReadInt32(s);
            CheckCount(free[i], highWater - 1, path, s.Consumed);
        }

        var records = new List<SlottedRecord>(count);
        Span<byte> idLength = stackalloc byte[2];
        for (int i = 0; i < count; i++)
        {
            int slot = ReadInt32(s);
            s.ReadFully(idLength);
            var id = new byte[BinaryPrimitives.ReadUInt16LittleEndian(idLength)];
            s.ReadFully(id);
            var vector = new float[dimension];
            s.ReadFully(MemoryMarshal.AsBytes(vector.AsSpan()));
            int metadataLength = ReadInt32(s);
            CheckCount(metadataLength, 16 << 20, path, s.Consumed);
            var metadata = new byte[metadataLength];
            s.ReadFully(metadata);
            records.Add(new SlottedRecord(slot, new VectorRecord(Encoding.UTF8.GetString(id), vector, MetadataCodec.Decode(metadata))));
        }

        CheckTrailer(s);
        return new CollectionImage(records, highWater, free, []);
    }

    /// <summary>The index snapshot, or null when the checkpoint stores none (a flat index: rebuilt from the records).</summary>
    private static OxiVec.Indexing.IVectorIndex? ReadIndex(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"Checkpoint file '{path}' is missing.");
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var s = new ChecksumReadStream(file, path);
        if (file.Length == sizeof(uint))
        {
            CheckTrailer(s); // an empty snapshot: only its checksum
            return null;
        }
        OxiVec.Indexing.IVectorIndex index = OxiVec.Indexing.VectorIndexSnapshot.ReadSnapshot(s);
        try
        {
            CheckTrailer(s);
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    private static void CheckTrailer(ChecksumReadStream s)
    {
        uint computed = s.Crc;
        Span<byte> trailer = stackalloc byte[4];
        long at = s.Consumed;
        s.ReadFully(trailer);
        if (BinaryPrimitives.ReadUInt32LittleEndian(trailer) != computed)
        {
            throw new InvalidDataException($"'{s.Path}' fails its checksum (trailer at offset {at}).");
        }

        Span<byte> extra = stackalloc byte[1];
        if (s.Read(extra) != 0)
        {
            throw new InvalidDataException($"'{s.Path}' has bytes after its checksum trailer at offset {at + 4}.");
        }
    }

    private static void CheckCount(int value, int max, string path, long offset)
    {
        if (value < 0 || value > max)
        {
            throw new InvalidDataException($"'{path}' holds an impossible count {value} before offset {offset}.");
        }
    }

    private static void WriteInt32(Stream s, int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        s.Write(b);
    }

    private static int ReadInt32(ChecksumReadStream s)
    {
        Span<byte> b = stackalloc byte[4];
        s.ReadFully(b);
        return BinaryPrimitives.ReadInt32LittleEndian(b);
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace OxiVec.Storage.Checkpoints;

/// <summary>One collection's content in a checkpoint (on load, <see cref="CollectionImage.IndexSnapshot"/> is empty and <see cref="Index"/> holds the loaded index).</summary>
internal sealed record CheckpointCollection(string Name, CollectionOptions Options, CollectionImage Image)
{
    /// <summary>The index loaded from the checkpoint.</summary>
    public OxiVec.Indexing.IVectorIndex? Index { get; init; }

    /// <summary>
    /// The live records, each with its vector (taken from <see cref="Index"/> when the records file omits them), unless
    /// the checkpoint was read with <c>omitIndexedVectors</c>: then those the index holds as given have an empty vector.
    /// </summary>
    public IEnumerable<VectorRecord> Records => Image.Records.Select(r => r.Record);
}

/// <summary>A loaded checkpoint: the state of the store up to and including <see cref="CoveredLsn"/>.</summary>
internal sealed record CheckpointData(long Sequence, long CoveredLsn, DateTimeOffset Created, IReadOnlyList<CheckpointCollection> Collections, string Path)
{
    /// <summary>The global transactions known at <see cref="CoveredLsn"/> (empty for a version 1 checkpoint, which predates them).</summary>
    public OxiVec.Transactions.TransactionTable Transactions { get; init; } = OxiVec.Transactions.TransactionTable.Empty;
}

/// <summary>A checkpoint found on disk (not yet validated).</summary>
internal sealed record CheckpointEntry(long Sequence, long CoveredLsn, string Path);

/// <summary>
/// Checkpoint directories under <c>DATA/checkpoints</c>: <c>{sequence:x16}-{covered LSN:x16}/</c> holding
/// <c>MANIFEST</c>, per collection <c>c{n}.records</c> and <c>c{n}.index</c> (the index snapshot, so recovery
/// need not rebuild the HNSW graph), and (from format version 2) <c>transactions</c>, the prepared transactions and
/// resolved gids at the covered LSN (<see cref="CheckpointTransactions"/>); each file ends in a CRC-32C of its bytes.
/// A checkpoint is built in <c>NAME.tmp/</c> (every file fsynced), then renamed into place and the parent
/// directory fsynced, so it exists whole or not at all.
/// </summary>
/// <remarks>
/// <para>
/// MANIFEST: magic "OXIVCKPT", u16 version (2; version 1, without the transactions file, is still read), u16 0, i64 sequence, i64 covered LSN, i64 created (µs since the Unix
/// epoch), u32 collection count, then per collection u32 n + the collection-create payload, u32 record count;
/// u32 CRC. Index file: the index snapshot (see <c>VectorIndexSnapshot</c>), empty for a flat index; u32 CRC.
/// </para>
/// <para>
/// Records file: magic "OXIVRECS", u16 version (2), u16 flags, u32 count, u32 slot high-water mark, u32 free-slot
/// count + the free slots, then per record u32 slot, u16 id bytes + UTF-8, dimension × float32 (only without flag
/// bit 0), u32 metadata bytes + metadata; u32 CRC. Flag bit 0 (<see cref="VectorsInIndexFlag"/>): the vectors are
/// omitted because the collection's index snapshot holds every record's vector bit for bit as given (an HNSW index
/// of a Euclidean or dot-product collection: see <see cref="CollectionCapture.VectorsInIndex"/>), so each vector is
/// written once; a load takes them from the loaded index by slot, and a record naming a slot the index does not hold
/// live is corruption. A cosine index holds unit vectors, and a flat index stores no snapshot: their records keep
/// the vectors. Other flag bits are refused. Version 1 (every build before this one) is the same layout with the
/// flags u16 always 0 and always the vectors; it is still read.
/// </para>
/// </remarks>
internal static class CheckpointFiles
{
    public const string DirectoryName = "checkpoints";
    private const ulong ManifestMagic = 0x54504B435649584F; // "OXIVCKPT"
    private const ulong RecordsMagic = 0x534345525649584F; // "OXIVRECS"
    private const ushort Version = 2; // of the records file: 2 added the flags (vectors omitted when the index holds them)
    private const ushort FirstRecordsVersion = 1; // still read: always holds the vectors, its flags u16 is 0
    /// <summary>Records-file flag: the vectors are omitted, the collection's index snapshot holds them as given.</summary>
    internal const ushort VectorsInIndexFlag = 1;
    private const ushort ManifestVersion = 2; // 2 added the transactions file
    private const string ManifestName = "MANIFEST";
    private const string TempSuffix = ".tmp";
    /// <summary>
    /// A checkpoint file's write-back window (see <see cref="ICheckpointStorage.WriteBack"/>): at most two are in
    /// flight, so a commit's WAL fsync queues behind at most about 1 MiB of checkpoint data.
    /// </summary>
    internal const long WriteBackBytes = 512 << 10;

    public static string FormatName(long sequence, long coveredLsn) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence:x16}-{coveredLsn:x16}");

    /// <summary>
    /// The checkpoints in <paramref name="root"/>, newest (highest sequence) first. Half-built ones are deleted
    /// when <paramref name="removeHalfBuilt"/> (only the process that owns the database may do that).
    /// </summary>
    public static List<CheckpointEntry> List(string root, bool removeHalfBuilt = true, ICheckpointStorage? storage = null)
    {
        storage ??= FileSystemCheckpointStorage.Instance;
        var entries = new List<CheckpointEntry>();
        if (!storage.DirectoryExists(root))
        {
            return entries;
        }

        foreach (string dir in storage.ListDirectories(root))
        {
            string name = Path.GetFileName(dir);
            if (name.EndsWith(TempSuffix, StringComparison.Ordinal))
            {
                if (removeHalfBuilt)
                {
                    storage.DeleteDirectory(dir); // a checkpoint a crash interrupted; never renamed, never used
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

    /// <summary>
    /// Writes a checkpoint directory atomically and returns its path and size in bytes. Each collection's records
    /// and index snapshot are streamed from its capture (nothing holds a whole file in memory; files may exceed 2 GiB).
    /// </summary>
    public static (string Path, long Bytes) Write(
        string root, long sequence, long coveredLsn, DateTimeOffset created, IReadOnlyList<CollectionCapture> collections,
        ICheckpointStorage? storage = null, OxiVec.Transactions.TransactionTable? transactions = null)
    {
        storage ??= FileSystemCheckpointStorage.Instance;
        if (!storage.DirectoryExists(root))
        {
            storage.CreateDirectory(root);
            storage.SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(root))!); // the checkpoints directory itself survives a power loss
        }
        string final = Path.Combine(root, FormatName(sequence, coveredLsn));
        string temp = final + TempSuffix;
        if (storage.DirectoryExists(temp))
        {
            storage.DeleteDirectory(temp);
        }

        storage.CreateDirectory(temp);
        long bytes = 0;
        try
        {
            for (int i = 0; i < collections.Count; i++)
            {
                // The index first, and its view released as soon as it is written: while the view lives the index copies
                // every shared chunk a write changes and serialises its writers. The records need no view.
                bytes += WriteFile(storage, Path.Combine(temp, $"c{i}.index"), collections[i].WriteIndex);
                collections[i].ReleaseIndex();
                bytes += WriteFile(storage, Path.Combine(temp, $"c{i}.records"), s => WriteRecords(s, collections[i]));
            }

            bytes += WriteFile(storage, Path.Combine(temp, CheckpointTransactions.FileName), s => CheckpointTransactions.Write(s, transactions ?? OxiVec.Transactions.TransactionTable.Empty));
            bytes += WriteFile(storage, Path.Combine(temp, ManifestName), s => WriteManifest(s, sequence, coveredLsn, created, collections));
            storage.SyncDirectory(temp);        // the files' names inside the new directory are durable
            storage.MoveDirectory(temp, final); // atomic: the checkpoint appears whole
            storage.SyncDirectory(root);        // the rename survives a power loss
            return (final, bytes);
        }
        catch
        {
            if (storage.DirectoryExists(temp))
            {
                storage.DeleteDirectory(temp);
            }

            throw;
        }
    }

    /// <summary>
    /// Loads and validates a checkpoint. Every file's checksum is verified before any of its bytes are decoded, and
    /// anything malformed (even behind a valid checksum) is reported as <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    /// <param name="entry">The checkpoint.</param>
    /// <param name="storage">Where its files are (the file system when null).</param>
    /// <param name="omitIndexedVectors">
    /// When true, a record whose vector the loaded index holds as given (<see cref="OxiVec.Indexing.IVectorIndex.HoldsVectorsAsGiven"/>)
    /// comes with an empty vector instead of a copy (opening a database: the collection reads its vectors from the
    /// index). When false (the default) every record carries its vector, taken from the index when the records file
    /// omits them (point-in-time recovery, tools, tests).
    /// </param>
    /// <param name="cancellationToken">Checked while records are decoded (a recovery deadline).</param>
    /// <exception cref="InvalidDataException">A file is missing, truncated, fails its checksum or does not decode; the message names it.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static CheckpointData Read(
        CheckpointEntry entry, ICheckpointStorage? storage = null, bool omitIndexedVectors = false, CancellationToken cancellationToken = default)
    {
        storage ??= FileSystemCheckpointStorage.Instance;
        Manifest manifest = ReadManifest(storage, entry);
        var collections = new List<CheckpointCollection>(manifest.Collections.Count);
        OxiVec.Indexing.IVectorIndex? index = null;
        try
        {
            for (int i = 0; i < manifest.Collections.Count; i++)
            {
                (string name, CollectionOptions options, int count) = manifest.Collections[i];
                string recordsPath = Path.Combine(entry.Path, $"c{i}.records");
                string indexPath = Path.Combine(entry.Path, $"c{i}.index");
                // The index first: a records file may leave the vectors to it.
                index = Decode(storage, indexPath, ReadIndex);
                var source = new VectorSource(index, indexPath, omitIndexedVectors);
                CollectionImage image = Decode(storage, recordsPath, s => ReadRecords(s, options.Dimension, count, source, cancellationToken));
                collections.Add(new CheckpointCollection(name, options, image) { Index = index });
                index = null;
            }
        }
        catch
        {
            index?.Dispose();
            foreach (CheckpointCollection loaded in collections)
            {
                loaded.Index?.Dispose();
            }

            throw;
        }

        OxiVec.Transactions.TransactionTable transactions = manifest.Version < 2
            ? OxiVec.Transactions.TransactionTable.Empty
            : Decode(storage, Path.Combine(entry.Path, CheckpointTransactions.FileName), s =>
            {
                OxiVec.Transactions.TransactionTable table = CheckpointTransactions.Read(s);
                CheckTrailer(s);
                return table;
            });
        return new CheckpointData(manifest.Sequence, manifest.CoveredLsn, manifest.Created, collections, entry.Path) { Transactions = transactions };
    }

    /// <summary>
    /// Checks a checkpoint without loading it: the MANIFEST decodes and agrees with the directory name, and every file
    /// it lists is present and passes its checksum (a new checkpoint is read back this way before retention deletes anything).
    /// </summary>
    /// <exception cref="InvalidDataException">A file is missing, truncated, fails its checksum or does not decode; the message names it.</exception>
    public static void Validate(CheckpointEntry entry, ICheckpointStorage? storage = null)
    {
        storage ??= FileSystemCheckpointStorage.Instance;
        Manifest manifest = ReadManifest(storage, entry);
        for (int i = 0; i < manifest.Collections.Count; i++)
        {
            VerifyChecksum(storage, Path.Combine(entry.Path, $"c{i}.records"));
            VerifyChecksum(storage, Path.Combine(entry.Path, $"c{i}.index"));
        }

        if (manifest.Version >= 2)
        {
            VerifyChecksum(storage, Path.Combine(entry.Path, CheckpointTransactions.FileName));
        }
    }

    /// <summary>The highest sequence number among the checkpoint directories in <paramref name="root"/>, damaged ones included (0 without any).</summary>
    public static long HighestSequence(string root, ICheckpointStorage? storage = null) =>
        List(root, removeHalfBuilt: false, storage).Select(c => c.Sequence).DefaultIfEmpty(0).Max();

    private static Manifest ReadManifest(ICheckpointStorage storage, CheckpointEntry entry)
    {
        string path = Path.Combine(entry.Path, ManifestName);
        Manifest manifest = Decode(storage, path, ReadManifest);
        if (manifest.Sequence != entry.Sequence || manifest.CoveredLsn != entry.CoveredLsn)
        {
            throw new InvalidDataException(
                $"Checkpoint '{entry.Path}': the MANIFEST names sequence {manifest.Sequence} and LSN {manifest.CoveredLsn}, the directory name disagrees.");
        }

        return manifest;
    }

    /// <summary>
    /// Verifies <paramref name="path"/>'s checksum, then decodes it: whatever the decoder throws on bytes that passed
    /// the checksum (a crafted file, or a bug that wrote it) becomes an <see cref="InvalidDataException"/> naming the file and offset.
    /// </summary>
    private static T Decode<T>(ICheckpointStorage storage, string path, Func<ChecksumReadStream, T> decode)
    {
        long length = VerifyChecksum(storage, path);
        using Stream file = storage.OpenRead(path);
        // The decoders read field by field; a MANIFEST (read back by every checkpoint) gets a buffer of its own size.
        using var buffered = new BufferedStream(file, (int)Math.Clamp(length, 4096, 1 << 20));
        var s = new ChecksumReadStream(buffered, path, length);
        try
        {
            return decode(s);
        }
        catch (InvalidDataException ex) when (ex.Message.Contains(path, StringComparison.Ordinal))
        {
            throw;
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException or IOException))
        {
            throw new InvalidDataException($"'{path}' does not decode at offset {s.Consumed}: {ex.Message}", ex);
        }
    }

    /// <summary>Streams the file once and compares the CRC-32C of all but its last 4 bytes with them; returns its length.</summary>
    /// <exception cref="InvalidDataException">The file is missing, shorter than its trailer, or fails its checksum.</exception>
    private static long VerifyChecksum(ICheckpointStorage storage, string path)
    {
        if (!storage.FileExists(path))
        {
            throw new InvalidDataException($"Checkpoint file '{path}' is missing.");
        }

        using Stream file = storage.OpenRead(path);
        long length = file.Length;
        if (length < sizeof(uint))
        {
            throw new InvalidDataException($"'{path}' is {length} bytes, shorter than its checksum trailer.");
        }

        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            uint crc = 0;
            long remaining = length - sizeof(uint);
            while (remaining > 0)
            {
                int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
                if (n == 0)
                {
                    throw new InvalidDataException($"'{path}' ended early while its checksum was verified ({remaining} bytes missing).");
                }

                crc = OxiVec.Wal.WalFormat.Crc32C(crc, buffer.AsSpan(0, n));
                remaining -= n;
            }

            file.ReadExactly(buffer, 0, sizeof(uint));
            if (BinaryPrimitives.ReadUInt32LittleEndian(buffer) != crc)
            {
                throw new InvalidDataException($"'{path}' fails its checksum (trailer at offset {length - sizeof(uint)}).");
            }

            return length;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Deletes a checkpoint directory and fsyncs its parent.</summary>
    public static void Delete(CheckpointEntry entry, ICheckpointStorage? storage = null)
    {
        storage ??= FileSystemCheckpointStorage.Instance;
        storage.DeleteDirectory(entry.Path);
        storage.SyncDirectory(Path.GetDirectoryName(entry.Path)!);
    }

    /// <summary>
    /// Writes one checkpoint file: <paramref name="body"/>'s bytes, written back as they stream, then the CRC-32C
    /// trailer, then an fsync of the file; returns its length. Internal for the stall benchmark's calibration, which
    /// writes scratch files exactly as a checkpoint writes its own.
    /// </summary>
    internal static long WriteFile(ICheckpointStorage storage, string path, Action<ChecksumWriteStream> body)
    {
        long written = 0;
        using (Stream file = storage.CreateFile(path))
        {
            // Written back as it goes, as PostgreSQL's checkpoint_flush_after does: a file of hundreds of megabytes left
            // dirty until its final fsync would make the WAL's own fsyncs (commits) queue behind all of it at once.
            using var crc = new ChecksumWriteStream(file) { WriteBack = (from, to) => storage.WriteBack(file, from, to), WriteBackBytes = WriteBackBytes };
            body(crc);
            crc.Flush(); // every byte reaches the file before its trailer
            Span<byte> trailer = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(trailer, crc.Crc);
            file.Write(trailer);
            written = crc.Written + 4;
            storage.SyncFile(file);
        }

        return written;
    }

    private static void WriteManifest(Stream s, long sequence, long lsn, DateTimeOffset created, IReadOnlyList<CollectionCapture> collections)
    {
        Span<byte> head = stackalloc byte[40];
        BinaryPrimitives.WriteUInt64LittleEndian(head, ManifestMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(head[8..], ManifestVersion);
        BinaryPrimitives.WriteInt64LittleEndian(head[12..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(head[20..], lsn);
        BinaryPrimitives.WriteInt64LittleEndian(head[28..], (created.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond);
        BinaryPrimitives.WriteInt32LittleEndian(head[36..], collections.Count);
        s.Write(head);
        foreach (CollectionCapture c in collections)
        {
            byte[] shape = SchemaOperations.Create(c.Name, c.Options).Payload.ToArray();
            WriteInt32(s, shape.Length);
            s.Write(shape);
            WriteInt32(s, c.RecordCount);
        }
    }

    private static Manifest ReadManifest(ChecksumReadStream s)
    {
        string path = s.Path;
        Span<byte> head = stackalloc byte[40];
        s.ReadFully(head);
        if (BinaryPrimitives.ReadUInt64LittleEndian(head) != ManifestMagic)
        {
            throw new InvalidDataException($"'{path}' is not a checkpoint manifest (bad magic).");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(head[8..]);
        if (version is < 1 or > ManifestVersion)
        {
            throw new InvalidDataException($"'{path}' has checkpoint format version {version}; this build reads versions 1 to {ManifestVersion}.");
        }

        long sequence = BinaryPrimitives.ReadInt64LittleEndian(head[12..]);
        long lsn = BinaryPrimitives.ReadInt64LittleEndian(head[20..]);
        long micros = BinaryPrimitives.ReadInt64LittleEndian(head[28..]);
        if (sequence < 1 || lsn < 0 || micros < 0 || micros > MaxCreatedMicros)
        {
            throw new InvalidDataException($"'{path}' holds an impossible sequence {sequence}, LSN {lsn} or creation time {micros} µs at offset 12.");
        }

        DateTimeOffset created = DateTimeOffset.UnixEpoch.AddTicks(micros * TimeSpan.TicksPerMicrosecond);
        int count = BinaryPrimitives.ReadInt32LittleEndian(head[36..]);
        CheckCount(count, (int)Math.Min(1 << 20, s.Remaining / 8), path, s.Consumed);
        var shapes = new List<(string, CollectionOptions, int)>(count);
        for (int i = 0; i < count; i++)
        {
            int length = ReadInt32(s);
            CheckCount(length, (int)Math.Min(1 << 16, s.Remaining), path, s.Consumed);
            var shape = new byte[length];
            s.ReadFully(shape);
            (string name, CollectionOptions options) = SchemaOperations.ReadCreate(shape);
            int records = ReadInt32(s);
            CheckCount(records, int.MaxValue, path, s.Consumed);
            shapes.Add((name, options, records));
        }

        CheckTrailer(s);
        return new Manifest(version, sequence, lsn, created, shapes);
    }

    /// <summary>The latest creation time a MANIFEST may hold: <see cref="DateTimeOffset.MaxValue"/> in µs since the Unix epoch.</summary>
    private static readonly long MaxCreatedMicros = (DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    private sealed record Manifest(ushort Version, long Sequence, long CoveredLsn, DateTimeOffset Created, List<(string Name, CollectionOptions Options, int Count)> Collections);

    /// <summary>
    /// Streams the capture's records, one at a time, each encoded in place into the stream's pooled buffer: nothing is
    /// allocated per record (a record's metadata is encoded into one scratch buffer reused for every record).
    /// </summary>
    /// <exception cref="InvalidOperationException">The capture yielded another number of records than it counted (a bug: the checkpoint fails).</exception>
    private static void WriteRecords(ChecksumWriteStream s, CollectionCapture capture)
    {
        bool vectors = !capture.VectorsInIndex; // the index file, written just before, holds them otherwise
        Span<byte> head = s.GetSpan(24);
        BinaryPrimitives.WriteUInt64LittleEndian(head, RecordsMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(head[8..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(head[10..], vectors ? (ushort)0 : VectorsInIndexFlag);
        BinaryPrimitives.WriteInt32LittleEndian(head[12..], capture.RecordCount);
        BinaryPrimitives.WriteInt32LittleEndian(head[16..], capture.HighWater);
        BinaryPrimitives.WriteInt32LittleEndian(head[20..], capture.FreeSlots.Count);
        s.Advance(24);
        foreach (int slot in capture.FreeSlots)
        {
            WriteInt32(s, slot);
        }

        var metadata = new ArrayBufferWriter<byte>(256);
        int written = 0;
        foreach (CapturedRecord record in capture.Records(vectors))
        {
            int idBytes = Encoding.UTF8.GetByteCount(record.Id.Span); // at most ushort.MaxValue: ids are validated on the way in
            Span<byte> recordHead = s.GetSpan(6 + idBytes);
            BinaryPrimitives.WriteInt32LittleEndian(recordHead, record.Slot);
            BinaryPrimitives.WriteUInt16LittleEndian(recordHead[4..], (ushort)idBytes);
            s.Advance(6 + Encoding.UTF8.GetBytes(record.Id.Span, recordHead[6..]));
            if (vectors)
            {
                s.Write(MemoryMarshal.AsBytes(record.Vector.Span));
            }

            metadata.ResetWrittenCount();
            MetadataCodec.Encode(record.Metadata, metadata);
            WriteInt32(s, metadata.WrittenCount);
            s.Write(metadata.WrittenSpan);
            written++;
        }

        if (written != capture.RecordCount)
        {
            throw new InvalidOperationException(
                $"Collection '{capture.Name}': the capture at version {capture.Version} yielded {written} records but counted {capture.RecordCount}; the checkpoint is abandoned.");
        }
    }

    private static void WriteInt32(ChecksumWriteStream s, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(s.GetSpan(4), value);
        s.Advance(4);
    }

    /// <summary>Where a records file's vectors come from when it omits them: the collection's loaded index.</summary>
    /// <param name="Index">The index loaded from the checkpoint (null: it stores none, a flat index).</param>
    /// <param name="IndexPath">The index file (named in errors).</param>
    /// <param name="OmitIndexedVectors">Give records whose vector the index holds as given no vector of their own.</param>
    private sealed record VectorSource(OxiVec.Indexing.IVectorIndex? Index, string IndexPath, bool OmitIndexedVectors)
    {
        /// <summary>Whether records are given no vector of their own (the index holds them as given and the caller asked so).</summary>
        public bool Omits => OmitIndexedVectors && Index is { HoldsVectorsAsGiven: true };
    }

    private static CollectionImage ReadRecords(ChecksumReadStream s, int dimension, int expected, VectorSource source, CancellationToken cancellationToken)
    {
        string path = s.Path;
        Span<byte> head = stackalloc byte[16];
        s.ReadFully(head);
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(head[8..]);
        if (BinaryPrimitives.ReadUInt64LittleEndian(head) != RecordsMagic || version is < FirstRecordsVersion or > Version)
        {
            throw new InvalidDataException(
                $"'{path}' is not a checkpoint records file of a version this build reads ({FirstRecordsVersion} to {Version}): magic {BinaryPrimitives.ReadUInt64LittleEndian(head):x16}, version {version} at offset 8.");
        }

        ushort flags = version == FirstRecordsVersion ? (ushort)0 : BinaryPrimitives.ReadUInt16LittleEndian(head[10..]);
        if ((flags & ~VectorsInIndexFlag) != 0)
        {
            throw new InvalidDataException($"'{path}' has unknown records-file flags 0x{flags:x4} at offset 10.");
        }

        bool vectorsInFile = (flags & VectorsInIndexFlag) == 0;
        OxiVec.Indexing.IVectorIndex? index = source.Index;
        if (!vectorsInFile && (index is null || !index.HoldsVectorsAsGiven || index.Dimension != dimension))
        {
            string held = index is null ? "no index snapshot" : $"a {index.Dimension}-dimension {index.Metric} index that {(index.HoldsVectorsAsGiven ? "holds" : "does not hold")} its vectors as given";
            throw new InvalidDataException(
                $"'{path}' omits its vectors (flags 0x{flags:x4} at offset 10), but '{source.IndexPath}' holds {held}: the vectors are nowhere.");
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(head[12..]);
        if (count != expected)
        {
            throw new InvalidDataException($"'{path}' holds {count} records; the manifest says {expected}.");
        }

        // Every record takes at least its slot, id length, vector (when present) and metadata length: the file's length bounds the count.
        long minimumRecord = 4 + 2 + (vectorsInFile ? 4L * dimension : 0) + 4;
        CheckCount(count, (int)Math.Min(int.MaxValue, s.Remaining / minimumRecord), path, 12);
        int highWater = ReadInt32(s);
        CheckCount(highWater, int.MaxValue, path, s.Consumed);
        int freeCount = ReadInt32(s);
        CheckCount(freeCount, (int)Math.Min(highWater, s.Remaining / 4), path, s.Consumed);
        var free = new int[freeCount];
        for (int i = 0; i < freeCount; i++)
        {
            free[i] = ReadInt32(s);
            CheckCount(free[i], highWater - 1, path, s.Consumed);
        }

        var records = new List<SlottedRecord>(count);
        Span<byte> idLength = stackalloc byte[2];
        bool omits = source.Omits;
        float[]? skipped = vectorsInFile && omits ? new float[dimension] : null; // a version 1 file's vectors, read past
        for (int i = 0; i < count; i++)
        {
            if ((i & 4095) == 4095)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            long at = s.Consumed;
            int slot = ReadInt32(s);
            s.ReadFully(idLength);
            var id = new byte[BinaryPrimitives.ReadUInt16LittleEndian(idLength)];
            s.ReadFully(id);
            float[] vector;
            if (vectorsInFile)
            {
                vector = skipped ?? new float[dimension];
                s.ReadFully(MemoryMarshal.AsBytes(vector.AsSpan()));
                vector = omits ? [] : vector;
            }
            else if (!index!.Contains(slot))
            {
                throw new InvalidDataException(
                    $"'{path}': record {i} at offset {at} names slot {slot}, which '{source.IndexPath}' does not hold live: its vector, omitted from the records file, is missing.");
            }
            else if (omits)
            {
                vector = [];
            }
            else
            {
                vector = new float[dimension];
                index!.CopyVector(slot, vector);
            }

            int metadataLength = ReadInt32(s);
            CheckCount(metadataLength, (int)Math.Min(16 << 20, s.Remaining), path, s.Consumed);
            var metadata = new byte[metadataLength];
            s.ReadFully(metadata);
            try
            {
                records.Add(new SlottedRecord(slot, new VectorRecord(Encoding.UTF8.GetString(id), vector, MetadataCodec.Decode(metadata))));
            }
            catch (Exception ex) when (ex is InvalidDataException or ArgumentException)
            {
                throw new InvalidDataException($"'{path}': record {i} at offset {at} does not decode: {ex.Message}", ex);
            }
        }

        CheckTrailer(s);
        return new CollectionImage(records, highWater, free, []);
    }

    /// <summary>The index snapshot, or null when the checkpoint stores none (a flat index: rebuilt from the records).</summary>
    private static OxiVec.Indexing.IVectorIndex? ReadIndex(ChecksumReadStream s)
    {
        if (s.Remaining == sizeof(uint))
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

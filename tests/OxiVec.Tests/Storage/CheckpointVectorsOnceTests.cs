using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using OxiVec.Indexing;
using OxiVec.Recovery;
using OxiVec.Replication;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
using OxiVec.Tests.Replication;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>
/// A checkpoint writes each vector once: when the index snapshot holds the vectors as given (HNSW, Euclidean or dot
/// product) the records file (version 2, flag bit 0) omits them and every reader takes them from the loaded index;
/// cosine and flat collections keep them in the records. Every reader (open, point-in-time recovery, a standby's base
/// backup, export) gets every vector and metadata bit for bit; version 1 files still open; a damaged or malformed
/// version 2 file is refused naming the file and the offset.
/// </summary>
/// <remarks>
/// Not run alongside other classes: the base-backup test waits on the replication harness's fixed timeouts, which a
/// fully loaded machine (every class at once on two cores) has been seen to exceed.
/// </remarks>
[Collection(nameof(CheckpointVectorsOnceTests))]
public sealed class CheckpointVectorsOnceTests
{
    private const int Dim = 24;

    public static TheoryData<DistanceMetric, IndexKind> Kinds() => new()
    {
        { DistanceMetric.Euclidean, IndexKind.Hnsw },
        { DistanceMetric.DotProduct, IndexKind.Hnsw },
        { DistanceMetric.Cosine, IndexKind.Hnsw },
        { DistanceMetric.Euclidean, IndexKind.Flat },
        { DistanceMetric.DotProduct, IndexKind.Flat },
        { DistanceMetric.Cosine, IndexKind.Flat },
    };

    private static VectorDatabaseOptions Options() => new()
    {
        Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 64 << 10, CheckpointInterval = 1_000_000, RetentionPolicy = RetentionPolicy.KeepAll },
    };

    /// <summary>A vector whose bits matter: negative zero, subnormals, values one ulp apart (a unit-length scaling or a float round trip would change them).</summary>
    internal static float[] VectorOf(int id, int generation, int dimension = Dim)
    {
        var v = new float[dimension];
        var random = new Random((id * 7919) + generation);
        for (int i = 0; i < dimension; i++)
        {
            v[i] = (float)((random.NextDouble() * 200) - 100) + (1e-7f * i);
        }

        v[0] = id + (generation * 0.5f) + 3.25f; // never all zero (cosine)
        v[1] = -0f;
        v[2] = float.Epsilon * ((id % 5) + 1); // subnormal
        v[3] = BitConverter.Int32BitsToSingle(0x3F800001 + (id % 1000)); // 1 + a few ulps
        return v;
    }

    internal static Dictionary<string, MetadataValue> MetadataOf(int id, int generation) => new()
    {
        ["id"] = (long)id,
        ["gen"] = (long)generation,
        ["title"] = MetadataValue.From($"doc {id}/{generation}"),
        ["score"] = id / 7.0,
        ["tags"] = MetadataValue.From(["a", $"t{id % 5}"]),
    };

    /// <summary>
    /// Inserts, deletes, replaces (a new slot; the old one retired, released and reused) and inserts again into
    /// <paramref name="collection"/>; <paramref name="expected"/> follows: id to (id number, generation).
    /// </summary>
    internal static void Churn(VectorDatabase db, string collection, Dictionary<string, (int Id, int Generation)> expected, int count = 300, int dimension = Dim)
    {
        void Put(int i, int generation)
        {
            db.Upsert(collection, $"v{i:D4}", VectorOf(i, generation, dimension), MetadataOf(i, generation));
            expected[$"v{i:D4}"] = (i, generation);
        }

        for (int i = 0; i < count; i++)
        {
            Put(i, 0);
        }

        for (int i = 0; i < count; i += 3)
        {
            Assert.True(db.Delete(collection, $"v{i:D4}"));
            expected.Remove($"v{i:D4}");
        }

        for (int i = 1; i < count; i += 3)
        {
            Put(i, 1);
        }

        for (int i = count; i < count + (count / 5); i++)
        {
            Put(i, 0); // reuses released slots
        }

        for (int i = 2; i < count; i += 9)
        {
            Assert.True(db.Delete(collection, $"v{i:D4}"));
            expected.Remove($"v{i:D4}");
        }
    }

    private static void AssertBitwise(float[] expected, ReadOnlyMemory<float> actual, string context) =>
        Assert.True(
            expected.Select(BitConverter.SingleToInt32Bits).SequenceEqual(actual.ToArray().Select(BitConverter.SingleToInt32Bits)),
            $"{context}: the vector differs from the one written");

    private static void AssertMetadata(int id, int generation, IReadOnlyDictionary<string, MetadataValue> actual, string context) =>
        Assert.True(MetadataCodec.Encode(MetadataOf(id, generation)).AsSpan().SequenceEqual(MetadataCodec.Encode(actual)), $"{context}: the metadata differs");

    /// <summary>Every record of <paramref name="collection"/> bit for bit, by Get and by Export, and nothing else.</summary>
    internal static void AssertHolds(VectorDatabase db, string collection, Dictionary<string, (int Id, int Generation)> expected, int dimension = Dim)
    {
        Assert.Equal(expected.Count, db.Count(collection));
        foreach ((string key, (int id, int generation)) in expected)
        {
            VectorRecord record = db.Get(collection, key) ?? throw new InvalidOperationException($"{collection}/{key} is missing");
            AssertBitwise(VectorOf(id, generation, dimension), record.Vector, $"{collection}/{key}");
            AssertMetadata(id, generation, record.Metadata, $"{collection}/{key}");
        }

        IReadOnlyList<VectorRecord> exported = db.Export(collection);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), exported.Select(r => r.Id).Order(StringComparer.Ordinal));
        foreach (VectorRecord r in exported)
        {
            (int id, int generation) = expected[r.Id];
            AssertBitwise(VectorOf(id, generation, dimension), r.Vector, $"export {collection}/{r.Id}");
        }

        (string probe, (int probeId, int probeGeneration)) = expected.First();
        Assert.Equal(probe, db.Search(collection, VectorOf(probeId, probeGeneration, dimension), 1, new VectorSearchOptions { Exact = true })[0].Id);
    }

    private static bool OmitsVectors(DistanceMetric metric, IndexKind kind) => kind == IndexKind.Hnsw && metric != DistanceMetric.Cosine;

    private static (ushort Version, ushort Flags) Header(string recordsFile)
    {
        byte[] head = new byte[12];
        using (FileStream f = File.OpenRead(recordsFile))
        {
            f.ReadExactly(head);
        }

        return (BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(8)), BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(10)));
    }

    /// <summary>The length the records file of <paramref name="expected"/> has by the documented layout, with or without the vectors.</summary>
    private static long ExpectedRecordsLength(string recordsFile, Dictionary<string, (int Id, int Generation)> expected, bool vectors)
    {
        byte[] head = new byte[24];
        using (FileStream f = File.OpenRead(recordsFile))
        {
            f.ReadExactly(head);
        }

        long length = 24 + (4L * BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(20))) + 4;
        foreach ((string key, (int id, int generation)) in expected)
        {
            length += 4 + 2 + Encoding.UTF8.GetByteCount(key) + (vectors ? 4L * Dim : 0) + 4 + MetadataCodec.Encode(MetadataOf(id, generation)).Length;
        }

        return length;
    }

    private static CheckpointEntry Entry(CheckpointInfo info) => new(info.Sequence, info.CoveredLsn, info.Path);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void CheckpointAndReopen_WithMetadataDeletesAndReusedSlots_GivesEveryVectorAndMetadataBitForBit_VectorsWrittenOnce(DistanceMetric metric, IndexKind kind)
    {
        using var temp = new TempDirectory();
        var expected = new Dictionary<string, (int Id, int Generation)>(StringComparer.Ordinal);
        CheckpointInfo info;
        using (var db = VectorDatabase.Open(temp.Path, Options()))
        {
            db.CreateCollection("c", new CollectionOptions(Dim) { Metric = metric, Index = kind });
            Churn(db, "c", expected);
            info = db.Checkpoint();
        }

        string records = Path.Combine(info.Path, "c0.records");
        bool omitted = OmitsVectors(metric, kind);
        Assert.Equal(((ushort)2, omitted ? (ushort)1 : (ushort)0), Header(records));
        Assert.Equal(ExpectedRecordsLength(records, expected, vectors: !omitted), new FileInfo(records).Length);

        // Every reader of the checkpoint: with every vector (point-in-time recovery, tools), or leaving those the index holds to it (open).
        CheckpointData data = CheckpointFiles.Read(Entry(info));
        CheckpointCollection loaded = data.Collections.Single();
        Assert.True(loaded.Image.HighWater < 300 + 100 + 60, $"slots were reused (high-water mark {loaded.Image.HighWater})");
        Assert.Equal(expected.Count, loaded.Records.Count());
        foreach (VectorRecord r in loaded.Records)
        {
            (int id, int generation) = expected[r.Id];
            AssertBitwise(VectorOf(id, generation), r.Vector, $"checkpoint record {r.Id}");
            AssertMetadata(id, generation, r.Metadata, $"checkpoint record {r.Id}");
        }

        loaded.Index?.Dispose();
        CheckpointData lean = CheckpointFiles.Read(Entry(info), omitIndexedVectors: true);
        Assert.All(lean.Collections.Single().Records, r => Assert.Equal(omitted ? 0 : Dim, r.Vector.Length));
        lean.Collections.Single().Index?.Dispose();

        using (var reopened = VectorDatabase.Open(temp.Path, Options()))
        {
            Assert.Equal(info.CoveredLsn, reopened.Recovery.CheckpointLsn);
            Assert.Equal(0, reopened.Recovery.AppliedEntries); // the checkpoint alone holds everything
            AssertHolds(reopened, "c", expected);

            // Writes after the restore reuse its free slots; a checkpoint of the restored state and a reopen from it.
            for (int i = 3; i < 60; i += 3)
            {
                reopened.Upsert("c", $"v{i:D4}", VectorOf(i, 2), MetadataOf(i, 2));
                expected[$"v{i:D4}"] = (i, 2);
            }

            info = reopened.Checkpoint();
        }

        Assert.Equal(ExpectedRecordsLength(Path.Combine(info.Path, "c0.records"), expected, vectors: !omitted), new FileInfo(Path.Combine(info.Path, "c0.records")).Length);
        using var again = VectorDatabase.Open(temp.Path, Options());
        Assert.Equal(0, again.Recovery.AppliedEntries);
        AssertHolds(again, "c", expected);
    }

    [Fact]
    public void EuclideanHnswCheckpoint_HoldsEachVectorOnce_AboutHalfTheBytesOfTwoCopies()
    {
        const int Count = 1_000, Dimension = 256;
        using var temp = new TempDirectory();
        using var db = VectorDatabase.Open(temp.Path, Options());
        db.CreateCollection("e", new CollectionOptions(Dimension) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Hnsw });
        db.InsertBatch("e", Enumerable.Range(0, Count).Select(i => new VectorRecord($"v{i}", VectorOf(i, 0, Dimension), new Dictionary<string, MetadataValue>())));
        CheckpointInfo info = db.Checkpoint();

        long vectorBytes = (long)Count * Dimension * sizeof(float);
        long recordsBytes = new FileInfo(Path.Combine(info.Path, "c0.records")).Length;
        long indexBytes = new FileInfo(Path.Combine(info.Path, "c0.index")).Length;
        Assert.True(indexBytes > vectorBytes, $"the index snapshot holds every vector ({indexBytes} bytes)");
        // Records without vectors: slot, id, metadata length and the empty metadata's blob each, and the header and trailer.
        long idBytes = Enumerable.Range(0, Count).Sum(i => (long)$"v{i}".Length);
        int emptyMetadata = MetadataCodec.Encode(new Dictionary<string, MetadataValue>()).Length;
        Assert.Equal(24 + (Count * (4 + 2 + 4 + emptyMetadata)) + idBytes + 4, recordsBytes);

        // Written with the vectors in both files, as before, the checkpoint would be vectorBytes larger.
        double ratio = (double)info.Bytes / (info.Bytes + vectorBytes);
        Assert.True(ratio < 0.56, $"the checkpoint wrote {info.Bytes} bytes; with a second copy of the vectors {info.Bytes + vectorBytes} (ratio {ratio:F3})");
    }

    [Fact]
    public void PointInTimeRecovery_FromACheckpointWithoutRecordVectors_RebuildsEveryVectorAndMetadataBitForBit()
    {
        using var temp = new TempDirectory();
        string data = temp.Sub("data");
        var euclidean = new Dictionary<string, (int Id, int Generation)>(StringComparer.Ordinal);
        var cosine = new Dictionary<string, (int Id, int Generation)>(StringComparer.Ordinal);
        CheckpointInfo info;
        long target;
        using (var db = VectorDatabase.Open(data, Options()))
        {
            db.CreateCollection("e", new CollectionOptions(Dim) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Hnsw });
            db.CreateCollection("k", new CollectionOptions(Dim) { Metric = DistanceMetric.Cosine, Index = IndexKind.Hnsw });
            Churn(db, "e", euclidean, 150);
            Churn(db, "k", cosine, 150);
            info = db.Checkpoint();
            for (int i = 500; i < 520; i++)
            {
                db.Upsert("e", $"v{i:D4}", VectorOf(i, 0), MetadataOf(i, 0));
                euclidean[$"v{i:D4}"] = (i, 0);
            }

            target = db.Wal.LastLsn;
            db.Upsert("e", "v0500", VectorOf(500, 9), MetadataOf(500, 9)); // after the target: not restored
        }

        Assert.Equal(((ushort)2, (ushort)1), Header(Path.Combine(info.Path, "c0.records")));
        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = data });
        using VectorDatabase asOf = manager.RecoverToPointInTime(RecoveryTarget.ToLsn(target), temp.Sub("pitr"), Options());
        Assert.Equal(info.CoveredLsn, manager.GetRecoveryStats().CheckpointLsn); // built from the checkpoint, not from the start of the WAL
        AssertHolds(asOf, "e", euclidean);
        AssertHolds(asOf, "k", cosine);
    }

    [Fact]
    public async Task StandbyBaseBackup_OfACheckpointWithoutRecordVectors_OpensWithEveryVectorAndMetadataBitForBit()
    {
        await using var h = new ReplicationHarness();
        var euclidean = new Dictionary<string, (int Id, int Generation)>(StringComparer.Ordinal);
        var dot = new Dictionary<string, (int Id, int Generation)>(StringComparer.Ordinal);
        var cosine = new Dictionary<string, (int Id, int Generation)>(StringComparer.Ordinal);
        h.Primary.CreateCollection("e", new CollectionOptions(Dim) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Hnsw });
        h.Primary.CreateCollection("d", new CollectionOptions(Dim) { Metric = DistanceMetric.DotProduct, Index = IndexKind.Hnsw });
        h.Primary.CreateCollection("k", new CollectionOptions(Dim) { Metric = DistanceMetric.Cosine, Index = IndexKind.Hnsw });
        Churn(h.Primary, "e", euclidean, 120);
        Churn(h.Primary, "d", dot, 120);
        Churn(h.Primary, "k", cosine, 120);
        CheckpointInfo info = h.Primary.Checkpoint();
        Assert.Equal(((ushort)2, (ushort)1), Header(Path.Combine(info.Path, "c0.records")));
        Assert.Equal(((ushort)2, (ushort)1), Header(Path.Combine(info.Path, "c1.records")));
        Assert.Equal(((ushort)2, (ushort)0), Header(Path.Combine(info.Path, "c2.records")));

        StandbyReceiver standby = await h.StartStandbyAsync("a");
        Assert.Equal(1, standby.BaseBackups);
        await h.CaughtUpAsync(standby);
        // Opened from the checkpoint it received (this one, or one the primary took for the backup: written the same way).
        Assert.True(standby.Database.Recovery.CheckpointLsn >= info.CoveredLsn, $"the standby opened from LSN {standby.Database.Recovery.CheckpointLsn}");
        AssertHolds(standby.Database, "e", euclidean);
        AssertHolds(standby.Database, "d", dot);
        AssertHolds(standby.Database, "k", cosine);
    }

    /// <summary>
    /// The operations that wrote <see cref="CheckpointVersion1Fixture"/> (three collections of 8 dimensions, a
    /// checkpoint, then writes the WAL holds after it); fills <paramref name="expected"/> by collection.
    /// </summary>
    private static void FixtureOperations(VectorDatabase db, Dictionary<string, Dictionary<string, (int Id, int Generation)>> expected)
    {
        db.CreateCollection("e", new CollectionOptions(8) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Hnsw });
        db.CreateCollection("k", new CollectionOptions(8) { Metric = DistanceMetric.Cosine, Index = IndexKind.Hnsw });
        db.CreateCollection("f", new CollectionOptions(8) { Metric = DistanceMetric.DotProduct, Index = IndexKind.Flat });
        foreach (string name in new[] { "e", "k", "f" })
        {
            expected[name] = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
            Churn(db, name, expected[name], 24, 8);
        }

        db.Checkpoint();
        for (int i = 100; i < 104; i++)
        {
            db.Upsert("e", $"v{i:D4}", VectorOf(i, 0, 8), MetadataOf(i, 0));
            expected["e"][$"v{i:D4}"] = (i, 0);
        }

        Assert.True(db.Delete("e", "v0001"));
        expected["e"].Remove("v0001");
    }

    private static void AssertFixtureHolds(VectorDatabase db, Dictionary<string, Dictionary<string, (int Id, int Generation)>> expected)
    {
        foreach ((string name, Dictionary<string, (int, int)> records) in expected)
        {
            AssertHolds(db, name, records, 8);
        }
    }

    [Fact]
    public void Version1DataDirectory_OfThePreviousBuild_OpensAndRecoversToAPointInTimeBitForBit_AndItsNextCheckpointWritesVersion2()
    {
        using var temp = new TempDirectory();
        string old = temp.Sub("old");
        Directory.CreateDirectory(old);
        using (var gzip = new GZipStream(new MemoryStream(Convert.FromBase64String(CheckpointVersion1Fixture.DataDirectory)), CompressionMode.Decompress))
        {
            TarFile.ExtractToDirectory(gzip, old, overwriteFiles: false);
        }

        string checkpoint = Assert.Single(Directory.GetDirectories(Path.Combine(old, CheckpointFiles.DirectoryName)));
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(((ushort)1, (ushort)0), Header(Path.Combine(checkpoint, $"c{c}.records"))); // version 1: every vector in the records
        }

        // What the directory holds: the same operations, run by this build.
        var expected = new Dictionary<string, Dictionary<string, (int Id, int Generation)>>(StringComparer.Ordinal);
        using (var fresh = VectorDatabase.Open(temp.Sub("fresh"), Options()))
        {
            FixtureOperations(fresh, expected);
        }

        long last;
        using (var opened = VectorDatabase.Open(old, Options()))
        {
            Assert.True(opened.Recovery.CheckpointLsn > 0, "opened from the version 1 checkpoint");
            Assert.True(opened.Recovery.AppliedEntries > 0, "the writes after it replayed from the WAL");
            AssertFixtureHolds(opened, expected);
            last = opened.Wal.LastLsn;
        }

        // Point-in-time recovery reads the version 1 records with their vectors.
        var manager = new CrashRecoveryManager(new RecoveryConfig { DataDir = old });
        using (VectorDatabase asOf = manager.RecoverToPointInTime(RecoveryTarget.ToLsn(last), temp.Sub("pitr"), Options()))
        {
            Assert.True(manager.GetRecoveryStats().CheckpointLsn > 0);
            AssertFixtureHolds(asOf, expected);
        }

        CheckpointInfo info;
        using (var opened = VectorDatabase.Open(old, Options()))
        {
            info = opened.Checkpoint();
        }

        Assert.Equal(((ushort)2, (ushort)1), Header(Path.Combine(info.Path, "c0.records"))); // "e" (collections by name): Euclidean HNSW, vectors in the index only
        Assert.Equal(((ushort)2, (ushort)0), Header(Path.Combine(info.Path, "c1.records"))); // "f": flat, no index snapshot
        Assert.Equal(((ushort)2, (ushort)0), Header(Path.Combine(info.Path, "c2.records"))); // "k": cosine, the index holds unit vectors
        using var again = VectorDatabase.Open(old, Options());
        Assert.Equal(info.CoveredLsn, again.Recovery.CheckpointLsn);
        Assert.Equal(0, again.Recovery.AppliedEntries);
        AssertFixtureHolds(again, expected);
    }

    /// <summary>Two checkpoints of a Euclidean HNSW collection (records without vectors) and a cosine one, and writes after them.</summary>
    private static (CheckpointInfo First, CheckpointInfo Second, Dictionary<string, (int, int)> Expected) TwoCheckpoints(string dir)
    {
        var expected = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        using var db = VectorDatabase.Open(dir, Options());
        db.CreateCollection("c", new CollectionOptions(Dim) { Metric = DistanceMetric.Euclidean, Index = IndexKind.Hnsw });
        db.CreateCollection("k", new CollectionOptions(Dim) { Metric = DistanceMetric.Cosine, Index = IndexKind.Hnsw });
        Churn(db, "c", expected, 120);
        CheckpointInfo first = db.Checkpoint();
        for (int i = 200; i < 240; i++)
        {
            db.Upsert("c", $"v{i:D4}", VectorOf(i, 0), MetadataOf(i, 0));
            db.Upsert("k", $"v{i:D4}", VectorOf(i, 0), MetadataOf(i, 0));
            expected[$"v{i:D4}"] = (i, 0);
        }

        CheckpointInfo second = db.Checkpoint();
        for (int i = 240; i < 250; i++)
        {
            db.Upsert("c", $"v{i:D4}", VectorOf(i, 0), MetadataOf(i, 0));
            expected[$"v{i:D4}"] = (i, 0);
        }

        return (first, second, expected);
    }

    /// <summary>Rewrites a checkpoint file after <paramref name="change"/> with a valid CRC-32C trailer: malformed, not damaged.</summary>
    private static void Reseal(string path, Func<byte[], byte[]> change)
    {
        byte[] bytes = change(File.ReadAllBytes(path));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), WalFormat.Crc32C(0, bytes.AsSpan(0, bytes.Length - 4)));
        File.WriteAllBytes(path, bytes);
    }

    public static TheoryData<string> Damages() =>
    [
        "truncated", "flipped-byte", "truncated-resealed", "slot-not-in-index", "flag-on-a-cosine-file", "unknown-flag", "unknown-version",
    ];

    [Theory]
    [MemberData(nameof(Damages))]
    public void DamagedOrMalformedRecordsFileWithoutVectors_IsRefusedNamingTheFileAndOffset_AndOpenFallsBackToTheOlderCheckpoint(string damage)
    {
        using var temp = new TempDirectory();
        (CheckpointInfo first, CheckpointInfo second, Dictionary<string, (int, int)> expected) = TwoCheckpoints(temp.Path);
        string euclidean = Path.Combine(second.Path, "c0.records");
        string file = damage == "flag-on-a-cosine-file" ? Path.Combine(second.Path, "c1.records") : euclidean;
        Assert.Equal(((ushort)2, (ushort)1), Header(euclidean));
        Assert.Equal(((ushort)2, (ushort)0), Header(Path.Combine(second.Path, "c1.records")));
        string expectedText;
        switch (damage)
        {
            case "truncated": // a torn file: its trailer is no longer its checksum
                File.WriteAllBytes(file, File.ReadAllBytes(file)[..^7]);
                expectedText = "fails its checksum (trailer at offset";
                break;
            case "flipped-byte":
                byte[] bytes = File.ReadAllBytes(file);
                bytes[bytes.Length / 2] ^= 0x10;
                File.WriteAllBytes(file, bytes);
                expectedText = "fails its checksum (trailer at offset";
                break;
            case "truncated-resealed": // a file cut in the middle of its records, behind a valid checksum
                Reseal(file, b => b[..((b.Length / 2) + 4)]);
                expectedText = "offset";
                break;
            case "slot-not-in-index": // the first record names a slot past the high-water mark: the index holds no vector for it
                Reseal(file, b =>
                {
                    int firstRecord = 24 + (4 * BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(20)));
                    BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(firstRecord), BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(16)) + 5);
                    return b;
                });
                expectedText = "does not hold live";
                break;
            case "flag-on-a-cosine-file": // a cosine index holds unit vectors: it cannot stand in for the records' vectors
                Reseal(file, b =>
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(10), 1);
                    return b;
                });
                expectedText = "omits its vectors (flags 0x0001 at offset 10)";
                break;
            case "unknown-flag":
                Reseal(file, b =>
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(10), 3);
                    return b;
                });
                expectedText = "unknown records-file flags 0x0003 at offset 10";
                break;
            default:
                Reseal(file, b =>
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), 3);
                    return b;
                });
                expectedText = "version 3 at offset 8";
                break;
        }

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => CheckpointFiles.Read(Entry(second)));
        Assert.Contains($"'{file}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(expectedText, error.Message, StringComparison.Ordinal);

        using var reopened = VectorDatabase.Open(temp.Path, Options());
        Assert.Equal(first.Path, reopened.LastCheckpoint!.Path);
        Assert.Equal(expected.Count, reopened.Count("c"));
        foreach ((string key, (int id, int generation)) in expected)
        {
            AssertBitwise(VectorOf(id, generation), reopened.Get("c", key)!.Vector, key);
        }
    }
}

/// <summary>Runs <see cref="CheckpointVectorsOnceTests"/> with no other test class in parallel.</summary>
[CollectionDefinition(nameof(CheckpointVectorsOnceTests), DisableParallelization = true)]
public sealed class CheckpointVectorsOnceSerial;

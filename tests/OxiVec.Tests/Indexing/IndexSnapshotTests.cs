using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using OxiVec.Indexing;
using OxiVec.Wal;
using static OxiVec.Tests.Indexing.IndexTestData;

namespace OxiVec.Tests.Indexing;

public sealed class IndexSnapshotTests
{
    private const int HeaderSize = 12;
    private const int SectionHeaderSize = 12;

    [Theory]
    [InlineData(DistanceMetric.Cosine)]
    [InlineData(DistanceMetric.DotProduct)]
    [InlineData(DistanceMetric.Euclidean)]
    public void Flat_RoundTripAfterRemoves_AnswersAndContinuesIdentically(DistanceMetric metric)
    {
        const int Dimension = 24, Count = 3_000;
        var random = new Random(1);
        using var original = new FlatIndex(Dimension, metric);
        for (int id = 0; id < Count; id++)
        {
            if (id % 50 != 7)
            {
                original.Add(id, Gaussian(random, Dimension));
            }
        }

        for (int id = 0; id < Count; id += 9)
        {
            if (original.Contains(id))
            {
                original.Remove(id);
            }

            if (id == 900)
            {
                // Part of the released ids is taken before the snapshot, the rest is still pending.
                Assert.NotEmpty(original.TakeReleasedIds());
            }
        }

        byte[] snapshot = Snapshot(original);
        using var loaded = Assert.IsType<FlatIndex>(VectorIndexSnapshot.ReadSnapshot(new MemoryStream(snapshot)));
        Assert.Equal(original.Dimension, loaded.Dimension);
        Assert.Equal(original.Metric, loaded.Metric);
        Assert.Equal(original.Count, loaded.Count);
        Assert.All(Enumerable.Range(-1, Count + 2), id => Assert.Equal(original.Contains(id), loaded.Contains(id)));
        Assert.Equal(snapshot, Snapshot(loaded));

        float[][] queries = Enumerable.Range(0, 20).Select(_ => Gaussian(random, Dimension)).ToArray();
        AssertSameSearches(original, loaded, queries, 10, SearchOptions.Default, new SearchOptions { Filter = id => id % 3 == 0 });
        AssertSameSearches(original, loaded, queries, 5_000, SearchOptions.Default);

        Assert.Equal(Continue(original, 5, Dimension, Count, queries), Continue(loaded, 5, Dimension, Count, queries));
        Assert.Equal(Snapshot(original), Snapshot(loaded));
    }

    [Fact]
    public void Hnsw_RoundTrip20kx32_AnswersIdenticallyForEveryEfAndFilter()
    {
        const int Dimension = 32, Count = 20_000;
        var random = new Random(2);
        float[][] centres = Centres(random, 40, Dimension);
        using var original = new HnswIndex(Dimension, DistanceMetric.Euclidean, new HnswParameters { M = 12, EfConstruction = 60 });
        for (int id = 0; id < Count; id++)
        {
            original.Add(id, NearCentre(random, centres, 0.6f));
        }

        byte[] snapshot = Snapshot(original);
        using HnswIndex loaded = HnswIndex.ReadSnapshot(new MemoryStream(snapshot));
        loaded.ValidateInvariants();
        Assert.Equal(original.Parameters, loaded.Parameters);
        Assert.Equal(original.Count, loaded.Count);
        Assert.Equal(original.EntryPoint, loaded.EntryPoint);
        Assert.Equal(original.MaxLevel, loaded.MaxLevel);
        Assert.Equal(snapshot, Snapshot(loaded));

        float[][] queries = Clustered(random, centres, 40, 0.6f);
        AssertSameSearches(
            original,
            loaded,
            queries,
            10,
            SearchOptions.Default,
            new SearchOptions { Ef = 10 },
            new SearchOptions { Ef = 40 },
            new SearchOptions { Ef = 200 },
            new SearchOptions { Exact = true },
            new SearchOptions { Filter = id => id % 3 == 0, Ef = 32 },
            new SearchOptions { Filter = id => id % 211 == 0 });
        Assert.True(loaded.ExactFallbackCount > 0);
        Assert.Equal(original.ExactFallbackCount, loaded.ExactFallbackCount);
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine)]
    [InlineData(DistanceMetric.DotProduct)]
    [InlineData(DistanceMetric.Euclidean)]
    public void Hnsw_RoundTripWithTombstonesFreeSlotsAndPendingReleases_ContinuesIdentically(DistanceMetric metric)
    {
        const int Dimension = 16, Count = 3_000;
        var random = new Random(3);
        using var original = new HnswIndex(
            Dimension, metric, new HnswParameters { M = 8, EfConstruction = 48, EfSearch = 24, Seed = 11, CompactionThreshold = 0.2 });
        for (int id = 0; id < Count; id++)
        {
            if (id % 40 != 3)
            {
                original.Add(id, Gaussian(random, Dimension));
            }
        }

        // 25% removed: automatic compactions release slots (left pending), and the last removes stay tombstones.
        foreach (int id in Enumerable.Range(0, Count).Where(original.Contains).OrderBy(_ => random.Next()).Take(720))
        {
            original.Remove(id);
        }

        Assert.True(original.CompactionCount >= 1);
        Assert.True(original.DeletedCount > 0);
        byte[] snapshot = Snapshot(original);
        using var loaded = (HnswIndex)VectorIndexSnapshot.ReadSnapshot(new MemoryStream(snapshot));
        loaded.ValidateInvariants();
        Assert.Equal(original.DeletedCount, loaded.DeletedCount);
        Assert.Equal(original.Count, loaded.Count);
        Assert.All(Enumerable.Range(0, Count), id => Assert.Equal(original.Contains(id), loaded.Contains(id)));
        Assert.Equal(snapshot, Snapshot(loaded));

        float[][] queries = Enumerable.Range(0, 25).Select(_ => Gaussian(random, Dimension)).ToArray();
        AssertSameSearches(
            original, loaded, queries, 10, SearchOptions.Default, new SearchOptions { Ef = 100 }, new SearchOptions { Filter = id => id % 2 == 1 });

        // The same further operations (reusing released ids, removes with automatic compactions, inserts drawing
        // levels from the restored generator, an explicit compaction) give the same answers and the same graph.
        List<string> expected = Continue(original, 9, Dimension, Count, queries);
        List<string> actual = Continue(loaded, 9, Dimension, Count, queries);
        Assert.Equal(expected, actual);
        Assert.Equal(original.EntryPoint, loaded.EntryPoint);
        Assert.Equal(original.MaxLevel, loaded.MaxLevel);
        loaded.ValidateInvariants();
        Assert.Equal(Snapshot(original), Snapshot(loaded));
    }

    [Fact]
    public void EmptyIndexes_RoundTrip()
    {
        using var flat = new FlatIndex(3, DistanceMetric.Cosine);
        using var hnsw = new HnswIndex(3, DistanceMetric.Euclidean, new HnswParameters { Seed = -5, AutoCompact = false });
        foreach (IVectorIndex index in new IVectorIndex[] { flat, hnsw })
        {
            using IVectorIndex loaded = VectorIndexSnapshot.ReadSnapshot(new MemoryStream(Snapshot(index)));
            Assert.Equal(index.GetType(), loaded.GetType());
            Assert.Equal(0, loaded.Count);
            Assert.Empty(loaded.Search([1, 2, 3], 4));
            Assert.Empty(loaded.TakeReleasedIds());
            index.Add(4, [1, 0, 0]);
            loaded.Add(4, [1, 0, 0]);
            Assert.Equal(index.Search([1, 1, 0], 2), loaded.Search([1, 1, 0], 2));
            Assert.Equal(Snapshot(index), Snapshot(loaded));
        }
    }

    [Fact]
    public void SnapshotsBackToBack_ThroughANonSeekableTricklingStream_AreReadInTurn()
    {
        using HnswIndex hnsw = SmallHnsw();
        using FlatIndex flat = SmallFlat();
        var buffer = new MemoryStream();
        var writeStream = new TrickleStream(buffer, 1_000);
        hnsw.WriteSnapshot(writeStream);
        flat.WriteSnapshot(writeStream);
        buffer.WriteByte(0xEE);

        var readStream = new TrickleStream(new MemoryStream(buffer.ToArray()), 7);
        using IVectorIndex first = VectorIndexSnapshot.ReadSnapshot(readStream);
        using FlatIndex second = FlatIndex.ReadSnapshot(readStream);
        Assert.Equal(0xEE, readStream.ReadByte());
        Assert.Equal(Snapshot(hnsw), Snapshot(first));
        Assert.Equal(Snapshot(flat), Snapshot(second));
    }

    [Fact]
    public void EveryTruncation_IsRejected()
    {
        using HnswIndex hnsw = SmallHnsw();
        using FlatIndex flat = SmallFlat();
        foreach (byte[] snapshot in new[] { Snapshot(hnsw), Snapshot(flat) })
        {
            for (int length = 0; length < snapshot.Length; length++)
            {
                // Seekable (section lengths checked against what is left) and not (the data runs out).
                AssertRejected(new MemoryStream(snapshot, 0, length, writable: false), $"truncated to {length}");
                AssertRejected(new TrickleStream(new MemoryStream(snapshot, 0, length, writable: false), 5), $"truncated to {length}, not seekable");
            }
        }
    }

    [Fact]
    public void EverySingleBitFlip_IsRejected()
    {
        using HnswIndex hnsw = SmallHnsw();
        using FlatIndex flat = SmallFlat();
        foreach (byte[] snapshot in new[] { Snapshot(hnsw), Snapshot(flat) })
        {
            for (int bit = 0; bit < snapshot.Length * 8; bit++)
            {
                byte[] damaged = (byte[])snapshot.Clone();
                damaged[bit / 8] ^= (byte)(1 << (bit % 8));
                AssertRejected(new MemoryStream(damaged), $"bit {bit} flipped");
            }
        }
    }

    [Fact]
    public void RandomDamage_IsRejected()
    {
        using HnswIndex hnsw = SmallHnsw();
        byte[] snapshot = Snapshot(hnsw);
        var random = new Random(4);
        for (int round = 0; round < 3_000; round++)
        {
            byte[] damaged = (byte[])snapshot.Clone();
            int changes = random.Next(1, 6);
            for (int i = 0; i < changes; i++)
            {
                damaged[random.Next(damaged.Length)] ^= (byte)random.Next(1, 256);
            }

            AssertRejected(new MemoryStream(damaged), $"round {round}");
        }
    }

    [Fact]
    public void RandomDamageWithAValidChecksum_IsRejectedOrLoadsAConsistentIndex()
    {
        using HnswIndex hnsw = SmallHnsw();
        byte[] snapshot = Snapshot(hnsw);
        var random = new Random(5);
        int rejected = 0;
        for (int round = 0; round < 4_000; round++)
        {
            byte[] damaged = (byte[])snapshot.Clone();
            int changes = random.Next(1, 4);
            for (int i = 0; i < changes; i++)
            {
                int at = random.Next(HeaderSize, damaged.Length - 4);
                damaged[at] = random.Next(3) switch
                {
                    0 => (byte)(damaged[at] ^ (1 << random.Next(8))),
                    1 => (byte)random.Next(256),
                    _ => (byte)(damaged[at] + 1),
                };
            }

            Reseal(damaged);
            HnswIndex? loaded;
            try
            {
                loaded = HnswIndex.ReadSnapshot(new MemoryStream(damaged));
            }
            catch (InvalidDataException)
            {
                rejected++;
                continue;
            }

            // The checksum cannot catch this one: whatever loads must be a graph the index can work with.
            using (loaded)
            {
                loaded.ValidateInvariants();
                _ = loaded.Search([1, 0, 0, 0], 5);
                _ = loaded.Search([0, 1, 0, 0], 5, new SearchOptions { Filter = id => id % 2 == 0 });
                loaded.Add(500, [1, 2, 3, 4]);
                loaded.Compact();
                loaded.ValidateInvariants();
            }
        }

        Assert.InRange(rejected, 2_000, 3_999);
    }

    [Theory]
    [InlineData("version 2")]
    [InlineData("magic")]
    [InlineData("kind 9")]
    [InlineData("reserved")]
    public void BadHeader_IsRejectedEvenWithAValidChecksum(string damage)
    {
        using FlatIndex flat = SmallFlat();
        byte[] snapshot = Snapshot(flat);
        switch (damage)
        {
            case "version 2":
                BinaryPrimitives.WriteUInt16LittleEndian(snapshot.AsSpan(8), 2);
                break;
            case "magic":
                snapshot[3] = (byte)'X';
                break;
            case "kind 9":
                snapshot[10] = 9;
                break;
            default:
                snapshot[11] = 1;
                break;
        }

        Reseal(snapshot);
        InvalidDataException error = AssertRejected(new MemoryStream(snapshot), damage);
        Assert.Contains("section header", error.Message, StringComparison.Ordinal);
        if (damage == "version 2")
        {
            Assert.Contains("unsupported format version 2", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void WrongKind_IsRejectedByTheClassReaders()
    {
        using HnswIndex hnsw = SmallHnsw();
        using FlatIndex flat = SmallFlat();
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => FlatIndex.ReadSnapshot(new MemoryStream(Snapshot(hnsw))));
        Assert.Contains("holds an HNSW index, not a flat index", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => HnswIndex.ReadSnapshot(new MemoryStream(Snapshot(flat))));
    }

    [Theory]
    [InlineData("link out of range", "LINK", "neighbour 80 of slot 0 on layer 0 is outside the 80 slots")]
    [InlineData("link to a free slot", "LINK", "neighbour 7 of slot 0 on layer 0 is a free slot")]
    [InlineData("link to itself", "LINK", "of slot 0 on layer 0 is the node itself")]
    [InlineData("link twice", "LINK", "is listed twice")]
    [InlineData("degree too large", "LINK", "slot 0 has 17 links on layer 0; the maximum is 8")]
    [InlineData("links short", "LINK", "LINK")]
    [InlineData("level above top", "LEVL", "slot 0 has level")]
    [InlineData("entry point free", "META", "the entry point 7 is not a node")]
    [InlineData("state unknown", "SLOT", "slot 5 has the invalid state 3")]
    [InlineData("live count", "SLOT", "but META says")]
    [InlineData("vector NaN", "VECT", "component 2 of the vector of slot 0 is NaN")]
    [InlineData("released out of range", "RELS", "released id 80 is outside the 80 slots")]
    [InlineData("tag", "LEVL", "expected the section tag LEVL")]
    [InlineData("dimension", "META", "the dimension 0 is outside")]
    [InlineData("threshold", "META", "the compaction threshold is NaN")]
    public void StructuralDamage_IsRejectedEvenWithAValidChecksum(string damage, string section, string message)
    {
        using HnswIndex hnsw = SmallHnsw();
        byte[] snapshot = Snapshot(hnsw);
        Dictionary<string, (int Start, int Length)> sections = Sections(snapshot);
        int meta = sections["META"].Start;
        int link = sections["LINK"].Start;
        Span<byte> bytes = snapshot;

        // Slot 0 is live with at least two links on layer 0; slot 7 was never used; the highest slot is 79.
        int firstLink = link + 4;
        Assert.True(BinaryPrimitives.ReadInt32LittleEndian(bytes[link..]) >= 2);
        switch (damage)
        {
            case "link out of range":
                BinaryPrimitives.WriteInt32LittleEndian(bytes[firstLink..], 80);
                break;
            case "link to a free slot":
                BinaryPrimitives.WriteInt32LittleEndian(bytes[firstLink..], 7);
                break;
            case "link to itself":
                BinaryPrimitives.WriteInt32LittleEndian(bytes[firstLink..], 0);
                break;
            case "link twice":
                BinaryPrimitives.WriteInt32LittleEndian(bytes[(firstLink + 4)..], BinaryPrimitives.ReadInt32LittleEndian(bytes[firstLink..]));
                break;
            case "degree too large":
                BinaryPrimitives.WriteInt32LittleEndian(bytes[link..], 17);
                break;
            case "links short":
                BinaryPrimitives.WriteInt32LittleEndian(bytes[link..], BinaryPrimitives.ReadInt32LittleEndian(bytes[link..]) - 1);
                break;
            case "level above top":
                bytes[sections["LEVL"].Start] = (byte)(hnsw.MaxLevel + 1);
                break;
            case "entry point free":
                BinaryPrimitives.WriteInt32LittleEndian(bytes[(meta + 43)..], 7);
                break;
            case "state unknown":
                bytes[sections["SLOT"].Start + 5] = 3;
                break;
            case "live count":
                BinaryPrimitives.WriteInt32LittleEndian(bytes[(meta + 35)..], hnsw.Count - 1);
                break;
            case "vector NaN":
                BinaryPrimitives.WriteSingleLittleEndian(bytes[(sections["VECT"].Start + 8)..], float.NaN);
                break;
            case "released out of range":
                BinaryPrimitives.WriteInt32LittleEndian(bytes[sections["RELS"].Start..], 80);
                break;
            case "tag":
                bytes[sections["LEVL"].Start - SectionHeaderSize + 3] = (byte)'X';
                break;
            case "dimension":
                BinaryPrimitives.WriteInt32LittleEndian(bytes[meta..], 0);
                break;
            default:
                BinaryPrimitives.WriteDoubleLittleEndian(bytes[(meta + 23)..], double.NaN);
                break;
        }

        Reseal(snapshot);
        InvalidDataException error = AssertRejected(new MemoryStream(snapshot), damage);
        Assert.Contains($"(section {section}, offset ", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        if (damage is "link out of range" or "link to a free slot" or "link to itself")
        {
            Assert.EndsWith($"(section LINK, offset {firstLink}).", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task WriteSnapshot_DuringSearchesAndMutations_IsConsistent()
    {
        const int Dimension = 16;
        var random = new Random(6);
        float[][] vectors = Enumerable.Range(0, 6_000).Select(_ => Gaussian(random, Dimension)).ToArray();
        using var index = new HnswIndex(Dimension, DistanceMetric.Euclidean, new HnswParameters { M = 8, EfConstruction = 40 });
        for (int id = 0; id < 2_000; id++)
        {
            index.Add(id, vectors[id]);
        }

        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (int id = 2_000; id < vectors.Length && !stop.IsCancellationRequested; id++)
            {
                index.Add(id, vectors[id]);
                if (id % 3 == 0)
                {
                    index.Remove(id - 1_500);
                }
            }
        });
        var searcher = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Assert.Equal(5, index.Search(vectors[7], 5).Count);
            }
        });

        try
        {
            for (int round = 0; round < 15; round++)
            {
                byte[] snapshot = Snapshot(index);
                using HnswIndex loaded = HnswIndex.ReadSnapshot(new MemoryStream(snapshot));
                loaded.ValidateInvariants();
                Assert.Equal(loaded.Count, Enumerable.Range(0, vectors.Length).Count(loaded.Contains));
                Assert.Equal(snapshot, Snapshot(loaded));
            }
        }
        finally
        {
            stop.Cancel();
        }

        await Task.WhenAll(writer, searcher);
    }

    [Fact]
    public void Arguments_AreValidated()
    {
        using FlatIndex flat = SmallFlat();
        Assert.Throws<ArgumentNullException>(() => flat.WriteSnapshot(null!));
        Assert.Throws<ArgumentException>(() => flat.WriteSnapshot(new MemoryStream([], writable: false)));
        Assert.Throws<ArgumentNullException>(() => VectorIndexSnapshot.ReadSnapshot(null!));
        using var writeOnly = new TrickleStream(new MemoryStream(), 10, readable: false);
        Assert.Throws<ArgumentException>(() => HnswIndex.ReadSnapshot(writeOnly));
    }

    /// <summary>80 slots of dimension 4: 7 and 13 never used, 20-29 released (pending), 30-33 tombstones.</summary>
    private static HnswIndex SmallHnsw()
    {
        var random = new Random(7);
        var index = new HnswIndex(4, DistanceMetric.Euclidean, new HnswParameters { M = 4, EfConstruction = 16, AutoCompact = false });
        for (int id = 0; id < 80; id++)
        {
            if (id is not (7 or 13))
            {
                index.Add(id, Gaussian(random, 4));
            }
        }

        for (int id = 20; id < 30; id++)
        {
            index.Remove(id);
        }

        index.Compact();
        for (int id = 30; id < 34; id++)
        {
            index.Remove(id);
        }

        Assert.True(index.MaxLevel >= 1);
        return index;
    }

    private static FlatIndex SmallFlat()
    {
        var random = new Random(8);
        var index = new FlatIndex(3, DistanceMetric.Cosine);
        for (int id = 0; id < 30; id++)
        {
            index.Add(id, Gaussian(random, 3));
        }

        index.Remove(4);
        index.Remove(17);
        return index;
    }

    private static byte[] Snapshot(IVectorIndex index)
    {
        var stream = new MemoryStream();
        index.WriteSnapshot(stream);
        return stream.ToArray();
    }

    private static InvalidDataException AssertRejected(Stream source, string context)
    {
        try
        {
            using IVectorIndex index = VectorIndexSnapshot.ReadSnapshot(source);
        }
        catch (InvalidDataException error)
        {
            return error;
        }
        catch (Exception other)
        {
            Assert.Fail($"{context}: expected InvalidDataException, got {other}");
        }

        Assert.Fail($"{context}: the damaged snapshot was loaded");
        return null!;
    }

    private static void AssertSameSearches(
        IVectorIndex expected, IVectorIndex actual, float[][] queries, int k, params SearchOptions[] options)
    {
        foreach (SearchOptions option in options)
        {
            foreach (float[] query in queries)
            {
                IReadOnlyList<SearchHit> want = expected.Search(query, k, option);
                Assert.NotEmpty(want);
                Assert.Equal(want, actual.Search(query, k, option));
            }
        }
    }

    /// <summary>
    /// A deterministic sequence of further operations: reuse released ids, insert, remove (which may compact),
    /// compact; the log records every answer the index gives.
    /// </summary>
    private static List<string> Continue(IVectorIndex index, int seed, int dimension, int ids, float[][] queries)
    {
        var random = new Random(seed);
        var log = new List<string>();
        var reuse = new Queue<int>(index.TakeReleasedIds());
        log.Add("released " + string.Join(',', reuse));
        var live = Enumerable.Range(0, ids).Where(index.Contains).ToList();
        int next = ids;
        for (int op = 0; op < 900; op++)
        {
            if (random.Next(3) == 0)
            {
                int at = random.Next(live.Count);
                int id = live[at];
                live[at] = live[^1];
                live.RemoveAt(live.Count - 1);
                index.Remove(id);
            }
            else
            {
                int id = reuse.Count > 0 ? reuse.Dequeue() : next++;
                index.Add(id, Gaussian(random, dimension));
                live.Add(id);
            }

            if (op % 150 == 149)
            {
                IReadOnlyList<int> released = index.TakeReleasedIds();
                log.Add("released " + string.Join(',', released));
                foreach (int id in released)
                {
                    reuse.Enqueue(id);
                }

                log.Add(Describe(index.Search(queries[op % queries.Length], 10)));
            }
        }

        log.Add("compacted " + index.Compact());
        log.Add("released " + string.Join(',', index.TakeReleasedIds()));
        log.Add("count " + index.Count);
        foreach (float[] query in queries)
        {
            log.Add(Describe(index.Search(query, 10)));
            log.Add(Describe(index.Search(query, 10, new SearchOptions { Ef = 16, Filter = id => id % 4 != 0 })));
        }

        return log;
    }

    private static string Describe(IReadOnlyList<SearchHit> hits) =>
        string.Join(' ', hits.Select(h => h.Id.ToString(CultureInfo.InvariantCulture) + ":" + h.Distance.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>Where each section's content starts and how long it is (the test's own reading of the layout).</summary>
    private static Dictionary<string, (int Start, int Length)> Sections(byte[] snapshot)
    {
        var sections = new Dictionary<string, (int Start, int Length)>();
        int offset = HeaderSize;
        while (offset < snapshot.Length - sizeof(uint))
        {
            string tag = Encoding.ASCII.GetString(snapshot, offset, 4);
            int length = checked((int)BinaryPrimitives.ReadInt64LittleEndian(snapshot.AsSpan(offset + 4)));
            sections[tag] = (offset + SectionHeaderSize, length);
            offset += SectionHeaderSize + length;
        }

        Assert.Equal(snapshot.Length - sizeof(uint), offset);
        Assert.Equal(new[] { "META", "SLOT", "VECT", "LEVL", "LINK", "RELS" }, sections.Keys);
        return sections;
    }

    /// <summary>Rewrites the trailer so the checksum matches again: damage only the validation can catch.</summary>
    private static void Reseal(byte[] snapshot) =>
        BinaryPrimitives.WriteUInt32LittleEndian(
            snapshot.AsSpan(snapshot.Length - 4), WalFormat.Crc32C(0, snapshot.AsSpan(0, snapshot.Length - 4)));

    /// <summary>A stream that cannot seek and moves at most a few bytes per call.</summary>
    private sealed class TrickleStream(Stream inner, int maxChunk, bool readable = true) : Stream
    {
        public override bool CanRead => readable && inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, maxChunk));

        public override int Read(Span<byte> buffer) => inner.Read(buffer[..Math.Min(buffer.Length, maxChunk)]);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            for (int done = 0; done < count; done += maxChunk)
            {
                inner.Write(buffer, offset + done, Math.Min(maxChunk, count - done));
            }
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            for (int done = 0; done < buffer.Length; done += maxChunk)
            {
                inner.Write(buffer.Slice(done, Math.Min(maxChunk, buffer.Length - done)));
            }
        }
    }
}

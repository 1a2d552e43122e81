using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>Checkpoint files are written back to the disk window by window as they stream (never left dirty whole), and stay exact.</summary>
public sealed class CheckpointWriteBackTests
{
    [Fact]
    public void ChecksumWriteStream_WriteBackWindows_AreContiguousFromZero_EachAtLeastTheWindow_AndLeaveLessThanOneUncovered()
    {
        const long Window = 64 << 10;
        var windows = new List<(long From, long To)>();
        using var sink = new MemoryStream();
        var stream = new ChecksumWriteStream(sink) { WriteBack = (from, to) => windows.Add((from, to)), WriteBackBytes = Window };
        var random = new Random(3);
        byte[] chunk = new byte[200_000];
        for (int i = 0; i < 400; i++)
        {
            stream.Write(chunk, 0, random.Next(1, i % 10 == 0 ? chunk.Length : 100));
        }

        stream.Flush();
        Assert.NotEmpty(windows);
        long expectedFrom = 0;
        foreach ((long from, long to) in windows)
        {
            Assert.Equal(expectedFrom, from);
            Assert.True(to - from >= Window, $"window [{from}, {to}) is shorter than {Window}");
            expectedFrom = to;
        }

        Assert.InRange(stream.Written - expectedFrom, 0, Window - 1);
        Assert.Equal(stream.Written, sink.Length);
    }

    [Fact]
    public void ChecksumWriteStream_SmallLargeAndInPlaceWrites_ReachTheFileInOrder_InPiecesOfAtMostItsBuffer_WithTheirCrc()
    {
        var sink = new PieceRecorder();
        var expected = new MemoryStream();
        var random = new Random(9);
        using (var stream = new ChecksumWriteStream(sink))
        {
            for (int i = 0; i < 300; i++)
            {
                byte[] bytes = new byte[i % 50 == 0 ? ChecksumWriteStream.BufferSize + random.Next(100_000) : random.Next(1, 3_000)];
                random.NextBytes(bytes);
                expected.Write(bytes);
                if (i % 3 == 0 && bytes.Length <= ChecksumWriteStream.BufferSize)
                {
                    bytes.CopyTo(stream.GetSpan(bytes.Length));
                    stream.Advance(bytes.Length);
                }
                else
                {
                    stream.Write(bytes);
                }
            }

            Assert.True(sink.Length < expected.Length, "the last small writes are still gathered");
            stream.Flush();
            Assert.Equal(expected.Length, stream.Written);
            Assert.Equal(OxiVec.Wal.WalFormat.Crc32C(0, expected.ToArray()), stream.Crc);
        }

        Assert.Equal(expected.ToArray(), sink.ToArray());
        Assert.InRange(sink.Writes, 1, 100); // 300 writes, most of them small, reach the file in far fewer pieces
        var disposed = new ChecksumWriteStream(new MemoryStream());
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => disposed.Write([1]));
    }

    /// <summary>A memory stream that counts the writes it receives.</summary>
    private sealed class PieceRecorder : MemoryStream
    {
        public int Writes { get; private set; }

        // MemoryStream hands a span written to a subclass on to this overload.
        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes++;
            base.Write(buffer, offset, count);
        }
    }

    [Fact]
    public void Checkpoint_FilesLargerThanTheWindow_AreWrittenBackWindowByWindow_AndRecoveryHasEveryRecord()
    {
        using var temp = new TempDirectory();
        var storage = new HookedCheckpointStorage();
        const int Dim = 128, Count = 3_000; // about 1.6 MB of records and of index: several 512 KiB windows each
        var options = new VectorDatabaseOptions { Wal = WalConfig.MaximumDurability with { CheckpointInterval = int.MaxValue } };
        var random = new Random(11);
        float[][] vectors = [.. Enumerable.Range(0, Count).Select(_ => Enumerable.Range(0, Dim).Select(_ => random.NextSingle()).ToArray())];
        CheckpointInfo info;
        using (VectorDatabase db = VectorDatabase.Open(temp.Path, options, walStorage: null, storage))
        {
            db.CreateCollection("flat", new CollectionOptions(Dim) { Index = IndexKind.Flat, Metric = DistanceMetric.Euclidean });
            // Cosine: its records keep the vectors (a Euclidean HNSW collection's records leave them to the index file, too small to test windows).
            db.CreateCollection("hnsw", new CollectionOptions(Dim) { Index = IndexKind.Hnsw, Metric = DistanceMetric.Cosine });
            _ = db.InsertBatch("flat", vectors.Select((v, i) => new VectorRecord($"f{i}", v, new Dictionary<string, MetadataValue>())));
            _ = db.InsertBatch("hnsw", vectors.Select((v, i) => new VectorRecord($"h{i}", v, new Dictionary<string, MetadataValue>())));
            info = db.Checkpoint();
        }

        // Every file of a window or more was written back in contiguous windows from its start (c0: flat, c1: hnsw).
        foreach (string name in new[] { "c0.records", "c1.records", "c1.index" })
        {
            Assert.True(storage.WriteBackWindows.TryGetValue(name, out List<(long From, long To)>? windows), $"{name} was never written back");
            Assert.True(windows.Count >= 2, $"{name}: {windows.Count} window(s)");
            long expectedFrom = 0;
            foreach ((long from, long to) in windows)
            {
                Assert.Equal(expectedFrom, from);
                Assert.True(to - from >= CheckpointFiles.WriteBackBytes);
                expectedFrom = to;
            }

            long length = new FileInfo(Path.Combine(info.Path, name)).Length;
            Assert.InRange(length - expectedFrom, 0, CheckpointFiles.WriteBackBytes + 4); // the rest: the final fsync's
        }

        // Reopened from the checkpoint: exactly the records written.
        using VectorDatabase reopened = VectorDatabase.Open(temp.Path, options);
        Assert.Equal(Count, reopened.Count("flat"));
        Assert.Equal(Count, reopened.Count("hnsw"));
        Assert.Equal(vectors[1234], reopened.Get("flat", "f1234")!.Vector.ToArray());
        Assert.Equal(vectors[2999], reopened.Get("hnsw", "h2999")!.Vector.ToArray());
    }
}

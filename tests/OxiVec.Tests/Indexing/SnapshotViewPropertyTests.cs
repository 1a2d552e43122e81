using CsCheck;
using OxiVec.Indexing;

namespace OxiVec.Tests.Indexing;

/// <summary>
/// Copy-on-write snapshot views against snapshots written at the moment of capture: an index driven by random
/// operations is captured, keeps changing, and the view must still write the bytes a twin index (driven by the same
/// operations, stopped at the capture) writes. Small chunks (4 vectors, 8 slot bytes) make every view share many.
/// </summary>
public sealed class SnapshotViewPropertyTests
{
    private const int Dimension = 3;

    /// <summary>An operation: kind 0-4 add, 5-6 remove, 7 compact, 8 take released ids; <c>N</c> picks ids and vectors.</summary>
    private static readonly Gen<(int Kind, int N)> AnyOp = Gen.Select(Gen.Int[0, 8], Gen.Int[0, 1_000]);

    [Fact]
    public void ViewsCapturedThenFollowedByMutations_WriteTheBytesOfASnapshotAtCapture_AndLoadBackIdentically()
    {
        Gen.Select(AnyOp.Array[0, 60], AnyOp.Array[0, 40], AnyOp.Array[0, 40], AnyOp.Array[0, 40], Gen.Bool)
            .Sample(
                (before, between, after, last, hnsw) =>
                {
                    var live = new Driver(hnsw);
                    var atFirst = new Driver(hnsw);
                    var atSecond = new Driver(hnsw);
                    try
                    {
                        foreach (var op in before)
                        {
                            live.Apply(op);
                            atFirst.Apply(op);
                            atSecond.Apply(op);
                        }

                        IndexSnapshotView first = live.Index.CaptureSnapshot();
                        Assert.Equal(atFirst.Index.Count, first.Count);
                        foreach (var op in between)
                        {
                            live.Apply(op);
                            atSecond.Apply(op);
                        }

                        using IndexSnapshotView second = live.Index.CaptureSnapshot();
                        foreach (var op in after)
                        {
                            live.Apply(op);
                        }

                        byte[] firstBytes = Write(first);
                        first.Dispose();
                        foreach (var op in last)
                        {
                            live.Apply(op);
                        }

                        Assert.Equal(Snapshot(atFirst.Index), firstBytes);
                        Assert.Equal(Snapshot(atSecond.Index), Write(second));
                        Assert.Throws<ObjectDisposedException>(() => first.WriteTo(new MemoryStream()));
                        AssertAnswersIdentically(atFirst.Index, firstBytes);
                    }
                    finally
                    {
                        live.Index.Dispose();
                        atFirst.Index.Dispose();
                        atSecond.Index.Dispose();
                    }
                },
                iter: 150);
    }

    [Fact]
    public async Task WriteSnapshot_ToAStalledStream_DoesNotBlockMutationsOrSearches()
    {
        foreach (IVectorIndex index in new IVectorIndex[] { new FlatIndex(Dimension, DistanceMetric.Euclidean), new HnswIndex(Dimension, DistanceMetric.Euclidean) })
        {
            using (index)
            {
                for (int id = 0; id < 50; id++)
                {
                    index.Add(id, Vector(id, 0));
                }

                using var stalled = new StalledStream();
                var writing = Task.Run(() => index.WriteSnapshot(stalled));
                stalled.Entered.Wait();

                // With the snapshot's writer stalled mid-stream, mutations and searches complete (a bounded wait
                // guards against a hang; it is not a timing assertion).
                var mutating = Task.Run(() =>
                {
                    index.Add(50, Vector(50, 0));
                    index.Remove(3);
                    index.Compact();
                    index.TakeReleasedIds();
                });
                bool completed = await Task.WhenAny(mutating, Task.Delay(TimeSpan.FromSeconds(60))) == mutating;
                stalled.Release.Set();
                await writing;
                Assert.True(completed, $"{index.GetType().Name}: mutations waited for a snapshot being written");
                Assert.Equal(50, index.Search(Vector(50, 0), 1)[0].Id);

                using IVectorIndex loaded = VectorIndexSnapshot.ReadSnapshot(new MemoryStream(stalled.ToArray()));
                Assert.Equal(50, loaded.Count);
                Assert.True(loaded.Contains(3));
                Assert.False(loaded.Contains(50));
            }
        }
    }

    private static void AssertAnswersIdentically(IVectorIndex expected, byte[] snapshot)
    {
        using IVectorIndex loaded = VectorIndexSnapshot.ReadSnapshot(new MemoryStream(snapshot));
        Assert.Equal(expected.Count, loaded.Count);
        for (int q = 0; q < 5; q++)
        {
            float[] query = Vector(q, 7);
            Assert.Equal(expected.Search(query, 4), loaded.Search(query, 4));
            var filtered = new SearchOptions { Filter = id => id % 3 != q % 3 };
            Assert.Equal(expected.Search(query, 4, filtered), loaded.Search(query, 4, filtered));
        }

        Assert.Equal(expected.TakeReleasedIds(), loaded.TakeReleasedIds());
    }

    private static byte[] Snapshot(IVectorIndex index)
    {
        var stream = new MemoryStream();
        index.WriteSnapshot(stream);
        return stream.ToArray();
    }

    private static byte[] Write(IndexSnapshotView view)
    {
        var stream = new MemoryStream();
        view.WriteTo(stream);
        return stream.ToArray();
    }

    private static float[] Vector(int id, int n)
    {
        var random = new Random((id * 7919) + n);
        return [(float)random.NextDouble() + 0.1f, (float)random.NextDouble(), (float)random.NextDouble()];
    }

    /// <summary>Applies operations to an index so that the same operations always give the same index.</summary>
    private sealed class Driver(bool hnsw)
    {
        private readonly List<int> _live = [];
        private readonly List<int> _reusable = [];
        private int _nextFresh;

        public IVectorIndex Index { get; } = hnsw
            ? new HnswIndex(Dimension, DistanceMetric.Euclidean, new HnswParameters { M = 4, EfConstruction = 16, CompactionThreshold = 0.3 }, 4, 8)
            : new FlatIndex(Dimension, DistanceMetric.Cosine, 4, 8);

        public void Apply((int Kind, int N) op)
        {
            switch (op.Kind)
            {
                case <= 4:
                    int id;
                    if (op.N % 3 == 0 && _reusable.Count > 0)
                    {
                        id = _reusable[op.N % _reusable.Count];
                        _reusable.Remove(id);
                    }
                    else
                    {
                        _nextFresh += op.N % 4;
                        id = _nextFresh++;
                    }

                    Index.Add(id, Vector(id, op.N));
                    _live.Add(id);
                    break;
                case <= 6:
                    if (_live.Count > 0)
                    {
                        int victim = _live[op.N % _live.Count];
                        _live.Remove(victim);
                        Index.Remove(victim);
                    }

                    break;
                case 7:
                    Index.Compact();
                    break;
                default:
                    _reusable.AddRange(Index.TakeReleasedIds());
                    break;
            }
        }
    }

    /// <summary>A stream whose first write blocks until released.</summary>
    private sealed class StalledStream : MemoryStream
    {
        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);

        public override void Write(byte[] buffer, int offset, int count)
        {
            Entered.Set();
            Release.Wait();
            base.Write(buffer, offset, count);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Entered.Dispose();
                Release.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

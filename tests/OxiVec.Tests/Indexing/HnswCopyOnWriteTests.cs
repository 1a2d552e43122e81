using OxiVec.Indexing;

namespace OxiVec.Tests.Indexing;

/// <summary>
/// What an add copies while a snapshot view (a checkpoint being written) shares the index's chunks: the goal is a
/// write that never waits long for a checkpoint, so one add must copy a few small chunks, not megabytes.
/// </summary>
public sealed class HnswCopyOnWriteTests
{
    private const int Dimension = 32;

    [Fact]
    public void AnAddDuringAView_CopiesOnlyAFewSmallChunks_AndNothingOnceTheViewIsGone()
    {
        var random = new Random(12);
        float[][] centres = IndexTestData.Centres(random, 8, Dimension);
        float[][] points = IndexTestData.Clustered(random, centres, 4_000, 0.3f);
        var parameters = new HnswParameters { M = 16, EfConstruction = 64, Seed = 5 };
        using var index = new HnswIndex(Dimension, DistanceMetric.Euclidean, parameters);
        for (int i = 0; i < 3_000; i++)
        {
            index.Add(i, points[i]);
        }

        (long copies, long bytes) before = index.CopyOnWrite;
        Assert.Equal((0L, 0L), before);
        int next = 3_000;
        using (IndexSnapshotView view = index.CaptureSnapshot())
        {
            // The first adds after the capture copy the most (nothing is copied yet); measure each one.
            long maxCopies = 0;
            long maxBytes = 0;
            for (; next < 3_050; next++)
            {
                (long copies, long bytes) start = index.CopyOnWrite;
                index.Add(next, points[next]);
                (long copies, long bytes) end = index.CopyOnWrite;
                maxCopies = Math.Max(maxCopies, end.copies - start.copies);
                maxBytes = Math.Max(maxBytes, end.bytes - start.bytes);
            }

            // Its own slot is at or above the captured high-water mark, which the view never reads: written in place,
            // so no vector, state or level chunk is copied (the checkpoint's first add used to copy a whole vector
            // chunk, 768 KiB at 768 dimensions). Only the layer-0 chunks of at most M neighbours and itself, the
            // upper reference chunk and upper lists (rare).
            Assert.InRange(maxCopies, 1, 17 + 1 + 8);
            const long linkChunk = 128 * 33 * sizeof(int);
            const long vectorChunk = 1_024L * Dimension * sizeof(float);
            Assert.InRange(maxBytes, 1, (17 * linkChunk) + (1_024 * 8) + (8 * 1_024));
            Assert.True(maxBytes < vectorChunk + (17 * linkChunk), $"an add copied {maxBytes} bytes");
            Assert.Equal(3_050, index.Count);
            Assert.Equal(3_000, view.Count);
        }

        (long copies, long bytes) afterView = index.CopyOnWrite;
        for (; next < 3_100; next++)
        {
            index.Add(next, points[next]);
        }

        Assert.Equal(afterView, index.CopyOnWrite);
    }
}

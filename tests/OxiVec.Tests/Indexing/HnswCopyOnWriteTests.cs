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

    [Fact]
    public void WriteStats_CountEachAddsWork_AndTheCopiesAViewCaused_AsCopyOnWriteDoes()
    {
        var random = new Random(13);
        float[][] centres = IndexTestData.Centres(random, 8, Dimension);
        float[][] points = IndexTestData.Clustered(random, centres, 2_100, 0.3f);
        var parameters = new HnswParameters { M = 16, EfConstruction = 64, Seed = 5 };
        using var index = new HnswIndex(Dimension, DistanceMetric.Euclidean, parameters);
        for (int i = 0; i < 2_000; i++)
        {
            index.Add(i, points[i]);
        }

        HnswWriteStats filled = index.WriteStats;
        Assert.Equal(2_000, filled.Adds);
        Assert.Equal(0, filled.Copies);
        Assert.Equal(0, filled.CopyTicks);

        // One add into a graph of 2,000 nodes: its beam search of width 64 expands at least 64 nodes (every node it keeps
        // was pushed and popped) and measures a distance to each node it reaches, and its phases fit inside the add.
        HnswWriteStats before = index.WriteStats;
        index.Add(2_000, points[2_000]);
        HnswWriteStats one = index.WriteStats - before;
        Assert.Equal(1, one.Adds);
        Assert.InRange(one.Expanded, 64, 2_000);
        Assert.InRange(one.Distances, one.Expanded, 2_000);
        Assert.True(one.AddTicks >= one.LockWaitTicks + one.SearchTicks + one.LinkTicks, $"{one}");
        Assert.True(one.SearchTicks > 0, $"{one}");
        Assert.Equal(0, one.Copies);

        using (IndexSnapshotView view = index.CaptureSnapshot())
        {
            (long copies, long bytes) cow0 = index.CopyOnWrite;
            HnswWriteStats start = index.WriteStats;
            for (int i = 2_001; i < 2_100; i++)
            {
                index.Add(i, points[i]);
            }

            HnswWriteStats during = index.WriteStats - start;
            (long copies, long bytes) cow1 = index.CopyOnWrite;
            Assert.Equal(99, during.Adds);
            Assert.Equal(cow1.copies - cow0.copies, during.Copies);
            Assert.Equal(cow1.bytes - cow0.bytes, during.CopiedBytes);
            Assert.True(during.Copies > 0 && during.CopyTicks > 0, $"{during}");
            Assert.True(during.LinkTicks >= during.CopyTicks, $"{during}");
        }
    }
}

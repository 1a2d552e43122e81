using OxiVec.Indexing;
using static OxiVec.Tests.Indexing.IndexTestData;

namespace OxiVec.Tests.Indexing;

public sealed class IndexVectorCopyTests
{
    [Theory]
    [InlineData(true, DistanceMetric.Euclidean)]
    [InlineData(true, DistanceMetric.DotProduct)]
    [InlineData(true, DistanceMetric.Cosine)]
    [InlineData(false, DistanceMetric.Euclidean)]
    [InlineData(false, DistanceMetric.DotProduct)]
    [InlineData(false, DistanceMetric.Cosine)]
    public void CopyVector_ReturnsTheVectorAsHeld_BeforeAndAfterASnapshotRoundTrip(bool hnsw, DistanceMetric metric)
    {
        const int Dimension = 24;
        var random = new Random(9);
        float[][] vectors = Enumerable.Range(0, 300).Select(_ => Gaussian(random, Dimension, 3f)).ToArray();
        using IVectorIndex index = hnsw ? new HnswIndex(Dimension, metric) : new FlatIndex(Dimension, metric);
        for (int id = 0; id < vectors.Length; id++)
        {
            index.Add(id, vectors[id]);
        }

        index.Remove(10);
        var stream = new MemoryStream();
        index.WriteSnapshot(stream);
        using IVectorIndex loaded = VectorIndexSnapshot.ReadSnapshot(new MemoryStream(stream.ToArray()));
        Assert.Equal(metric != DistanceMetric.Cosine, index.HoldsVectorsAsGiven);
        Assert.Equal(index.HoldsVectorsAsGiven, loaded.HoldsVectorsAsGiven);

        float[] copy = new float[Dimension];
        foreach (IVectorIndex holder in new[] { index, loaded })
        {
            for (int id = 0; id < vectors.Length; id++)
            {
                if (id == 10)
                {
                    Assert.Throws<KeyNotFoundException>(() => holder.CopyVector(10, new float[Dimension]));
                    continue;
                }

                holder.CopyVector(id, copy);
                if (holder.HoldsVectorsAsGiven)
                {
                    Assert.Equal(vectors[id], copy);
                }
                else
                {
                    float norm = MathF.Sqrt(vectors[id].Sum(x => x * x));
                    for (int i = 0; i < Dimension; i++)
                    {
                        Assert.Equal(vectors[id][i] / norm, copy[i], 1e-5f);
                    }
                }
            }

            Assert.Throws<KeyNotFoundException>(() => holder.CopyVector(vectors.Length, new float[Dimension]));
            Assert.Throws<KeyNotFoundException>(() => holder.CopyVector(-1, new float[Dimension]));
            Assert.Throws<ArgumentException>(() => holder.CopyVector(0, new float[Dimension - 1]));
        }
    }
}

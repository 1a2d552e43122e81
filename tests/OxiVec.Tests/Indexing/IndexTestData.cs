using OxiVec.Indexing;

namespace OxiVec.Tests.Indexing;

/// <summary>Deterministic vector generators and recall helpers for the index tests.</summary>
internal static class IndexTestData
{
    /// <summary>A standard normal sample (Box-Muller).</summary>
    public static float NextGaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    public static float[] Gaussian(Random random, int dimension, float scale = 1f)
    {
        var vector = new float[dimension];
        for (int i = 0; i < dimension; i++)
        {
            vector[i] = NextGaussian(random) * scale;
        }

        return vector;
    }

    /// <summary>Cluster centres, each component standard normal.</summary>
    public static float[][] Centres(Random random, int clusters, int dimension) =>
        Enumerable.Range(0, clusters).Select(_ => Gaussian(random, dimension)).ToArray();

    /// <summary>A point of a random cluster: its centre plus Gaussian noise of the given spread.</summary>
    public static float[] NearCentre(Random random, float[][] centres, float spread)
    {
        float[] centre = centres[random.Next(centres.Length)];
        var vector = new float[centre.Length];
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] = centre[i] + (NextGaussian(random) * spread);
        }

        return vector;
    }

    public static float[][] Clustered(Random random, float[][] centres, int count, float spread) =>
        Enumerable.Range(0, count).Select(_ => NearCentre(random, centres, spread)).ToArray();

    /// <summary>The fraction of the exact top-k ids that the approximate results contain.</summary>
    public static double Recall(IReadOnlyList<SearchHit> exact, IReadOnlyList<SearchHit> approximate)
    {
        if (exact.Count == 0)
        {
            return 1.0;
        }

        var truth = exact.Select(h => h.Id).ToHashSet();
        return approximate.Count(h => truth.Contains(h.Id)) / (double)exact.Count;
    }
}

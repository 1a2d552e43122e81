using System.Numerics.Tensors;
using OxiVec.Indexing;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// A stored vector as Qdrant returns it: Qdrant normalises a Cosine collection's vectors to unit length when they are
/// upserted, so it returns them normalised; OxiVec keeps the vector as given, and normalises it on the way out.
/// Dot and Euclid vectors are returned exactly as given.
/// </summary>
internal static class StoredVector
{
    public static float[] For(DistanceMetric metric, ReadOnlyMemory<float> vector)
    {
        float[] copy = vector.ToArray();
        if (metric == DistanceMetric.Cosine)
        {
            float norm = TensorPrimitives.Norm(copy);
            if (norm > 0f)
            {
                TensorPrimitives.Divide(copy, norm, copy);
            }
        }

        return copy;
    }
}

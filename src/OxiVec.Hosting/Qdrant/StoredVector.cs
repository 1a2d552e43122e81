using System.Numerics.Tensors;
using OxiVec.Indexing;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// A stored vector as Qdrant returns it: Qdrant normalises a Cosine collection's vectors to unit length when they are
/// upserted, so it returns them normalised; OxiVec keeps the vector as given, and normalises it on the way out.
/// Dot and Euclid vectors are returned exactly as given. OxiVec's extension: a request with the header
/// <c>OxiVec-Vectors: stored</c> (which OxiVec's client sends, and Qdrant's clients never do) gets every vector as
/// stored, a Cosine one too, so it reads back exactly what it wrote.
/// </summary>
internal static class StoredVector
{
    /// <summary>The request header that asks for vectors as stored.</summary>
    public const string Header = "OxiVec-Vectors";

    /// <summary>True when <paramref name="request"/> asks for vectors as stored (<c>OxiVec-Vectors: stored</c>).</summary>
    public static bool AsStored(Microsoft.AspNetCore.Http.HttpRequest request) =>
        string.Equals(request.Headers[Header], "stored", StringComparison.OrdinalIgnoreCase);

    public static float[] For(DistanceMetric metric, ReadOnlyMemory<float> vector, bool asStored = false)
    {
        float[] copy = vector.ToArray();
        if (metric == DistanceMetric.Cosine && !asStored)
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

using System.Numerics.Tensors;

namespace OxiVec.Samples.SemanticSearch;

/// <summary>
/// The exact nearest neighbours by cosine similarity, by comparing a query with every vector: the ground truth the
/// HNSW index's answers are measured against. Independent of OxiVec, so it checks the provider end to end.
/// </summary>
internal sealed class ExactSearch
{
    private readonly IReadOnlyList<ReadOnlyMemory<float>> _vectors;

    /// <summary>Searches <paramref name="vectors"/>, each of the same length; the list is not copied.</summary>
    public ExactSearch(IReadOnlyList<ReadOnlyMemory<float>> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        _vectors = vectors;
    }

    /// <summary>The positions in the vector list of the <paramref name="k"/> vectors most similar to <paramref name="query"/>, most similar first.</summary>
    public IReadOnlyList<int> Search(ReadOnlySpan<float> query, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var best = new PriorityQueue<int, float>(k + 1); // a min-heap of the k best similarities seen
        for (int i = 0; i < _vectors.Count; i++)
        {
            float similarity = TensorPrimitives.CosineSimilarity(query, _vectors[i].Span);
            if (best.Count < k)
            {
                best.Enqueue(i, similarity);
            }
            else if (best.TryPeek(out _, out float worst) && similarity > worst)
            {
                best.EnqueueDequeue(i, similarity);
            }
        }

        var result = new int[best.Count];
        for (int j = result.Length - 1; j >= 0; j--)
        {
            result[j] = best.Dequeue();
        }

        return result;
    }
}

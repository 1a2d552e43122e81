using OxiVec.Indexing;
using OxiVec.Storage;
using MevdDistance = Microsoft.Extensions.VectorData.DistanceFunction;
using MevdIndexKind = Microsoft.Extensions.VectorData.IndexKind;

namespace OxiVec.VectorData.Mapping;

/// <summary>
/// How a vector property's distance function and index kind map to an OxiVec collection, and how OxiVec's scores
/// become the abstractions' scores. Unsupported choices throw <see cref="NotSupportedException"/> naming them when
/// the collection object is constructed.
/// </summary>
internal sealed class DistanceMapping
{
    private DistanceMapping(string function, DistanceMetric metric, Storage.IndexKind index, Func<float, double> score, bool higherIsBetter)
    {
        Function = function;
        Metric = metric;
        Index = index;
        Score = score;
        HigherIsBetter = higherIsBetter;
    }

    /// <summary>The abstractions' distance function name.</summary>
    public string Function { get; }

    /// <summary>OxiVec's metric.</summary>
    public DistanceMetric Metric { get; }

    /// <summary>OxiVec's index kind.</summary>
    public Storage.IndexKind Index { get; }

    /// <summary>Converts OxiVec's score for <see cref="Metric"/> into the function's score.</summary>
    public Func<float, double> Score { get; }

    /// <summary>True when a higher score is closer (similarities), false for distances.</summary>
    public bool HigherIsBetter { get; }

    /// <summary>The mapping of <paramref name="distanceFunction"/> and <paramref name="indexKind"/> (null: CosineSimilarity and Hnsw).</summary>
    /// <exception cref="NotSupportedException">A distance function or index kind OxiVec does not have.</exception>
    public static DistanceMapping For(string? distanceFunction, string? indexKind, string propertyName)
    {
        Storage.IndexKind index = indexKind switch
        {
            null or MevdIndexKind.Hnsw => Storage.IndexKind.Hnsw,
            MevdIndexKind.Flat => Storage.IndexKind.Flat,
            _ => throw new NotSupportedException(
                $"Index kind '{indexKind}' of vector property '{propertyName}' is not supported by OxiVec; use {MevdIndexKind.Hnsw} or {MevdIndexKind.Flat}."),
        };

        return distanceFunction switch
        {
            null or MevdDistance.CosineSimilarity => new(MevdDistance.CosineSimilarity, DistanceMetric.Cosine, index, s => s, higherIsBetter: true),
            MevdDistance.CosineDistance => new(MevdDistance.CosineDistance, DistanceMetric.Cosine, index, s => 1d - s, higherIsBetter: false),
            MevdDistance.DotProductSimilarity => new(MevdDistance.DotProductSimilarity, DistanceMetric.DotProduct, index, s => s, higherIsBetter: true),
            MevdDistance.NegativeDotProductSimilarity => new(MevdDistance.NegativeDotProductSimilarity, DistanceMetric.DotProduct, index, s => -(double)s, higherIsBetter: false),
            MevdDistance.EuclideanDistance => new(MevdDistance.EuclideanDistance, DistanceMetric.Euclidean, index, s => s, higherIsBetter: false),
            MevdDistance.EuclideanSquaredDistance => new(MevdDistance.EuclideanSquaredDistance, DistanceMetric.Euclidean, index, s => (double)s * s, higherIsBetter: false),
            _ => throw new NotSupportedException(
                $"Distance function '{distanceFunction}' of vector property '{propertyName}' is not supported by OxiVec; use one of " +
                $"{MevdDistance.CosineSimilarity}, {MevdDistance.CosineDistance}, {MevdDistance.DotProductSimilarity}, " +
                $"{MevdDistance.NegativeDotProductSimilarity}, {MevdDistance.EuclideanDistance}, {MevdDistance.EuclideanSquaredDistance}."),
        };
    }

    /// <summary>True when <paramref name="score"/> passes <paramref name="threshold"/> (at least it for similarities, at most it for distances).</summary>
    public bool Passes(double score, double? threshold) =>
        threshold is not { } t || (HigherIsBetter ? score >= t : score <= t);
}

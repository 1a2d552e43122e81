namespace OxiVec.Indexing;

/// <summary>
/// How two vectors are compared. Every index works internally with a <em>distance</em> where lower is better;
/// <see cref="DistanceMetricExtensions.ToScore"/> turns it into the figure a user expects.
/// </summary>
public enum DistanceMetric
{
    /// <summary>
    /// Cosine similarity. Vectors are normalised to unit length when added and when queried, so zero vectors
    /// are rejected. Internal distance: <c>1 - dot(a, b)</c> (0 for the same direction, 2 for the opposite).
    /// Score: the cosine similarity in [-1, 1], higher is better.
    /// </summary>
    Cosine,

    /// <summary>
    /// Inner (dot) product of the vectors as given, no normalisation. Internal distance: <c>-dot(a, b)</c>.
    /// Score: the dot product, higher is better.
    /// </summary>
    DotProduct,

    /// <summary>
    /// Euclidean (L2) distance. Internal distance: the squared L2 distance (no square root on the hot path).
    /// Score: the Euclidean distance, lower is better.
    /// </summary>
    Euclidean,
}

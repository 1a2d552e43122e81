namespace OxiVec.Indexing;

/// <summary>Converts the internal distances of <see cref="SearchHit"/> into user-facing scores.</summary>
public static class DistanceMetricExtensions
{
    /// <summary>
    /// Converts an internal distance (lower is better) into the metric's natural score: the cosine similarity
    /// for <see cref="DistanceMetric.Cosine"/> (higher is better), the dot product for
    /// <see cref="DistanceMetric.DotProduct"/> (higher is better), the Euclidean distance for
    /// <see cref="DistanceMetric.Euclidean"/> (lower is better). See <see cref="HigherScoreIsBetter"/>.
    /// </summary>
    /// <param name="metric">The metric the distance was computed with.</param>
    /// <param name="distance">An internal distance, as in <see cref="SearchHit.Distance"/>.</param>
    /// <returns>The user-facing score.</returns>
    public static float ToScore(this DistanceMetric metric, float distance) => metric switch
    {
        DistanceMetric.Cosine => 1f - distance,
        DistanceMetric.DotProduct => -distance,
        DistanceMetric.Euclidean => MathF.Sqrt(MathF.Max(distance, 0f)),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown distance metric."),
    };

    /// <summary>
    /// <see langword="true"/> when a higher <see cref="ToScore"/> means a closer match (cosine, dot product);
    /// <see langword="false"/> when a lower one does (Euclidean).
    /// </summary>
    /// <param name="metric">The metric.</param>
    /// <returns>Whether higher scores are better.</returns>
    public static bool HigherScoreIsBetter(this DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine or DistanceMetric.DotProduct => true,
        DistanceMetric.Euclidean => false,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown distance metric."),
    };
}

namespace OxiVec.Indexing;

/// <summary>One result of <see cref="IVectorIndex.Search"/>.</summary>
/// <param name="Id">The id the vector was added with.</param>
/// <param name="Distance">
/// The internal distance to the query: lower is better (see <see cref="DistanceMetric"/>). Convert it with
/// <see cref="DistanceMetricExtensions.ToScore"/>.
/// </param>
public readonly record struct SearchHit(int Id, float Distance);

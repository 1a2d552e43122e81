namespace OxiVec.Client;

/// <summary>The vectors of a collection: their dimension and distance function.</summary>
/// <param name="Size">The dimension, at least 1 (the server caps it at its <c>MaxDimension</c>).</param>
/// <param name="Distance">The distance function.</param>
public sealed record VectorParams(int Size, Distance Distance);

/// <summary>
/// A collection's HNSW parameters: <see cref="M"/> links per node (0 makes an exact, graph-less index) and
/// <see cref="EfConstruct"/>, the candidate list size while building. Null leaves the server's default.
/// </summary>
public sealed record HnswConfig(int? M = null, int? EfConstruct = null);

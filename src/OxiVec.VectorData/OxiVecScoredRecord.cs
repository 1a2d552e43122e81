using OxiVec.Storage;

namespace OxiVec.VectorData;

/// <summary>A record found by <see cref="IOxiVecBackend.SearchAsync"/> and its score.</summary>
/// <param name="Record">The record (its vector is empty unless vectors were asked for).</param>
/// <param name="Score">OxiVec's score for the collection's metric: cosine similarity or dot product (higher is closer), Euclidean distance (lower is closer).</param>
public sealed record OxiVecScoredRecord(VectorRecord Record, float Score);

using Microsoft.Extensions.VectorData;
using OxiVec.Samples.SemanticSearch.Embeddings;

namespace OxiVec.Samples.SemanticSearch;

/// <summary>A Debian package as the vector store keeps it: its name (the key), section, description and embedding.</summary>
internal sealed class PackageRecord
{
    /// <summary>The package name, e.g. <c>gzip</c>.</summary>
    [VectorStoreKey]
    public string Name { get; set; } = string.Empty;

    /// <summary>The archive section, e.g. <c>utils</c>; indexed, so searches can filter on it.</summary>
    [VectorStoreData(IsIndexed = true)]
    public string Section { get; set; } = string.Empty;

    /// <summary>The synopsis, then the long description when the package list has one.</summary>
    [VectorStoreData]
    public string Description { get; set; } = string.Empty;

    /// <summary>all-MiniLM-L6-v2's embedding of the name and description, searched through an HNSW index by cosine similarity.</summary>
    [VectorStoreVector(MiniLmEmbeddingGenerator.Dimensions, DistanceFunction = DistanceFunction.CosineSimilarity, IndexKind = IndexKind.Hnsw)]
    public ReadOnlyMemory<float> Embedding { get; set; }
}

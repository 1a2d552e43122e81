using OxiVec.Samples.SemanticSearch.Embeddings;

namespace OxiVec.Samples.Tests;

/// <summary>One loaded all-MiniLM-L6-v2 model shared by a test class (loading takes about a second).</summary>
public sealed class MiniLmModelFixture : IDisposable
{
    internal MiniLmEmbeddingGenerator Generator { get; } = new(batchSize: 4);

    public void Dispose() => Generator.Dispose();
}

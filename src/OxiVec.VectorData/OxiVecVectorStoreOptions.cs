using Microsoft.Extensions.AI;

namespace OxiVec.VectorData;

/// <summary>Options of an <see cref="OxiVecVectorStore"/>.</summary>
public sealed class OxiVecVectorStoreOptions
{
    /// <summary>
    /// The embedding generator of the store's collections, used when neither the collection nor the vector property
    /// configures one (null: none; vectors must then be given as floats).
    /// </summary>
    public IEmbeddingGenerator? EmbeddingGenerator { get; set; }
}

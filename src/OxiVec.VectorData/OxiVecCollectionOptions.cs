using Microsoft.Extensions.VectorData;
using OxiVec.Indexing;

namespace OxiVec.VectorData;

/// <summary>Options of an <see cref="OxiVecCollection{TKey, TRecord}"/>: the record definition and embedding generator of the abstractions, and OxiVec's HNSW parameters.</summary>
public sealed class OxiVecCollectionOptions : VectorStoreCollectionOptions
{
    /// <summary>Default options.</summary>
    public OxiVecCollectionOptions()
    {
    }

    /// <summary>A copy of <paramref name="source"/>.</summary>
    public OxiVecCollectionOptions(OxiVecCollectionOptions source)
        : base(source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Hnsw = source.Hnsw;
    }

    /// <summary>
    /// The HNSW parameters a new collection with an HNSW index is created with (null: OxiVec's defaults, M 16,
    /// efConstruction 200, efSearch 64). Ignored for a flat index and for a collection that already exists.
    /// </summary>
    public HnswParameters? Hnsw { get; set; }
}

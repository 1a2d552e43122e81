using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.Mapping;

namespace OxiVec.VectorData;

/// <summary>
/// A collection of dynamic records (<see cref="Dictionary{TKey, TValue}"/> of property name to value), described by
/// a <see cref="VectorStoreCollectionDefinition"/>. Keys are given as objects of the definition's key type.
/// </summary>
public sealed class OxiVecDynamicCollection : OxiVecCollection<object, Dictionary<string, object?>>
{
    /// <summary>Creates the collection object (the OxiVec collection itself is created by <c>EnsureCollectionExistsAsync</c>).</summary>
    /// <param name="backend">The back end holding the collection.</param>
    /// <param name="name">The collection name.</param>
    /// <param name="options">Options whose <see cref="VectorStoreCollectionOptions.Definition"/> is required.</param>
    /// <exception cref="ArgumentException">No definition.</exception>
    /// <exception cref="NotSupportedException">Several vector properties, an unsupported key, data type, distance function or index kind.</exception>
    public OxiVecDynamicCollection(IOxiVecBackend backend, string name, OxiVecCollectionOptions options)
        : base(
            backend,
            name,
            static o => new OxiVecModelBuilder().BuildDynamic(
                o.Definition ?? throw new ArgumentException("A dynamic collection needs a VectorStoreCollectionDefinition in its options.", nameof(options)),
                o.EmbeddingGenerator),
            options ?? throw new ArgumentNullException(nameof(options)))
    {
    }
}

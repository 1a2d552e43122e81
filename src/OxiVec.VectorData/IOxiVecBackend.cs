using OxiVec.Storage;

namespace OxiVec.VectorData;

/// <summary>
/// Where an <see cref="OxiVecVectorStore"/> keeps its collections, in OxiVec's own terms: string ids, float vectors,
/// <see cref="MetadataValue"/> fields and <see cref="MetadataFilter"/> conditions. Two implementations ship: the
/// embedded back end (<see cref="Embedded.OxiVecEmbeddedBackend"/>, a <see cref="VectorDatabase"/> in the process)
/// and the remote back end (in <c>OxiVec.VectorData.Remote</c>, <c>oxivec serve</c> over HTTP through
/// <c>OxiVec.Client</c>, which translates these calls and filters to the server's JSON).
/// </summary>
/// <remarks>
/// <para>
/// Contract every implementation keeps (<c>BackendContractConformance</c> in <c>tests/OxiVec.VectorData.Tests</c>
/// checks it for each, and the provider's conformance suites run over each): an operation on a collection that does
/// not exist throws <see cref="KeyNotFoundException"/>; bad input (wrong dimension, NaN, bad id or collection name)
/// throws with nothing written (<see cref="ArgumentException"/> in the embedded back end); <see cref="UpsertAsync"/>
/// applies all its records or none (one OxiVec transaction); missing ids are skipped by <see cref="GetAsync"/> and
/// <see cref="DeleteAsync"/>; metadata values come back of the kind they were written (a long as a long, a double as
/// a double, a list of strings as a <see cref="MetadataKind.StringList"/>).
/// </para>
/// <para>
/// The filters the provider builds use only these <see cref="MetadataFilter"/> records, so a back end needs to
/// translate no others: <see cref="MetadataFilter.Comparison"/> (<see cref="FilterOperator.Equal"/> with values of kind
/// String, Long, Double, Bool or Null; the ordering operators with Long and Double values, and String values for
/// DateTime, DateTimeOffset (fixed-width sortable UTC form) and Guid properties, compared ordinally; <see cref="FilterOperator.NotEqual"/> is never built, <c>!=</c> becomes a
/// <see cref="MetadataFilter.NotFilter"/>), <see cref="MetadataFilter.InList"/> (values of those kinds),
/// <see cref="MetadataFilter.AndFilter"/>,
/// <see cref="MetadataFilter.OrFilter"/>, <see cref="MetadataFilter.NotFilter"/>,
/// <see cref="MetadataFilter.MatchFilter"/> (membership in a list field; String, Long or Bool values; the path is a
/// plain field name), <see cref="MetadataFilter.HasIdFilter"/> and <see cref="MetadataFilter.ConstantFilter"/>.
/// </para>
/// </remarks>
public interface IOxiVecBackend : IDisposable
{
    /// <summary>A short name of the back end for <c>VectorStoreMetadata.VectorStoreName</c>, e.g. the data directory or the server's address.</summary>
    string Name { get; }

    /// <summary>The names of the collections.</summary>
    Task<IReadOnlyList<string>> ListCollectionsAsync(CancellationToken cancellationToken = default);

    /// <summary>The options the collection was created with, or null when it does not exist.</summary>
    Task<CollectionOptions?> GetCollectionAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Creates the collection; false when one of that name already exists (it is left as it is).</summary>
    Task<bool> CreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default);

    /// <summary>Drops the collection and its records; false when it did not exist.</summary>
    Task<bool> DropCollectionAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// The records with these ids that exist (missing ones are skipped), in any order. Without
    /// <paramref name="includeVectors"/> the records' vectors may be empty.
    /// </summary>
    Task<IReadOnlyList<VectorRecord>> GetAsync(string collection, IReadOnlyList<string> ids, bool includeVectors, CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces the records, all of them or none (one transaction). Ids are distinct.</summary>
    Task UpsertAsync(string collection, IReadOnlyList<VectorRecord> records, CancellationToken cancellationToken = default);

    /// <summary>Deletes the records with these ids; ids that do not exist are skipped.</summary>
    Task DeleteAsync(string collection, IReadOnlyList<string> ids, CancellationToken cancellationToken = default);

    /// <summary>
    /// The <paramref name="top"/> records closest to <paramref name="query"/> among those matching
    /// <paramref name="filter"/> (null: all), best first, with OxiVec's score for the collection's metric (see
    /// <see cref="SearchResult.Score"/>). Without <paramref name="includeVectors"/> the vectors may be empty.
    /// </summary>
    Task<IReadOnlyList<OxiVecScoredRecord>> SearchAsync(
        string collection, ReadOnlyMemory<float> query, int top, MetadataFilter? filter, bool includeVectors, CancellationToken cancellationToken = default);

    /// <summary>
    /// The first <paramref name="limit"/> records matching <paramref name="filter"/> (null: all) in the back end's id
    /// order, starting at <paramref name="fromId"/> (inclusive; null: the start). The order is the same for every call,
    /// so a caller pages on by passing the id after the last one it got: <see cref="RecordIdOrder"/> embedded (numeric
    /// ids by value, then the others ordinally); the server's point-id order remote.
    /// Without <paramref name="includeVectors"/> the vectors may be empty.
    /// </summary>
    Task<IReadOnlyList<VectorRecord>> ScrollAsync(
        string collection, MetadataFilter? filter, string? fromId, int limit, bool includeVectors, CancellationToken cancellationToken = default);
}

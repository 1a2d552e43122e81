using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using OxiVec.Storage;
using OxiVec.VectorData.Embedded;

namespace OxiVec.VectorData;

/// <summary>
/// OxiVec as a Microsoft.Extensions.VectorData vector store, over an embedded <see cref="VectorDatabase"/> or a
/// remote <c>oxivec serve</c> (any <see cref="IOxiVecBackend"/>). The store does not dispose its back end: whoever
/// created the back end (or the dependency-injection container) does.
/// </summary>
/// <remarks>
/// OxiVec has no keyword (full-text) index, so its collections do not implement
/// <c>IKeywordHybridSearchable&lt;TRecord&gt;</c>.
/// </remarks>
public sealed class OxiVecVectorStore : VectorStore
{
    /// <summary>The <c>VectorStoreSystemName</c> of OxiVec's metadata: "oxivec".</summary>
    public const string SystemName = "oxivec";

    private readonly IOxiVecBackend _backend;
    private readonly IEmbeddingGenerator? _embeddingGenerator;
    private readonly VectorStoreMetadata _metadata;

    /// <summary>A store over <paramref name="backend"/>.</summary>
    public OxiVecVectorStore(IOxiVecBackend backend, OxiVecVectorStoreOptions? options = null)
    {
        _backend = backend ?? throw new ArgumentNullException(nameof(backend));
        _embeddingGenerator = options?.EmbeddingGenerator;
        _metadata = new VectorStoreMetadata { VectorStoreSystemName = SystemName, VectorStoreName = backend.Name };
    }

    /// <summary>A store over the embedded <paramref name="database"/>, which the caller keeps open and disposes.</summary>
    public OxiVecVectorStore(VectorDatabase database, OxiVecVectorStoreOptions? options = null)
        : this(new OxiVecEmbeddedBackend(database), options)
    {
    }

    /// <summary>The store's back end.</summary>
    public IOxiVecBackend Backend => _backend;

    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">Several vector properties, an unsupported key, data type, distance function or index kind.</exception>
    public override OxiVecCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null) =>
        new(_backend, name, new OxiVecCollectionOptions { Definition = definition, EmbeddingGenerator = _embeddingGenerator });

    /// <inheritdoc/>
    public override OxiVecDynamicCollection GetDynamicCollection(string name, VectorStoreCollectionDefinition definition) =>
        new(_backend, name, new OxiVecCollectionOptions { Definition = definition, EmbeddingGenerator = _embeddingGenerator });

    /// <inheritdoc/>
    public override async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> names = await Run("ListCollectionNames", null, () => _backend.ListCollectionsAsync(cancellationToken)).ConfigureAwait(false);
        foreach (string name in names)
        {
            yield return name;
        }
    }

    /// <inheritdoc/>
    public override Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default) =>
        Run("CollectionExists", name, async () => await _backend.GetCollectionAsync(name, cancellationToken).ConfigureAwait(false) is not null);

    /// <inheritdoc/>
    public override Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default) =>
        Run("EnsureCollectionDeleted", name, () => _backend.DropCollectionAsync(name, cancellationToken));

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreMetadata) ? _metadata
            : serviceType == typeof(IOxiVecBackend) ? _backend
            : serviceType == typeof(VectorDatabase) && _backend is OxiVecEmbeddedBackend embedded ? embedded.Database
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    private async Task<T> Run<T>(string operation, string? collection, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not VectorStoreException)
        {
            throw new VectorStoreException($"OxiVec {operation} failed: {ex.Message}", ex)
            {
                VectorStoreSystemName = SystemName,
                VectorStoreName = _backend.Name,
                CollectionName = collection,
                OperationName = operation,
            };
        }
    }
}

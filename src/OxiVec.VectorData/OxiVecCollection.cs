using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;
using OxiVec.Storage;
using OxiVec.VectorData.Embedded;
using OxiVec.VectorData.Filtering;
using OxiVec.VectorData.Mapping;

namespace OxiVec.VectorData;

/// <summary>
/// A collection of records in OxiVec, embedded or remote (see <see cref="IOxiVecBackend"/>). Keys are string, Guid,
/// int or long; one vector property at most (several throw <see cref="NotSupportedException"/> here, at
/// construction, as do unsupported distance functions and index kinds). Upserting many records is one OxiVec
/// transaction. Filters are translated into OxiVec's in-index filter (see <c>docs/vectordata.md</c>).
/// </summary>
/// <typeparam name="TKey">The key type: string, Guid, int or long (object for the dynamic collection).</typeparam>
/// <typeparam name="TRecord">The record type.</typeparam>
public class OxiVecCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>
    where TKey : notnull
    where TRecord : class
{
    /// <summary>The largest page read from the back end at once when a filtered get must see every match (to order them).</summary>
    private const int ScanPage = 1024;

    private readonly IOxiVecBackend _backend;
    private readonly RecordMapper _mapper;
    private readonly DistanceMapping? _distance;
    private readonly CollectionOptions _shape;
    private readonly VectorStoreCollectionMetadata _metadata;

    /// <summary>Creates the collection object (the OxiVec collection itself is created by <see cref="EnsureCollectionExistsAsync"/>).</summary>
    /// <param name="backend">The back end holding the collection.</param>
    /// <param name="name">The collection name (letters, digits, '_', '-', '.').</param>
    /// <param name="options">The record definition, embedding generator and HNSW parameters (null: from <typeparamref name="TRecord"/>'s attributes).</param>
    /// <exception cref="NotSupportedException">Several vector properties, an unsupported key, data type, distance function or index kind.</exception>
    public OxiVecCollection(IOxiVecBackend backend, string name, OxiVecCollectionOptions? options = null)
        : this(backend, name, BuildModel, options)
    {
    }

    internal OxiVecCollection(IOxiVecBackend backend, string name, Func<OxiVecCollectionOptions, CollectionModel> modelFactory, OxiVecCollectionOptions? options)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(modelFactory);
        options ??= new OxiVecCollectionOptions();

        _backend = backend;
        Name = name;
        _mapper = new RecordMapper(modelFactory(options));
        if (_mapper.Vector is { } vector)
        {
            _distance = DistanceMapping.For(vector.DistanceFunction, vector.IndexKind, vector.ModelName);
            _shape = new CollectionOptions(vector.Dimensions) { Metric = _distance.Metric, Index = _distance.Index, Hnsw = options.Hnsw ?? new() };
        }
        else
        {
            // No vector property: every record holds the placeholder vector [0] in a flat collection without search.
            _shape = new CollectionOptions(1) { Metric = Indexing.DistanceMetric.Euclidean, Index = Storage.IndexKind.Flat };
        }

        _metadata = new VectorStoreCollectionMetadata
        {
            VectorStoreSystemName = OxiVecVectorStore.SystemName,
            VectorStoreName = backend.Name,
            CollectionName = name,
        };
    }

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) =>
        Run("CollectionExists", async () => await _backend.GetCollectionAsync(Name, cancellationToken).ConfigureAwait(false) is not null);

    /// <inheritdoc/>
    /// <remarks>When the collection exists already with another dimension or metric, this throws <see cref="VectorStoreException"/> and changes nothing.</remarks>
    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default) =>
        Run("EnsureCollectionExists", async () =>
        {
            if (!await _backend.CreateCollectionAsync(Name, _shape, cancellationToken).ConfigureAwait(false)
                && await _backend.GetCollectionAsync(Name, cancellationToken).ConfigureAwait(false) is { } existing
                && (existing.Dimension != _shape.Dimension || existing.Metric != _shape.Metric))
            {
                throw new InvalidOperationException(
                    $"Collection '{Name}' exists with dimension {existing.Dimension} and metric {existing.Metric}; this model needs dimension {_shape.Dimension} and metric {_shape.Metric}.");
            }

            return true;
        });

    /// <inheritdoc/>
    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default) =>
        Run("EnsureCollectionDeleted", () => _backend.DropCollectionAsync(Name, cancellationToken));

    /// <inheritdoc/>
    public override async Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        bool includeVectors = IncludeVectors(options?.IncludeVectors ?? false);
        string id = KeyConverter.ToId(key, _mapper.Key.Type);
        IReadOnlyList<VectorRecord> found = await Run("Get", () => _backend.GetAsync(Name, [id], includeVectors, cancellationToken)).ConfigureAwait(false);
        return found.Count == 0 ? null : _mapper.FromStorage<TRecord>(found[0], includeVectors);
    }

    /// <inheritdoc/>
    public override async IAsyncEnumerable<TRecord> GetAsync(
        IEnumerable<TKey> keys, RecordRetrievalOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        bool includeVectors = IncludeVectors(options?.IncludeVectors ?? false);
        string[] ids = [.. keys.Select(k => KeyConverter.ToId(k, _mapper.Key.Type))];
        if (ids.Length == 0)
        {
            yield break;
        }

        IReadOnlyList<VectorRecord> found = await Run("Get", () => _backend.GetAsync(Name, ids, includeVectors, cancellationToken)).ConfigureAwait(false);
        foreach (VectorRecord record in found)
        {
            yield return _mapper.FromStorage<TRecord>(record, includeVectors);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Without ordering, the matches are read in OxiVec's id order and only <paramref name="top"/> plus
    /// <c>Skip</c> of them are read. With ordering, every match is read (in pages) and sorted here: ordering costs
    /// a scan of the matches. Nulls sort first (ascending), as LINQ orders them.
    /// </remarks>
    public override async IAsyncEnumerable<TRecord> GetAsync(
        System.Linq.Expressions.Expression<Func<TRecord, bool>> filter,
        int top,
        FilteredRecordRetrievalOptions<TRecord>? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options.Skip));
        bool includeVectors = IncludeVectors(options.IncludeVectors);
        MetadataFilter translated = new FilterTranslator().Translate(filter, _mapper.Model);
        var sorts = options.OrderBy is { } orderBy
            ? orderBy(new FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition()).Values
            : [];

        IEnumerable<VectorRecord> page;
        if (sorts.Count == 0)
        {
            int limit = (int)Math.Min(int.MaxValue, (long)top + options.Skip);
            page = (await Run("Get", () => _backend.ScrollAsync(Name, translated, null, limit, includeVectors, cancellationToken)).ConfigureAwait(false))
                .Skip(options.Skip);
        }
        else
        {
            var order = new RecordOrder(_mapper, [.. sorts.Select(s => (_mapper.Model.GetDataOrKeyProperty(s.PropertySelector), s.Ascending))]);
            List<VectorRecord> all = await ScanAsync(translated, includeVectors, cancellationToken).ConfigureAwait(false);
            all.Sort(order);
            page = all.Skip(options.Skip).Take(top);
        }

        foreach (VectorRecord record in page)
        {
            yield return _mapper.FromStorage<TRecord>(record, includeVectors);
        }
    }

    /// <inheritdoc/>
    public override Task DeleteAsync(TKey key, CancellationToken cancellationToken = default) => DeleteAsync([key], cancellationToken);

    /// <inheritdoc/>
    public override Task DeleteAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        string[] ids = [.. keys.Select(k => KeyConverter.ToId(k, _mapper.Key.Type))];
        return ids.Length == 0 ? Task.CompletedTask : Run("Delete", async () =>
        {
            await _backend.DeleteAsync(Name, ids, cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    /// <inheritdoc/>
    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return UpsertAsync([record], cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>All the records are written in one OxiVec transaction: all or none. A key given twice keeps its last record.</remarks>
    public override async Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        TRecord[] batch = [.. records];
        if (batch.Length == 0)
        {
            return;
        }

        if (Array.IndexOf(batch, null) >= 0)
        {
            throw new ArgumentNullException(nameof(records), "A record to upsert is null.");
        }

        IReadOnlyList<Embedding>? generated = null;
        if (_mapper.VectorIsGenerated)
        {
            VectorPropertyModel vector = _mapper.Vector!;
            generated = await vector.GenerateEmbeddingsAsync(batch.Select(r => vector.GetValueAsObject(r)), cancellationToken).ConfigureAwait(false);
        }

        var byId = new Dictionary<string, VectorRecord>(batch.Length, StringComparer.Ordinal);
        for (int i = 0; i < batch.Length; i++)
        {
            string id = _mapper.IdOf(batch[i]);
            byId[id] = _mapper.ToStorage(batch[i], id, generated?[i]);
        }

        VectorRecord[] stored = [.. byId.Values];
        await Run("Upsert", async () =>
        {
            await _backend.UpsertAsync(Name, stored, cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <paramref name="searchValue"/> is a <see cref="ReadOnlyMemory{T}"/> of floats, a float array or an
    /// <see cref="Embedding{T}"/> of floats, or any input the configured embedding generator accepts (a string...).
    /// The score is the distance function's: a similarity (higher is closer) or a distance (lower is closer);
    /// <c>ScoreThreshold</c> keeps results at least that similar or at most that distant.
    /// </remarks>
    public override async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(
        TInput searchValue, int top, VectorSearchOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip, nameof(options.Skip));
        if (_distance is null)
        {
            throw new InvalidOperationException($"Collection '{Name}' has no vector property, so it cannot be searched.");
        }

        VectorPropertyModel vector = _mapper.Model.GetVectorPropertyOrSingle(options);
        bool includeVectors = IncludeVectors(options.IncludeVectors);
        ReadOnlyMemory<float> query = await QueryVectorAsync(searchValue, vector, cancellationToken).ConfigureAwait(false);
        MetadataFilter? filter = options.Filter is null ? null : new FilterTranslator().Translate(options.Filter, _mapper.Model);
        int k = (int)Math.Min(int.MaxValue, (long)top + options.Skip);

        IReadOnlyList<OxiVecScoredRecord> hits = await Run("Search", () => _backend.SearchAsync(Name, query, k, filter, includeVectors, cancellationToken)).ConfigureAwait(false);
        foreach (OxiVecScoredRecord hit in hits.Skip(options.Skip))
        {
            double score = _distance.Score(hit.Score);
            if (_distance.Passes(score, options.ScoreThreshold))
            {
                yield return new VectorSearchResult<TRecord>(_mapper.FromStorage<TRecord>(hit.Record, includeVectors), score);
            }
        }
    }

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreCollectionMetadata) ? _metadata
            : serviceType == typeof(IOxiVecBackend) ? _backend
            : serviceType == typeof(VectorDatabase) && _backend is OxiVecEmbeddedBackend embedded ? embedded.Database
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    private static CollectionModel BuildModel(OxiVecCollectionOptions options) =>
        typeof(TRecord) == typeof(Dictionary<string, object?>)
            ? throw new NotSupportedException(VectorDataStrings.NonDynamicCollectionWithDictionaryNotSupported(typeof(OxiVecDynamicCollection)))
            : new OxiVecModelBuilder().Build(typeof(TRecord), typeof(TKey), options.Definition, options.EmbeddingGenerator);

    private bool IncludeVectors(bool requested) =>
        requested && _mapper.VectorIsGenerated
            ? throw new NotSupportedException(VectorDataStrings.IncludeVectorsNotSupportedWithEmbeddingGeneration)
            : requested;

    private static async Task<ReadOnlyMemory<float>> QueryVectorAsync<TInput>(TInput searchValue, VectorPropertyModel vector, CancellationToken cancellationToken)
    {
        if (RecordMapper.AsFloats(searchValue) is { } floats)
        {
            return floats;
        }

        if (vector.EmbeddingGenerator is null)
        {
            throw new NotSupportedException(VectorDataStrings.InvalidSearchInputAndNoEmbeddingGeneratorWasConfigured(typeof(TInput), OxiVecModelBuilder.SupportedVectorTypes));
        }

        Embedding embedding = await vector.GenerateEmbeddingAsync(searchValue, cancellationToken).ConfigureAwait(false);
        return embedding is Embedding<float> e
            ? e.Vector
            : throw new InvalidOperationException(VectorDataStrings.IncompatibleEmbeddingGeneratorWasConfiguredForInputType(typeof(TInput), vector.EmbeddingGenerator.GetType()));
    }

    private async Task<List<VectorRecord>> ScanAsync(MetadataFilter filter, bool includeVectors, CancellationToken cancellationToken)
    {
        var all = new List<VectorRecord>();
        string? from = null;
        while (true)
        {
            string? start = from;
            IReadOnlyList<VectorRecord> page = await Run("Get", () => _backend.ScrollAsync(Name, filter, start, ScanPage + 1, includeVectors, cancellationToken)).ConfigureAwait(false);
            all.AddRange(page.Take(ScanPage));
            if (page.Count <= ScanPage)
            {
                return all;
            }

            from = page[ScanPage].Id;
        }
    }

    /// <summary>Runs a back-end call, wrapping its failures (other than cancellation) in <see cref="VectorStoreException"/>.</summary>
    private async Task<T> Run<T>(string operation, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not VectorStoreException)
        {
            string reason = ex is KeyNotFoundException ? $"collection '{Name}' does not exist ({ex.Message})" : ex.Message;
            throw new VectorStoreException($"OxiVec {operation} on collection '{Name}' failed: {reason}", ex)
            {
                VectorStoreSystemName = OxiVecVectorStore.SystemName,
                VectorStoreName = _backend.Name,
                CollectionName = Name,
                OperationName = operation,
            };
        }
    }
}

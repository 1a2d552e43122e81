using OxiVec.Storage;

namespace OxiVec.VectorData.Embedded;

/// <summary>
/// The embedded back end: collections in a <see cref="VectorDatabase"/> of this process. Upserts of many records are
/// one OxiVec transaction (one WAL commit). Disposing this back end disposes the database only when it opened it.
/// </summary>
public sealed class OxiVecEmbeddedBackend : IOxiVecBackend
{
    private readonly bool _ownsDatabase;

    /// <summary>Uses <paramref name="database"/>, which the caller keeps open while the back end is used and disposes.</summary>
    public OxiVecEmbeddedBackend(VectorDatabase database)
        : this(database, ownsDatabase: false)
    {
    }

    private OxiVecEmbeddedBackend(VectorDatabase database, bool ownsDatabase)
    {
        Database = database ?? throw new ArgumentNullException(nameof(database));
        _ownsDatabase = ownsDatabase;
    }

    /// <summary>Opens (recovering if needed) the database in <paramref name="dataDirectory"/>; disposing the back end disposes it.</summary>
    /// <param name="dataDirectory">The database's data directory (created when missing).</param>
    /// <param name="options">The database's options (null: the defaults).</param>
    public static OxiVecEmbeddedBackend Open(string dataDirectory, VectorDatabaseOptions? options = null) =>
        new(VectorDatabase.Open(dataDirectory, options), ownsDatabase: true);

    /// <summary>The database.</summary>
    public VectorDatabase Database { get; }

    /// <inheritdoc/>
    public string Name => Database.DataDirectory;

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListCollectionsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult<IReadOnlyList<string>>([.. Database.ListCollections().Select(c => c.Name)]);
    }

    /// <inheritdoc/>
    public Task<CollectionOptions?> GetCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            return Task.FromResult<CollectionOptions?>(Database.GetCollection(name).Options);
        }
        catch (KeyNotFoundException)
        {
            return Task.FromResult<CollectionOptions?>(null);
        }
    }

    /// <inheritdoc/>
    public Task<bool> CreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        if (Database.CollectionExists(name))
        {
            return Task.FromResult(false);
        }

        try
        {
            Database.CreateCollection(name, options);
            return Task.FromResult(true);
        }
        catch (InvalidOperationException) when (Database.CollectionExists(name))
        {
            return Task.FromResult(false); // created by another caller between the check and the create
        }
    }

    /// <inheritdoc/>
    public Task<bool> DropCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Database.DropCollection(name));
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<VectorRecord>> GetAsync(string collection, IReadOnlyList<string> ids, bool includeVectors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        var found = new List<VectorRecord>(ids.Count);
        foreach (string id in ids)
        {
            if (Database.Get(collection, id) is { } record)
            {
                found.Add(record);
            }
        }

        return Task.FromResult<IReadOnlyList<VectorRecord>>(found);
    }

    /// <inheritdoc/>
    public async Task UpsertAsync(string collection, IReadOnlyList<VectorRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        cancellationToken.ThrowIfCancellationRequested();
        if (records.Count == 0)
        {
            return;
        }

        using VectorTransaction transaction = Database.BeginTransaction();
        foreach (VectorRecord record in records)
        {
            transaction.Upsert(collection, record.Id, record.Vector, record.Metadata);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task DeleteAsync(string collection, IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();

        // A transaction deletes only ids that exist; one deleted by another writer in between makes the commit throw
        // with nothing applied, and the next round leaves it out. Each retry has at least one id fewer.
        for (int round = 0; round <= ids.Count; round++)
        {
            string[] present = [.. ids.Distinct(StringComparer.Ordinal).Where(id => Database.Get(collection, id) is not null)];
            if (present.Length == 0)
            {
                return;
            }

            using VectorTransaction transaction = Database.BeginTransaction();
            foreach (string id in present)
            {
                transaction.Delete(collection, id);
            }

            try
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (RecordNotFoundException)
            {
                // raced with another delete: recompute the ids that still exist
            }
        }
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<OxiVecScoredRecord>> SearchAsync(
        string collection, ReadOnlyMemory<float> query, int top, MetadataFilter? filter, bool includeVectors, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        IReadOnlyList<SearchResult> hits = Database.Search(collection, query.Span, top, new VectorSearchOptions { Filter = filter });
        var results = new List<OxiVecScoredRecord>(hits.Count);
        foreach (SearchResult hit in hits)
        {
            if (!includeVectors)
            {
                results.Add(new OxiVecScoredRecord(new VectorRecord(hit.Id, ReadOnlyMemory<float>.Empty, hit.Metadata), hit.Score));
            }
            else if (Database.Get(collection, hit.Id) is { } record)
            {
                // The vector is read after the search: a record deleted in between is left out.
                results.Add(new OxiVecScoredRecord(record, hit.Score));
            }
        }

        return Task.FromResult<IReadOnlyList<OxiVecScoredRecord>>(results);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<VectorRecord>> ScrollAsync(
        string collection, MetadataFilter? filter, string? fromId, int limit, bool includeVectors, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Database.Scroll(collection, filter, fromId, limit));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsDatabase)
        {
            Database.Dispose();
        }
    }
}

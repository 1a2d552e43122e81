using System.Net;
using OxiVec.Client;
using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.VectorData.Remote;

/// <summary>
/// The remote back end: collections of an <c>oxivec serve</c> server, through <see cref="OxiVecClient"/> (so over
/// IHttpClientFactory's handlers, with the client's retry rule: reads, upserts and deletes by id are retried on
/// transient failures, collection creation and deletion never). An upsert of many records is one request, so one
/// server transaction (all or none), up to the server's <c>MaxPointsPerRequest</c>.
/// </summary>
/// <remarks>
/// <para>Ids: every key type works (string, Guid, int, long); see docs/server.md ("The VectorData remote back end")
/// for how ids that are not unsigned integers or UUIDs are carried (a hashed UUID and the <c>__oxivec_id</c> payload
/// field, reserved).</para>
/// <para>Differences from the embedded back end, all refused rather than silent: ordering comparisons with longs beyond
/// ±2^53 throw <see cref="NotSupportedException"/> (the server's range bounds are doubles); HNSW parameters other than M
/// and EfConstruction must keep their defaults (the server takes only these two); one upsert, get or delete is at most
/// the server's <c>MaxPointsPerRequest</c> records.</para>
/// </remarks>
public sealed class OxiVecRemoteBackend : IOxiVecBackend
{
    private const int PageSize = 1000; // scroll pages: well under the server's MaxLimit default (10,000)

    private readonly OxiVecClient _client;

    /// <summary>A back end over <paramref name="client"/> (which the caller owns).</summary>
    public OxiVecRemoteBackend(OxiVecClient client) => _client = client ?? throw new ArgumentNullException(nameof(client));

    /// <summary>The client.</summary>
    public OxiVecClient Client => _client;

    /// <inheritdoc/>
    public string Name => _client.Endpoint.ToString();

    /// <inheritdoc/>
    public Task<IReadOnlyList<string>> ListCollectionsAsync(CancellationToken cancellationToken = default) =>
        Call(() => _client.ListCollectionsAsync(cancellationToken));

    /// <inheritdoc/>
    public async Task<CollectionOptions?> GetCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        try
        {
            CollectionDescription info = await _client.GetCollectionAsync(name, cancellationToken).ConfigureAwait(false);
            int m = info.Hnsw.M ?? 0;
            return new CollectionOptions(info.Vectors.Size)
            {
                Metric = info.Vectors.Distance switch
                {
                    Distance.Cosine => DistanceMetric.Cosine,
                    Distance.Dot => DistanceMetric.DotProduct,
                    _ => DistanceMetric.Euclidean,
                },
                Index = m == 0 ? IndexKind.Flat : IndexKind.Hnsw,
                Hnsw = m == 0 ? new HnswParameters() : new HnswParameters { M = m, EfConstruction = info.Hnsw.EfConstruct ?? new HnswParameters().EfConstruction },
            };
        }
        catch (OxiVecClientException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (OxiVecClientException ex)
        {
            throw Translate(ex);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="NotSupportedException">HNSW parameters the server cannot take (other than M and EfConstruction) differ from their defaults.</exception>
    public async Task<bool> CreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(options);
        HnswParameters defaults = new() { M = options.Hnsw.M, EfConstruction = options.Hnsw.EfConstruction };
        if (options.Index == IndexKind.Hnsw && options.Hnsw != defaults)
        {
            throw new NotSupportedException(
                $"The remote OxiVec back end creates collections with the HNSW parameters M and EfConstruction only; collection '{name}' sets others ({options.Hnsw}).");
        }

        Distance distance = options.Metric switch
        {
            DistanceMetric.Cosine => Distance.Cosine,
            DistanceMetric.DotProduct => Distance.Dot,
            _ => Distance.Euclid,
        };
        HnswConfig hnsw = options.Index == IndexKind.Flat ? new HnswConfig(M: 0) : new HnswConfig(options.Hnsw.M, options.Hnsw.EfConstruction);
        try
        {
            await _client.CreateCollectionAsync(name, new VectorParams(options.Dimension, distance), hnsw, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OxiVecClientException ex) when (ex.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
        catch (OxiVecClientException ex)
        {
            throw Translate(ex);
        }
    }

    /// <inheritdoc/>
    public Task<bool> DropCollectionAsync(string name, CancellationToken cancellationToken = default) =>
        Call(() => _client.DeleteCollectionAsync(name, cancellationToken));

    /// <inheritdoc/>
    public async Task<IReadOnlyList<VectorRecord>> GetAsync(string collection, IReadOnlyList<string> ids, bool includeVectors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        IReadOnlyList<RetrievedPoint> points = await Call(() =>
            _client.RetrieveAsync(collection, ids.Select(id => RemoteIds.ToPoint(id).Point), withPayload: true, includeVectors, cancellationToken)).ConfigureAwait(false);
        return [.. points.Select(p => ToRecord(p.Id, p.Payload, p.Vector))];
    }

    /// <inheritdoc/>
    public async Task UpsertAsync(string collection, IReadOnlyList<VectorRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var points = new List<PointStruct>(records.Count);
        foreach (VectorRecord record in records)
        {
            (PointId point, bool hashed) = RemoteIds.ToPoint(record.Id);
            points.Add(new PointStruct(point, record.Vector, RemotePayload.ToPayload(record.Metadata, hashed ? record.Id : null)));
        }

        await Call(() => _client.UpsertAsync(collection, points, wait: true, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public Task DeleteAsync(string collection, IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return Call(() => _client.DeleteAsync(collection, PointsSelector.ByIds(ids.Select(id => RemoteIds.ToPoint(id).Point)), wait: true, cancellationToken));
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<OxiVecScoredRecord>> SearchAsync(
        string collection, ReadOnlyMemory<float> query, int top, MetadataFilter? filter, bool includeVectors, CancellationToken cancellationToken = default)
    {
        var request = new QueryRequest(query) { Limit = top, Filter = RemoteFilter.Translate(filter), WithPayload = true, WithVector = includeVectors };
        IReadOnlyList<ScoredPoint> hits = await Call(() => _client.QueryAsync(collection, request, cancellationToken)).ConfigureAwait(false);
        return [.. hits.Select(h => new OxiVecScoredRecord(ToRecord(h.Id, h.Payload, h.Vector), h.Score))];
    }

    /// <inheritdoc/>
    /// <remarks>The order is the server's point-id order (integers by value, then UUIDs), the same for every call, which paging needs.</remarks>
    public async Task<IReadOnlyList<VectorRecord>> ScrollAsync(
        string collection, MetadataFilter? filter, string? fromId, int limit, bool includeVectors, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Filter? translated = RemoteFilter.Translate(filter);
        var records = new List<VectorRecord>(Math.Min(limit, PageSize));
        PointId? offset = fromId is null ? null : RemoteIds.ToPoint(fromId).Point;
        while (records.Count < limit)
        {
            var request = new ScrollRequest { Filter = translated, Limit = Math.Min(PageSize, limit - records.Count), Offset = offset, WithPayload = true, WithVector = includeVectors };
            ScrollResult page = await Call(() => _client.ScrollAsync(collection, request, cancellationToken)).ConfigureAwait(false);
            records.AddRange(page.Points.Select(p => ToRecord(p.Id, p.Payload, p.Vector)));
            if (page.NextPageOffset is not { } next)
            {
                break;
            }

            offset = next;
        }

        return records;
    }

    /// <summary>Nothing to release: the caller owns the client.</summary>
    public void Dispose()
    {
    }

    private static VectorRecord ToRecord(PointId id, System.Text.Json.Nodes.JsonObject? payload, float[]? vector)
    {
        (Dictionary<string, MetadataValue> metadata, string? hashedId) = RemotePayload.FromPayload(payload);
        return new VectorRecord(RemoteIds.FromPoint(id, hashedId), vector ?? ReadOnlyMemory<float>.Empty, metadata);
    }

    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (OxiVecClientException ex)
        {
            throw Translate(ex);
        }
    }

    /// <summary>The back-end contract's exceptions: an unknown collection <see cref="KeyNotFoundException"/>, a refused input <see cref="ArgumentException"/>; others as they are.</summary>
    private static Exception Translate(OxiVecClientException ex) => ex.StatusCode switch
    {
        HttpStatusCode.NotFound => new KeyNotFoundException(ex.ServerMessage ?? ex.Message, ex),
        HttpStatusCode.BadRequest => new ArgumentException(ex.ServerMessage ?? ex.Message, ex),
        _ => ex,
    };
}

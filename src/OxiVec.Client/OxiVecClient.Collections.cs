using System.Text.Json;

namespace OxiVec.Client;

public sealed partial class OxiVecClient
{
    /// <summary>The names of the collections (<c>GET /collections</c>). Retried on transient failures.</summary>
    public async Task<IReadOnlyList<string>> ListCollectionsAsync(CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Get, "collections", null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return [.. result.GetProperty("collections").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];
    }

    /// <summary>
    /// Creates a collection (<c>PUT /collections/{name}</c>) of <paramref name="vectors"/>, with an HNSW index
    /// (<paramref name="hnsw"/>; <c>M = 0</c> makes an exact index). Never retried: a second attempt after a lost
    /// answer would meet the collection the first one made (409).
    /// </summary>
    /// <exception cref="OxiVecClientException">409 when the collection exists; 400 for a bad name or size.</exception>
    public async Task CreateCollectionAsync(string collection, VectorParams vectors, HnswConfig? hnsw = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        await SendAsync(HttpMethod.Put, $"collections/{Segment(collection)}", w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("vectors");
            w.WriteNumber("size", vectors.Size);
            w.WriteString("distance", vectors.Distance.ToString());
            w.WriteEndObject();
            if (hnsw is not null)
            {
                w.WriteStartObject("hnsw_config");
                if (hnsw.M is { } m)
                {
                    w.WriteNumber("m", m);
                }

                if (hnsw.EfConstruct is { } ef)
                {
                    w.WriteNumber("ef_construct", ef);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
        }, retrySafe: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A collection's description (<c>GET /collections/{name}</c>). Retried on transient failures.</summary>
    /// <exception cref="OxiVecClientException">404 for an unknown collection.</exception>
    public async Task<CollectionDescription> GetCollectionAsync(string collection, CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Get, $"collections/{Segment(collection)}", null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        JsonElement config = result.GetProperty("config");
        JsonElement vectors = config.GetProperty("params").GetProperty("vectors");
        JsonElement hnsw = config.GetProperty("hnsw_config");
        return new CollectionDescription(
            result.GetProperty("status").GetString()!,
            result.GetProperty("points_count").GetInt64(),
            result.GetProperty("indexed_vectors_count").GetInt64(),
            new VectorParams(vectors.GetProperty("size").GetInt32(), Enum.Parse<Distance>(vectors.GetProperty("distance").GetString()!)),
            new HnswConfig(hnsw.GetProperty("m").GetInt32(), hnsw.GetProperty("ef_construct").GetInt32()));
    }

    /// <summary>Whether the collection exists (<c>GET /collections/{name}/exists</c>). Retried on transient failures.</summary>
    public async Task<bool> CollectionExistsAsync(string collection, CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Get, $"collections/{Segment(collection)}/exists", null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return result.GetProperty("exists").GetBoolean();
    }

    /// <summary>
    /// Deletes a collection (<c>DELETE /collections/{name}</c>); false when it did not exist. Never retried: a second
    /// attempt could delete a collection of the same name created in between.
    /// </summary>
    public async Task<bool> DeleteCollectionAsync(string collection, CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Delete, $"collections/{Segment(collection)}", null, retrySafe: false, cancellationToken).ConfigureAwait(false);
        return result.GetBoolean();
    }
}

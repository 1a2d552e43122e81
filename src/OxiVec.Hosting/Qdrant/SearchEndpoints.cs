using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Indexing;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// Search: <c>/points/query</c> and <c>/points/query/batch</c>, and the legacy <c>/points/search</c> and
/// <c>/points/search/batch</c> that many clients still use. The filter runs inside the index search (never after it).
/// </summary>
internal sealed class SearchEndpoints(QdrantLimits limits)
{
    private const string QueryPattern = "/collections/{name}/points/query";

    /// <summary>
    /// Maps <c>/points/query</c> as a plain request delegate on <paramref name="endpoints"/>, outside the Qdrant group
    /// and its endpoint filter: it answers its own errors as <see cref="QdrantErrorFilter"/> would.
    /// </summary>
    public void MapQuery(IEndpointRouteBuilder endpoints)
    {
        // The host is a singleton of the application's services, resolved at the first query (not from the request's
        // services: their scope would be created for every request only to hand out the same singleton).
        IServiceProvider services = endpoints.ServiceProvider;
        OxiVecDatabaseHost? host = null;
        RequestDelegate query = context => QueryAsync(context, host ??= services.GetRequiredService<OxiVecDatabaseHost>());
        endpoints.MapPost(QueryPattern, query);
    }

    /// <summary>Maps the other search endpoints on the Qdrant group (<see cref="QdrantErrorFilter"/> answers their errors).</summary>
    public void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/collections/{name}/points/query/batch", async (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
        {
            long started = Stopwatch.GetTimestamp();
            (VectorDatabase database, CollectionInfo collection, JsonDocument body) = await OpenAsync(name, request, host, ct).ConfigureAwait(false);
            using (body)
            {
                List<SearchSpec> specs = Batch(body.RootElement, (search, path) => SearchSpec.FromQuery(search, limits, path));
                return QdrantResponse.Ok(specs.Select(s => new QueryResult(Run(database, collection, s, StoredVector.AsStored(request)))).ToList(), started);
            }
        });
        endpoints.MapPost("/collections/{name}/points/search", async (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
        {
            long started = Stopwatch.GetTimestamp();
            (VectorDatabase database, CollectionInfo collection, JsonDocument body) = await OpenAsync(name, request, host, ct).ConfigureAwait(false);
            using (body)
            {
                return QdrantResponse.Ok(Run(database, collection, SearchSpec.FromSearch(body.RootElement, limits), StoredVector.AsStored(request)), started);
            }
        });
        endpoints.MapPost("/collections/{name}/points/search/batch", async (string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken ct) =>
        {
            long started = Stopwatch.GetTimestamp();
            (VectorDatabase database, CollectionInfo collection, JsonDocument body) = await OpenAsync(name, request, host, ct).ConfigureAwait(false);
            using (body)
            {
                List<SearchSpec> specs = Batch(body.RootElement, (search, path) => SearchSpec.FromSearch(search, limits, path));
                return QdrantResponse.Ok(specs.Select(s => Run(database, collection, s, StoredVector.AsStored(request))).ToList(), started);
            }
        });
    }

    /// <summary>
    /// <c>/points/query</c>, the hot path of a search server, as a plain <see cref="RequestDelegate"/>: no parameter
    /// binding, no endpoint filter (its boxed arguments and invocation context), no request-scoped services (the host
    /// is the application's singleton). Its failures answer as the Qdrant group's <see cref="QdrantErrorFilter"/>
    /// answers them (bad input 400, unknown collection 404, an unavailable database 503); anything else propagates to
    /// the server's error handling, as from every other endpoint. Once the body is in (usually at once: Kestrel has
    /// received it whole), the query runs synchronously (<see cref="Answer"/>): no task per request but the delegate's.
    /// </summary>
    private async Task QueryAsync(HttpContext context, OxiVecDatabaseHost host)
    {
        long started = Stopwatch.GetTimestamp();
        IResult answer;
        try
        {
            string name = (string)context.Request.RouteValues["name"]!;
            VectorDatabase database = host.Database;
            CollectionInfo collection = CollectionEndpoints.Require(database, name);
            using PooledBuffer body = await PooledBuffer.ReadAllAsync(context.Request.BodyReader, context.Request.ContentLength, context.RequestAborted).ConfigureAwait(false);
            answer = Answer(database, collection, body, StoredVector.AsStored(context.Request), started);
        }
        catch (Exception ex) when (QdrantErrorFilter.StatusOf(ex) is int status)
        {
            answer = QdrantResponse.Error(status, ex.Message, started);
        }

        await answer.ExecuteAsync(context).ConfigureAwait(false);
    }

    /// <summary>
    /// The query itself, its body read whole: the common shape (a vector, limit, offset, threshold, payload and vector
    /// flags) is read straight into a pooled vector (<see cref="PlainQuery"/>), anything else the general way
    /// (<see cref="SearchSpec.FromQuery"/>, which names every error); the answer is written by <see cref="QueryAnswer"/>.
    /// </summary>
    private QueryAnswer Answer(VectorDatabase database, CollectionInfo collection, PooledBuffer body, bool asStored, long started)
    {
        int dimension = collection.Options.Dimension;
        float[] vector = ArrayPool<float>.Shared.Rent(dimension);
        try
        {
            if (PlainQuery.TryRead(body.Span, vector.AsSpan(0, dimension), limits, out PlainQuery plain))
            {
                var spec = new SearchSpec(null, null, null, plain.Limit, plain.Offset, null, false, plain.ScoreThreshold, PointOutput.Plain(plain.WithPayload, plain.WithVector));
                List<ScoredPointJson> points = QueryAnswer.RentPoints(plain.Limit);
                Nearest(database, collection, spec, vector.AsSpan(0, dimension), asStored, points);
                return new QueryAnswer(points, started);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(vector);
        }

        using JsonDocument document = QdrantJson.Parse(body.Memory);
        return new QueryAnswer(Run(database, collection, SearchSpec.FromQuery(document.RootElement, limits), asStored), started);
    }

    /// <summary>Runs one search: <c>limit + offset</c> (plus the query point) nearest, then skips, leaves out and cuts at the threshold.</summary>
    public static List<ScoredPointJson> Run(VectorDatabase database, CollectionInfo collection, SearchSpec spec, bool vectorsAsStored = false)
    {
        if (spec.Vector is null && spec.PointId is null)
        {
            // Qdrant's query without a query lists the matching points in id order, each with score 1.
            return [.. database.Scroll(collection.Name, spec.Filter, null, spec.Limit + spec.Offset).Skip(spec.Offset).Select(record =>
                new ScoredPointJson(record.Id, 1f, spec.Output.Select(record.Metadata), spec.Output.Vector ? StoredVector.For(collection.Options.Metric, record.Vector, vectorsAsStored) : null))];
        }

        float[] query = spec.Vector ?? (database.Get(collection.Name, spec.PointId!) ?? throw QdrantNotFound.Point(spec.PointId!)).Vector.ToArray();
        if (query.Length != collection.Options.Dimension)
        {
            throw new QdrantRequestException(spec.QueryPath, $"Vector dimension error: expected dim: {collection.Options.Dimension}, got {query.Length}.");
        }

        var points = new List<ScoredPointJson>(Math.Min(spec.Limit, 64));
        Nearest(database, collection, spec, query, vectorsAsStored, points);
        return points;
    }

    /// <summary>The search of <see cref="Run"/> once the query vector is known (of the collection's dimension): its points added to <paramref name="points"/>.</summary>
    private static void Nearest(VectorDatabase database, CollectionInfo collection, SearchSpec spec, ReadOnlySpan<float> query, bool vectorsAsStored, List<ScoredPointJson> points)
    {
        int k = spec.Limit + spec.Offset + (spec.PointId is null ? 0 : 1);
        IReadOnlyList<SearchResult> hits = database.Search(collection.Name, query, k, new VectorSearchOptions { Filter = spec.Filter, Ef = spec.Ef, Exact = spec.Exact });
        bool lowerIsBetter = collection.Options.Metric == DistanceMetric.Euclidean;
        int skip = spec.Offset;
        for (int i = 0; i < hits.Count; i++)
        {
            SearchResult hit = hits[i];
            if (points.Count == spec.Limit)
            {
                break;
            }

            if (string.Equals(hit.Id, spec.PointId, StringComparison.Ordinal) || skip-- > 0)
            {
                continue;
            }

            if (spec.ScoreThreshold is float threshold && (lowerIsBetter ? hit.Score > threshold : hit.Score < threshold))
            {
                break; // hits come best first: the rest are worse
            }

            float[]? vector = spec.Output.Vector && database.Get(collection.Name, hit.Id) is { } stored ? StoredVector.For(collection.Options.Metric, stored.Vector, vectorsAsStored) : null;
            points.Add(new ScoredPointJson(hit.Id, hit.Score, spec.Output.Select(hit.Metadata), vector));
        }
    }

    private static async Task<(VectorDatabase, CollectionInfo, JsonDocument)> OpenAsync(string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        VectorDatabase database = host.Database;
        CollectionInfo collection = CollectionEndpoints.Require(database, name);
        return (database, collection, await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false));
    }

    private List<SearchSpec> Batch(JsonElement body, Func<JsonElement, string, SearchSpec> parse)
    {
        QdrantJson.RefuseUnknown(body, "", "searches");
        JsonElement searches = QdrantJson.Array(body, "searches", "");
        if (searches.GetArrayLength() > limits.MaxPoints)
        {
            throw new QdrantRequestException("searches", $"{searches.GetArrayLength()} searches in one request is more than the server's MaxPointsPerRequest ({limits.MaxPoints}).");
        }

        var specs = new List<SearchSpec>(searches.GetArrayLength());
        int i = 0;
        foreach (JsonElement search in searches.EnumerateArray())
        {
            string path = $"searches[{i++}]";
            specs.Add(parse(QdrantJson.Object(search, path), path));
        }

        return specs;
    }

    private sealed record QueryResult(List<ScoredPointJson> Points);
}

using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OxiVec.Hosting.Qdrant.Translation;
using OxiVec.Storage;

namespace OxiVec.Hosting.Qdrant;

/// <summary>Collections: list, create, get, exists, delete, update (which refuses every change: OxiVec fixes a collection's shape at creation).</summary>
internal sealed class CollectionEndpoints(QdrantLimits limits)
{
    public void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/collections", List);
        endpoints.MapPut("/collections/{name}", CreateAsync);
        endpoints.MapGet("/collections/{name}", Get);
        endpoints.MapPatch("/collections/{name}", UpdateAsync);
        endpoints.MapDelete("/collections/{name}", Delete);
        endpoints.MapGet("/collections/{name}/exists", Exists);
    }

    /// <summary>The collection <paramref name="name"/> names, after checking the name.</summary>
    /// <exception cref="KeyNotFoundException">It does not exist (Qdrant's 404 message).</exception>
    public static CollectionInfo Require(VectorDatabase database, string name)
    {
        CollectionName.Check(name);
        try
        {
            return database.GetCollection(name);
        }
        catch (KeyNotFoundException)
        {
            throw QdrantNotFound.Collection(name);
        }
    }

    private static IResult List(OxiVecDatabaseHost host)
    {
        long started = Stopwatch.GetTimestamp();
        var collections = host.Database.ListCollections().Select(c => new CollectionDescription(c.Name)).ToList();
        return QdrantResponse.Ok(new CollectionsList(collections), started);
    }

    private async Task<IResult> CreateAsync(string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        CollectionName.Check(name);
        using JsonDocument body = await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        CollectionOptions options = CollectionCreateRequest.Parse(body.RootElement, limits);
        VectorDatabase database = host.Database;
        try
        {
            database.CreateCollection(name, options);
        }
        catch (InvalidOperationException) when (database.CollectionExists(name))
        {
            throw new QdrantConflictException($"Collection `{name}` already exists!");
        }

        SetLsn(request, database.GetWalMetrics().LastLsn);
        return QdrantResponse.Ok(true, started);
    }

    private static IResult Get(string name, OxiVecDatabaseHost host)
    {
        long started = Stopwatch.GetTimestamp();
        CollectionInfo collection = Require(host.Database, name);
        return QdrantResponse.Ok(CollectionInfoJson.From(collection, host.Options.ToWalConfig()), started);
    }

    private static async Task<IResult> UpdateAsync(string name, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        Require(host.Database, name);
        using JsonDocument body = await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        foreach (JsonProperty property in body.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Null)
            {
                throw new QdrantRequestException(property.Name, $"OxiVec cannot change a collection's {property.Name}: a collection's shape is fixed when it is created.");
            }
        }

        return QdrantResponse.Ok(true, started);
    }

    private static IResult Delete(string name, HttpRequest request, OxiVecDatabaseHost host)
    {
        long started = Stopwatch.GetTimestamp();
        CollectionName.Check(name);
        VectorDatabase database = host.Database;
        bool dropped = database.DropCollection(name);
        SetLsn(request, dropped ? database.GetWalMetrics().LastLsn : 0);
        return QdrantResponse.Ok(dropped, started);
    }

    private static IResult Exists(string name, OxiVecDatabaseHost host)
    {
        long started = Stopwatch.GetTimestamp();
        CollectionName.Check(name);
        return QdrantResponse.Ok(new Existence(host.Database.CollectionExists(name)), started);
    }

    /// <summary>
    /// The <c>OxiVec-Lsn</c> header (and its older name <c>x-oxivec-lsn</c>): the LSN that covers the request's write
    /// (0 when it changed nothing), which a read may require with <c>OxiVec-Min-Lsn</c>. Collection operations report
    /// the WAL's last LSN after they returned, which covers them.
    /// </summary>
    public static void SetLsn(HttpRequest request, long lsn)
    {
        string value = QdrantJson.Invariant(lsn);
        request.HttpContext.Response.Headers[LsnHeader] = value;
        request.HttpContext.Response.Headers[Server.ReplicationRequests.LsnHeader] = value;
    }

    /// <summary>The response header carrying a write's LSN.</summary>
    public const string LsnHeader = "x-oxivec-lsn";

    private sealed record CollectionDescription(string Name);

    private sealed record CollectionsList(List<CollectionDescription> Collections);

    private sealed record Existence(bool Exists);
}

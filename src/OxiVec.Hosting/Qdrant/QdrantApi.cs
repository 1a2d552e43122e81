using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OxiVec.Hosting.Server;

namespace OxiVec.Hosting.Qdrant;

/// <summary>Maps the Qdrant-compatible REST API (the supported subset is listed in docs/server.md).</summary>
public static class QdrantApi
{
    /// <summary>The title <c>GET /</c> answers with.</summary>
    public const string Title = "oxivec - vector search engine (Qdrant-compatible REST)";

    /// <summary>
    /// Maps every Qdrant endpoint OxiVec serves, and a 404 naming the feature for the Qdrant paths it does not.
    /// The request limits are <paramref name="limits"/>, or the <c>OxiVec:Server</c> configuration section's.
    /// </summary>
    public static IEndpointRouteBuilder MapQdrantApi(this IEndpointRouteBuilder endpoints, ServerOptions? limits = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (limits is null)
        {
            limits = new ServerOptions();
            endpoints.ServiceProvider.GetService<IConfiguration>()?.GetSection(ServerOptions.SectionName).Bind(limits);
        }

        var qdrantLimits = new QdrantLimits(limits);
        var locks = new PointLocks();
        RouteGroupBuilder api = endpoints.MapGroup("");
        api.AddEndpointFilter<QdrantErrorFilter>();
        api.MapGet("/", Root);
        new CollectionEndpoints(qdrantLimits).Map(api);
        new PointEndpoints(qdrantLimits).Map(api);
        new PointWriteEndpoints(new UpdateExecutor(locks, qdrantLimits), qdrantLimits).Map(api);
        var search = new SearchEndpoints(qdrantLimits);
        search.MapQuery(endpoints);
        search.Map(api);
        UnsupportedEndpoints.Map(api);
        return endpoints;
    }

    private static IResult Root()
    {
        string version = typeof(QdrantApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        return Results.Json(new RootInfo(Title, version), QdrantResponse.Json);
    }

    private sealed record RootInfo(string Title, string Version);
}

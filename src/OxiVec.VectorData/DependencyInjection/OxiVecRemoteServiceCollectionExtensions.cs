using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OxiVec.Client;
using OxiVec.VectorData.Remote;

namespace OxiVec.VectorData.DependencyInjection;

/// <summary>
/// Registers the remote back end (<see cref="OxiVecRemoteBackend"/>: an <c>oxivec serve</c> reached over HTTP with
/// <see cref="OxiVecClient"/>) for the store and collections that
/// <see cref="OxiVecVectorDataServiceCollectionExtensions"/> registers.
/// </summary>
/// <remarks>
/// The back end is a singleton, so its HttpClient lives as long as the container: it comes from IHttpClientFactory (a
/// named client per service key) over a <see cref="System.Net.Http.SocketsHttpHandler"/> whose pooled connections
/// are renewed every two minutes, which is how a long-lived client keeps following DNS changes.
/// </remarks>
public static class OxiVecRemoteServiceCollectionExtensions
{
    /// <summary>Registers the remote back end with options from <c>OxiVec:Client</c> of the registered configuration (when there is one), then <paramref name="configure"/>.</summary>
    public static IServiceCollection AddOxiVecRemoteBackend(this IServiceCollection services, Action<OxiVecClientOptions>? configure = null) =>
        AddKeyedOxiVecRemoteBackend(services, null, configure);

    /// <summary>Registers the remote back end with options bound from <paramref name="section"/> (the keys of <see cref="OxiVecClientOptions"/>: Endpoint, ApiKey, Timeout, MaxRetries...).</summary>
    public static IServiceCollection AddOxiVecRemoteBackend(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddKeyedOxiVecRemoteBackend(services, null, o => o.Bind(section), bindRegisteredConfiguration: false);
    }

    /// <summary>Keyed <see cref="AddOxiVecRemoteBackend(IServiceCollection, Action{OxiVecClientOptions}?)"/>: the back end is registered under <paramref name="serviceKey"/>.</summary>
    public static IServiceCollection AddKeyedOxiVecRemoteBackend(this IServiceCollection services, object? serviceKey, Action<OxiVecClientOptions>? configure = null) =>
        AddKeyedOxiVecRemoteBackend(services, serviceKey, configure, bindRegisteredConfiguration: true);

    /// <summary>Registers the remote back end and a store over it (<see cref="OxiVecVectorStore"/> and <see cref="Microsoft.Extensions.VectorData.VectorStore"/>).</summary>
    public static IServiceCollection AddOxiVecRemoteVectorStore(
        this IServiceCollection services, Action<OxiVecClientOptions>? configure = null,
        Func<IServiceProvider, OxiVecVectorStoreOptions>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        AddOxiVecRemoteBackend(services, configure);
        return services.AddOxiVecVectorStore(optionsProvider, lifetime);
    }

    /// <summary>Keyed <see cref="AddOxiVecRemoteVectorStore"/>: the back end and the store are registered under <paramref name="serviceKey"/>.</summary>
    public static IServiceCollection AddKeyedOxiVecRemoteVectorStore(
        this IServiceCollection services, object? serviceKey, Action<OxiVecClientOptions>? configure = null,
        Func<IServiceProvider, OxiVecVectorStoreOptions>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        AddKeyedOxiVecRemoteBackend(services, serviceKey, configure);
        return services.AddKeyedOxiVecVectorStore(serviceKey, optionsProvider, lifetime);
    }

    private static IServiceCollection AddKeyedOxiVecRemoteBackend(
        IServiceCollection services, object? serviceKey, Action<OxiVecClientOptions>? configure, bool bindRegisteredConfiguration)
    {
        ArgumentNullException.ThrowIfNull(services);
        string clientName = serviceKey is null ? "OxiVec.VectorData.Remote" : $"OxiVec.VectorData.Remote[{serviceKey}]";
        services.AddHttpClient(clientName)
            .UseSocketsHttpHandler((handler, _) => handler.PooledConnectionLifetime = TimeSpan.FromMinutes(2))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddKeyedSingleton<IOxiVecBackend>(serviceKey, (provider, _) =>
        {
            var options = new OxiVecClientOptions();
            if (bindRegisteredConfiguration && provider.GetService<IConfiguration>() is { } configuration)
            {
                options.Bind(configuration.GetSection(OxiVecClientOptions.SectionName));
            }

            configure?.Invoke(options);
            HttpClient http = provider.GetRequiredService<IHttpClientFactory>().CreateClient(clientName);
            http.BaseAddress = options.Endpoint;
            http.Timeout = options.Timeout;
            return new OxiVecRemoteBackend(new OxiVecClient(http, options));
        });
        return services;
    }
}

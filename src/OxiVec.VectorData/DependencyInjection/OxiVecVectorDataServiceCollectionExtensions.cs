using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using OxiVec.Storage;
using OxiVec.VectorData.Embedded;

namespace OxiVec.VectorData.DependencyInjection;

/// <summary>
/// Registers OxiVec's vector store and collections as Microsoft's connectors do: the store as
/// <see cref="VectorStore"/> and <see cref="OxiVecVectorStore"/>; a collection as
/// <see cref="VectorStoreCollection{TKey, TRecord}"/>, <see cref="IVectorSearchable{TRecord}"/> and
/// <see cref="OxiVecCollection{TKey, TRecord}"/>; keyed variants under a service key.
/// </summary>
/// <remarks>
/// The store and collections use the <see cref="IOxiVecBackend"/> registered in the container (under the same key
/// first, then unkeyed), or else wrap a registered <see cref="VectorDatabase"/> (which the container owns). Register
/// the embedded back end with <see cref="AddOxiVecEmbeddedBackend(IServiceCollection, string, VectorDatabaseOptions?)"/>
/// (or the overloads of <c>AddOxiVecVectorStore</c> taking a data directory or configuration), the remote one with
/// <see cref="OxiVecRemoteServiceCollectionExtensions.AddOxiVecRemoteBackend(IServiceCollection, Action{OxiVec.Client.OxiVecClientOptions}?)"/>. Without an options provider, the embedding generator is the
/// container's <see cref="IEmbeddingGenerator"/>, if any.
/// </remarks>
public static class OxiVecVectorDataServiceCollectionExtensions
{
    /// <summary>The configuration key of the embedded database's data directory: <c>DataDirectory</c>.</summary>
    public const string DataDirectoryKey = "DataDirectory";

    /// <summary>Registers the embedded back end (a singleton) over the database in <paramref name="dataDirectory"/>, opened on first use and disposed with the container.</summary>
    public static IServiceCollection AddOxiVecEmbeddedBackend(this IServiceCollection services, string dataDirectory, VectorDatabaseOptions? databaseOptions = null) =>
        AddKeyedOxiVecEmbeddedBackend(services, null, dataDirectory, databaseOptions);

    /// <summary>Keyed <see cref="AddOxiVecEmbeddedBackend(IServiceCollection, string, VectorDatabaseOptions?)"/>.</summary>
    public static IServiceCollection AddKeyedOxiVecEmbeddedBackend(this IServiceCollection services, object? serviceKey, string dataDirectory, VectorDatabaseOptions? databaseOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        services.AddKeyedSingleton<IOxiVecBackend>(serviceKey, (_, _) => OxiVecEmbeddedBackend.Open(dataDirectory, databaseOptions));
        return services;
    }

    /// <summary>Registers the embedded back end over the data directory named by <paramref name="configuration"/>'s <c>DataDirectory</c>.</summary>
    /// <exception cref="InvalidOperationException">The configuration has no <c>DataDirectory</c>.</exception>
    public static IServiceCollection AddOxiVecEmbeddedBackend(this IServiceCollection services, IConfiguration configuration) =>
        AddOxiVecEmbeddedBackend(services, DataDirectoryOf(configuration));

    /// <summary>Registers a store over the back end in the container.</summary>
    public static IServiceCollection AddOxiVecVectorStore(
        this IServiceCollection services, Func<IServiceProvider, OxiVecVectorStoreOptions>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton) =>
        AddKeyedOxiVecVectorStore(services, null, optionsProvider, lifetime);

    /// <summary>Registers the embedded back end over <paramref name="dataDirectory"/> and a store over it.</summary>
    public static IServiceCollection AddOxiVecVectorStore(
        this IServiceCollection services, string dataDirectory, Func<IServiceProvider, OxiVecVectorStoreOptions>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton) =>
        AddKeyedOxiVecVectorStore(services, null, dataDirectory, optionsProvider, lifetime);

    /// <summary>Registers the embedded back end over <paramref name="configuration"/>'s <c>DataDirectory</c> and a store over it.</summary>
    /// <exception cref="InvalidOperationException">The configuration has no <c>DataDirectory</c>.</exception>
    public static IServiceCollection AddOxiVecVectorStore(
        this IServiceCollection services, IConfiguration configuration, Func<IServiceProvider, OxiVecVectorStoreOptions>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton) =>
        AddKeyedOxiVecVectorStore(services, null, DataDirectoryOf(configuration), optionsProvider, lifetime);

    /// <summary>Keyed <see cref="AddOxiVecVectorStore(IServiceCollection, string, Func{IServiceProvider, OxiVecVectorStoreOptions}?, ServiceLifetime)"/>; the back end is registered under the same key.</summary>
    public static IServiceCollection AddKeyedOxiVecVectorStore(
        this IServiceCollection services, object? serviceKey, string dataDirectory, Func<IServiceProvider, OxiVecVectorStoreOptions>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        AddKeyedOxiVecEmbeddedBackend(services, serviceKey, dataDirectory);
        return AddKeyedOxiVecVectorStore(services, serviceKey, optionsProvider, lifetime);
    }

    /// <summary>Keyed <see cref="AddOxiVecVectorStore(IServiceCollection, Func{IServiceProvider, OxiVecVectorStoreOptions}?, ServiceLifetime)"/>.</summary>
    public static IServiceCollection AddKeyedOxiVecVectorStore(
        this IServiceCollection services, object? serviceKey, Func<IServiceProvider, OxiVecVectorStoreOptions>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Add(new ServiceDescriptor(typeof(OxiVecVectorStore), serviceKey, (sp, _) =>
            new OxiVecVectorStore(
                ResolveBackend(sp, serviceKey),
                optionsProvider?.Invoke(sp) ?? new OxiVecVectorStoreOptions { EmbeddingGenerator = sp.GetService<IEmbeddingGenerator>() }),
            lifetime));
        services.Add(new ServiceDescriptor(typeof(VectorStore), serviceKey, (sp, key) => sp.GetRequiredKeyedService<OxiVecVectorStore>(key), lifetime));
        return services;
    }

    /// <summary>Registers the collection <paramref name="name"/> of <typeparamref name="TRecord"/> records over the back end in the container.</summary>
    public static IServiceCollection AddOxiVecCollection<TKey, TRecord>(
        this IServiceCollection services, string name, Func<IServiceProvider, OxiVecCollectionOptions>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class =>
        AddKeyedOxiVecCollection<TKey, TRecord>(services, null, name, optionsProvider, lifetime);

    /// <summary>Keyed <see cref="AddOxiVecCollection{TKey, TRecord}"/>.</summary>
    public static IServiceCollection AddKeyedOxiVecCollection<TKey, TRecord>(
        this IServiceCollection services, object? serviceKey, string name, Func<IServiceProvider, OxiVecCollectionOptions>? optionsProvider = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        services.Add(new ServiceDescriptor(typeof(OxiVecCollection<TKey, TRecord>), serviceKey, (sp, _) =>
            new OxiVecCollection<TKey, TRecord>(
                ResolveBackend(sp, serviceKey),
                name,
                optionsProvider?.Invoke(sp) ?? new OxiVecCollectionOptions { EmbeddingGenerator = sp.GetService<IEmbeddingGenerator>() }),
            lifetime));
        services.Add(new ServiceDescriptor(typeof(VectorStoreCollection<TKey, TRecord>), serviceKey, (sp, key) => sp.GetRequiredKeyedService<OxiVecCollection<TKey, TRecord>>(key), lifetime));
        services.Add(new ServiceDescriptor(typeof(IVectorSearchable<TRecord>), serviceKey, (sp, key) => sp.GetRequiredKeyedService<OxiVecCollection<TKey, TRecord>>(key), lifetime));
        return services;
    }

    private static IOxiVecBackend ResolveBackend(IServiceProvider sp, object? serviceKey)
    {
        IOxiVecBackend? backend = (serviceKey is null ? null : sp.GetKeyedService<IOxiVecBackend>(serviceKey)) ?? sp.GetService<IOxiVecBackend>();
        if (backend is not null)
        {
            return backend;
        }

        VectorDatabase? database = (serviceKey is null ? null : sp.GetKeyedService<VectorDatabase>(serviceKey)) ?? sp.GetService<VectorDatabase>();
        return database is not null
            ? new OxiVecEmbeddedBackend(database)
            : throw new InvalidOperationException(
                "No OxiVec back end is registered: call AddOxiVecEmbeddedBackend (or AddOxiVecVectorStore with a data directory), register the remote back end, or register a VectorDatabase.");
    }

    private static string DataDirectoryOf(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string? directory = configuration[DataDirectoryKey];
        return string.IsNullOrWhiteSpace(directory)
            ? throw new InvalidOperationException($"The configuration has no '{DataDirectoryKey}' for the OxiVec embedded database (section '{(configuration as IConfigurationSection)?.Path}').")
            : directory;
    }
}

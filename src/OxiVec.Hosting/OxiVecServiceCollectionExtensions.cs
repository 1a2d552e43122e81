using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OxiVec.Storage;

namespace OxiVec.Hosting;

/// <summary>Registers OxiVec in a .NET host.</summary>
public static class OxiVecServiceCollectionExtensions
{
    /// <summary>
    /// Adds the database, with options bound from <paramref name="configuration"/>'s <c>OxiVec</c> section (or the
    /// section itself when it is one), validated when the host starts. See <see cref="AddOxiVec(IServiceCollection, Action{OxiVecOptions})"/>.
    /// </summary>
    public static IServiceCollection AddOxiVec(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        IConfiguration section = configuration is IConfigurationSection { Key: OxiVecOptions.SectionName } ? configuration : configuration.GetSection(OxiVecOptions.SectionName);
        return services.AddOxiVec(options => section.Bind(options));
    }

    /// <summary>
    /// Adds the database: an <see cref="OxiVecDatabaseHost"/> (a hosted service that opens and recovers it when the host
    /// starts, checkpoints and closes it when the host stops), the <see cref="VectorDatabase"/> itself as a singleton
    /// (resolving it waits for recovery), and the <c>oxivec-wal</c> health check.
    /// </summary>
    public static IServiceCollection AddOxiVec(this IServiceCollection services, Action<OxiVecOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<OxiVecOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OxiVecOptions>, OxiVecOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton<OxiVecDatabaseHost>();
        services.AddHostedService(sp => sp.GetRequiredService<OxiVecDatabaseHost>());
        services.TryAddSingleton(sp => sp.GetRequiredService<OxiVecDatabaseHost>().WhenReadyAsync().GetAwaiter().GetResult());
        services.AddHealthChecks().AddCheck<WalHealthCheck>(WalHealthCheck.Name, tags: [WalHealthCheck.Name]);
        return services;
    }
}

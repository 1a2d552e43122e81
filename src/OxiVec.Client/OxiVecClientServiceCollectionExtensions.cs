using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace OxiVec.Client;

/// <summary>Registers <see cref="OxiVecClient"/> as a typed client of IHttpClientFactory.</summary>
public static class OxiVecClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="OxiVecClient"/> (transient, over a pooled handler from IHttpClientFactory) with options
    /// read from the <c>OxiVec:Client</c> section of the registered <see cref="IConfiguration"/> (when there is one),
    /// then <paramref name="configure"/>. The HttpClient's base address is <see cref="OxiVecClientOptions.Endpoint"/>
    /// and its timeout (of one attempt) <see cref="OxiVecClientOptions.Timeout"/>.
    /// </summary>
    /// <returns>The HttpClient's builder, to add handlers of your own.</returns>
    public static IHttpClientBuilder AddOxiVecClient(this IServiceCollection services, Action<OxiVecClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<OxiVecClientOptions> options = services.AddOptions<OxiVecClientOptions>();
        options.Configure<IServiceProvider>((o, provider) =>
        {
            if (provider.GetService<IConfiguration>() is { } configuration)
            {
                o.Bind(configuration.GetSection(OxiVecClientOptions.SectionName));
            }
        });
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return services
            .AddHttpClient<OxiVecClient>((provider, http) =>
            {
                OxiVecClientOptions o = provider.GetRequiredService<IOptions<OxiVecClientOptions>>().Value;
                http.BaseAddress = o.Endpoint;
                http.Timeout = o.Timeout;
            })
            .AddTypedClient((http, provider) => new OxiVecClient(http, provider.GetRequiredService<IOptions<OxiVecClientOptions>>().Value));
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OxiVec.Hosting.Qdrant;

namespace OxiVec.Hosting.Server;

/// <summary>Builds the server <c>oxivec serve</c> runs: Kestrel over one hosted <see cref="Storage.VectorDatabase"/>.</summary>
public static class OxiVecServer
{
    /// <summary>
    /// Builds the server. Configuration comes from <paramref name="args"/>, the environment, an optional JSON file and
    /// <paramref name="overrides"/> (highest precedence), under the <c>OxiVec</c> and <c>OxiVec:Server</c> sections.
    /// </summary>
    public static WebApplication Build(string[]? args = null, string? configFile = null, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args ?? []);
        if (configFile is not null)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        }

        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        var server = new ServerOptions();
        builder.Configuration.GetSection(ServerOptions.SectionName).Bind(server);
        builder.Services.AddOxiVec(builder.Configuration);
        builder.WebHost.UseUrls($"http://{server.Http}");
        WebApplication app = builder.Build();
        app.MapOxiVecProbes();
        app.MapQdrantApi();
        return app;
    }

    /// <summary>The addresses the started server listens on.</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];
    }
}

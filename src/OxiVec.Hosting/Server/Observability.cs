using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;

namespace OxiVec.Hosting.Server;

/// <summary>
/// Metrics and logs of the server: the meters <c>OxiVec.Wal</c>, <c>OxiVec.Store</c>, <c>OxiVec.Hosting</c>, the .NET
/// runtime's (<c>System.Runtime</c>) and ASP.NET Core's, exported by OpenTelemetry at <c>GET /metrics</c> in Prometheus' text format; quiet console logs by default
/// (ASP.NET Core at Warning) with the request id of each request in their scope and in the <c>x-request-id</c> header.
/// </summary>
internal static class Observability
{
    /// <summary>The header every answer carries its request id in (the id the logs of that request carry).</summary>
    public const string RequestIdHeader = "x-request-id";

    /// <summary>
    /// The engine's and the host's meters, and the .NET runtime's own (<c>System.Runtime</c>: garbage collections, bytes
    /// allocated, heap sizes, thread-pool queue and threads, exceptions, CPU time; observable instruments, read only when
    /// scraped).
    /// </summary>
    public static readonly string[] MeterNames = ["OxiVec.Wal", "OxiVec.Store", DatabaseGauges.MeterName, RuntimeMeterName];

    /// <summary>The .NET runtime's built-in meter.</summary>
    public const string RuntimeMeterName = "System.Runtime";

    /// <summary>The path of the Prometheus scrape.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// The default log settings of the server, below every other configuration source: information from OxiVec,
    /// warnings from ASP.NET Core, one line per message with its scopes (the request id) and a UTC timestamp.
    /// </summary>
    public static void AddLoggingDefaults(IConfigurationBuilder configuration)
    {
        var defaults = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Logging:Console:FormatterName"] = "simple",
            ["Logging:Console:FormatterOptions:IncludeScopes"] = "true",
            ["Logging:Console:FormatterOptions:SingleLine"] = "true",
            ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
            ["Logging:Console:FormatterOptions:TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ ",
        };
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = defaults });
    }

    /// <summary>
    /// Lets <c>Logging:Console:FormatterName</c> choose the console format (<c>simple</c> by default, <c>json</c> for
    /// structured logs, <c>systemd</c>): the slim host fixes it to <c>simple</c> in code, which this runs after.
    /// </summary>
    public static IServiceCollection AddConsoleFormatterChoice(this IServiceCollection services, IConfiguration configuration) =>
        services.Configure<ConsoleLoggerOptions>(console => console.FormatterName = configuration["Logging:Console:FormatterName"] ?? ConsoleFormatterNames.Simple);

    /// <summary>Registers OpenTelemetry metrics with the Prometheus exporter.</summary>
    public static IServiceCollection AddOxiVecMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(MeterNames)
            .AddAspNetCoreInstrumentation()
            .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>Sends every answer's request id in <see cref="RequestIdHeader"/>.</summary>
    public static IApplicationBuilder UseRequestIdHeader(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // The state overload with a static callback: no closure and no delegate per request.
        context.Response.OnStarting(SetRequestIdHeader, context);
        return next(context);
    });

    private static Task SetRequestIdHeader(object state)
    {
        var context = (HttpContext)state;
        context.Response.Headers[RequestIdHeader] = context.TraceIdentifier;
        return Task.CompletedTask;
    }
}

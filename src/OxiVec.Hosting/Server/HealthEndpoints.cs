using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace OxiVec.Hosting.Server;

/// <summary><c>/livez</c> (the process answers), <c>/readyz</c> (503 until recovery has finished), <c>/healthz</c> (the WAL health check).</summary>
public static class HealthEndpoints
{
    /// <summary>Maps the three probes.</summary>
    public static IEndpointRouteBuilder MapOxiVecProbes(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/livez", () => Results.Text("alive"));
        endpoints.MapGet("/readyz", (OxiVecDatabaseHost host) => host.State == DatabaseState.Ready
            ? Results.Text("ready")
            : Results.Text(host.State == DatabaseState.Failed ? $"failed: {host.Failure?.Message}" : host.State.ToString().ToLowerInvariant(), statusCode: StatusCodes.Status503ServiceUnavailable));
        endpoints.MapHealthChecks("/healthz");
        return endpoints;
    }
}

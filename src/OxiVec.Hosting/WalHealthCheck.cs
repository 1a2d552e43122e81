using Microsoft.Extensions.Diagnostics.HealthChecks;
using OxiVec.Wal;

namespace OxiVec.Hosting;

/// <summary>
/// The WAL health check (<see cref="Storage.VectorDatabase.CheckHealth"/>) as an ASP.NET Core health check: healthy,
/// degraded on a warning, unhealthy when critical, when the database failed to open or is not open yet.
/// </summary>
internal sealed class WalHealthCheck(OxiVecDatabaseHost host) : IHealthCheck
{
    public const string Name = "oxivec-wal";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (host.State != DatabaseState.Ready)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(new DatabaseUnavailableException(host.State, host.Failure).Message, host.Failure));
        }

        WalHealthReport report;
        try
        {
            report = host.Database.CheckHealth();
        }
        catch (DatabaseUnavailableException ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(ex.Message));
        }

        string description = report.Findings.Count == 0 ? "healthy" : string.Join("; ", report.Findings);
        var data = new Dictionary<string, object>
        {
            ["size_bytes"] = report.Metrics.CurrentSizeBytes,
            ["max_size_bytes"] = report.Metrics.MaxSizeBytes,
            ["last_lsn"] = report.Metrics.LastLsn,
            ["failed"] = report.Metrics.IsFailed,
            ["last_checkpoint_age_seconds"] = report.Metrics.LastCheckpointAge.TotalSeconds,
        };
        return Task.FromResult(report.Status switch
        {
            WalHealthStatus.Healthy => HealthCheckResult.Healthy(description, data),
            WalHealthStatus.Warning => HealthCheckResult.Degraded(description, data: data),
            _ => HealthCheckResult.Unhealthy(description, data: data),
        });
    }
}

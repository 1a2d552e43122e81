using System.Diagnostics.Metrics;
using OxiVec.Cluster;

namespace OxiVec.Hosting.Cluster;

/// <summary>
/// A cluster member's figures on the <c>OxiVec.Hosting</c> meter (the host's, with its data directory tag): its role
/// (gauge 1 with tag <c>role</c>), the highest epoch it has seen, how often the leader changed as it saw it, and how
/// often renewing its leadership lease failed.
/// </summary>
internal sealed class ClusterMetrics
{
    private readonly Counter<long> _leaderChanges;
    private readonly Counter<long> _renewalFailures;

    public ClusterMetrics(IMeterFactory meters, string dataDirectory, Func<ClusterStatus> status)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(status);
        Meter meter = meters.Create(new MeterOptions(DatabaseGauges.MeterName) { Tags = [new("oxivec.data.dir", dataDirectory)] });
        meter.CreateObservableGauge(
            "oxivec.cluster.role", () => new Measurement<long>(1, new KeyValuePair<string, object?>("role", status().Self.Role.ToString().ToLowerInvariant())), unit: null,
            "1, tagged with this member's role (primary, standby, starting, rewinding).");
        meter.CreateObservableGauge("oxivec.cluster.epoch", () => status().Self.Epoch, unit: null, "The highest epoch this member has seen.");
        _leaderChanges = meter.CreateCounter<long>("oxivec.cluster.leader_changes", unit: null, "Times this member saw a new leader (another node, or a new epoch).");
        _renewalFailures = meter.CreateCounter<long>(
            "oxivec.cluster.lease.renewal_failures", unit: null, "Leadership lease renewals that failed (coordinator unreachable, or the lease no longer held).");
    }

    public void LeaderChanged() => _leaderChanges.Add(1);

    public void RenewalFailed() => _renewalFailures.Add(1);
}

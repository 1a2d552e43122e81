using System.Diagnostics.Metrics;
using OxiVec.Replication;

namespace OxiVec.Hosting;

/// <summary>
/// Replication as gauges on the <c>OxiVec.Hosting</c> meter, read at each collection from one status value: on a
/// primary, per standby (tag <c>standby</c>) its connection, flushed and applied LSNs and lag in bytes and
/// milliseconds, and whether synchronous commits are degraded; on a standby, its applied LSN and how far the
/// primary's last LSN is ahead of it.
/// </summary>
internal static class ReplicationGauges
{
    public static void Create(Meter meter, OxiVecDatabaseHost host)
    {
        meter.CreateObservableGauge("oxivec.replication.standby.connected", () => PerStandby(host, s => s.Connected ? 1L : 0L), unit: null,
            "On a primary, per standby: 1 while its stream is open.");
        meter.CreateObservableGauge("oxivec.replication.standby.flushed_lsn", () => PerStandby(host, s => s.FlushedLsn), unit: null,
            "On a primary, per standby: the last LSN it reported durable.");
        meter.CreateObservableGauge("oxivec.replication.standby.applied_lsn", () => PerStandby(host, s => s.AppliedLsn), unit: null,
            "On a primary, per standby: the last LSN it reported applied.");
        meter.CreateObservableGauge("oxivec.replication.standby.lag", () => PerStandby(host, s => s.LagBytes), "By",
            "On a primary, per standby: WAL bytes written here after its flushed LSN.");
        meter.CreateObservableGauge("oxivec.replication.standby.lag_time", () => PerStandby(host, s => s.LagMs / 1000.0), "s",
            "On a primary, per standby: age of the oldest record it has not flushed (0 when caught up).");
        meter.CreateObservableGauge("oxivec.replication.degraded", () => Primary(host) is { } status ? [new Measurement<long>(status.Degraded ? 1 : 0)] : Array.Empty<Measurement<long>>(), unit: null,
            "On a primary: 1 while synchronous commits are acknowledged without enough standbys (degrade mode).");
        meter.CreateObservableGauge("oxivec.replication.applied_lsn", () => Standby(host) is { } status ? [new Measurement<long>(status.AppliedLsn)] : Array.Empty<Measurement<long>>(), unit: null,
            "On a standby: the last LSN applied (visible to reads).");
        meter.CreateObservableGauge("oxivec.replication.lag_lsn", () => Standby(host) is { } status ? [new Measurement<long>(Math.Max(0, status.PrimaryLastLsn - status.AppliedLsn))] : Array.Empty<Measurement<long>>(), unit: null,
            "On a standby: how many LSNs the primary's last reported LSN is ahead of the applied one.");
        meter.CreateObservableGauge("oxivec.replication.connected", () => Standby(host) is { } status ? [new Measurement<long>(status.Connected ? 1 : 0)] : Array.Empty<Measurement<long>>(), unit: null,
            "On a standby: 1 while its stream from the primary is open.");
    }

    private static IEnumerable<Measurement<T>> PerStandby<T>(OxiVecDatabaseHost host, Func<StandbyStatus, T> figure)
        where T : struct =>
        Primary(host) is { } status ? [.. status.Standbys.Select(s => new Measurement<T>(figure(s), new KeyValuePair<string, object?>("standby", s.Name)))] : [];

    private static ReplicationStatus? Primary(OxiVecDatabaseHost host)
    {
        try
        {
            return host.Replicator?.GetStatus();
        }
        catch (ObjectDisposedException)
        {
            return null; // it stopped between the two reads
        }
    }

    private static StandbyReceiverStatus? Standby(OxiVecDatabaseHost host)
    {
        try
        {
            return host.Standby?.Status;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }
}

using System.Diagnostics.Metrics;
using OxiVec.Wal;

namespace OxiVec.Hosting;

/// <summary>
/// The hosted database's state as gauges (meter <c>OxiVec.Hosting</c>), read at each collection: what the engine's
/// counters and histograms (meters <c>OxiVec.Wal</c> and <c>OxiVec.Store</c>) cannot say, the WAL's size against its
/// maximum, the age of the last checkpoint, whether the WAL has failed and whether the database is open. The alerting
/// rules in docs/monitoring/alerts.yml are written over these and the engine's meters.
/// </summary>
internal static class DatabaseGauges
{
    /// <summary>The meter name to subscribe to.</summary>
    public const string MeterName = "OxiVec.Hosting";

    /// <summary>Creates the gauges of <paramref name="host"/>'s database on a meter of <paramref name="meters"/> (which owns and disposes it).</summary>
    public static void Create(IMeterFactory meters, OxiVecDatabaseHost host, string dataDirectory)
    {
        Meter meter = meters.Create(new MeterOptions(MeterName) { Tags = [new("oxivec.data.dir", dataDirectory)] });
        meter.CreateObservableGauge("oxivec.database.ready", () => host.State == DatabaseState.Ready ? 1 : 0, unit: null,
            "1 when the database is open and serving, 0 while it recovers, after it failed to open, or while it stops.");
        meter.CreateObservableGauge("oxivec.wal.size", () => Read(host, m => m.CurrentSizeBytes), "By",
            "Bytes of live WAL on disk (records written, not preallocated space).");
        meter.CreateObservableGauge("oxivec.wal.max_size", () => Read(host, m => m.MaxSizeBytes), "By",
            "The WAL's configured maximum size (MaxWalSize).");
        meter.CreateObservableGauge("oxivec.wal.checkpoint.age", () => Read(host, m => m.LastCheckpointAge.TotalSeconds), "s",
            "Time since the last checkpoint record, or since the WAL was opened when there is none.");
        meter.CreateObservableGauge("oxivec.wal.uncovered.age", () => Read(host, m => m.OldestUncoveredRecordAge?.TotalSeconds ?? 0), "s",
            "Age of the oldest record no checkpoint covers yet (0 when every record is covered).");
        meter.CreateObservableGauge("oxivec.wal.failed", () => Read(host, m => m.IsFailed ? 1 : 0), unit: null,
            "1 when a WAL write or fsync failed and the database refuses writes.");
        ReplicationGauges.Create(meter, host);
    }

    /// <summary>The figure of the open database's WAL; none while it is not open.</summary>
    private static IEnumerable<Measurement<T>> Read<T>(OxiVecDatabaseHost host, Func<WalMetrics, T> figure)
        where T : struct
    {
        if (host.State != DatabaseState.Ready)
        {
            return [];
        }

        try
        {
            return [new Measurement<T>(figure(host.Database.GetWalMetrics()))];
        }
        catch (DatabaseUnavailableException)
        {
            return []; // it stopped between the two reads
        }
        catch (ObjectDisposedException)
        {
            return [];
        }
    }
}

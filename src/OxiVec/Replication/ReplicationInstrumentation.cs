using System.Diagnostics.Metrics;

namespace OxiVec.Replication;

/// <summary>
/// The <c>OxiVec.Replication</c> meter: batches, records and bytes shipped, slots invalidated, transitions to
/// degraded (asynchronous) commits, and per standby (tag <c>oxivec.standby</c>) lag in bytes, LSNs and milliseconds.
/// </summary>
internal sealed class ReplicationInstrumentation : IDisposable
{
    public const string MeterName = "OxiVec.Replication";

    private readonly Meter _meter;
    private readonly Counter<long> _batches;
    private readonly Counter<long> _records;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _slotsInvalidated;
    private readonly Counter<long> _degraded;
    private long _batchesSent;

    public ReplicationInstrumentation(IMeterFactory? factory, string dataDirectory, Func<ReplicationStatus> status)
    {
        var options = new MeterOptions(MeterName) { Tags = [new("oxivec.data.dir", dataDirectory)] };
        _meter = factory?.Create(options) ?? new Meter(options);
        _batches = _meter.CreateCounter<long>("oxivec.replication.batches", "{batch}", "WAL batches sent to standbys.");
        _records = _meter.CreateCounter<long>("oxivec.replication.records", "{record}", "WAL records sent to standbys.");
        _bytes = _meter.CreateCounter<long>("oxivec.replication.bytes", "By", "Bytes of WAL frames sent to standbys.");
        _slotsInvalidated = _meter.CreateCounter<long>(
            "oxivec.replication.slots_invalidated", "{slot}", "Replication slots dropped because their standby fell more than MaxSlotWalKeepBytes behind.");
        _degraded = _meter.CreateCounter<long>(
            "oxivec.replication.degraded_transitions", "{transition}", "Times synchronous commits started being acknowledged without enough standbys (DegradeToAsync).");
        _meter.CreateObservableGauge("oxivec.replication.degraded", () => status().Degraded ? 1 : 0, "{bool}", "1 while synchronous commits are acknowledged without enough standbys.");
        _meter.CreateObservableGauge("oxivec.replication.lag_bytes", () => PerStandby(status(), s => s.LagBytes), "By", "WAL bytes written on the primary after each standby's flushed LSN.");
        _meter.CreateObservableGauge("oxivec.replication.lag_lsns", () => PerStandby(status(), s => Math.Max(0, status().LastLsn - s.FlushedLsn)), "{record}", "Records written on the primary after each standby's flushed LSN.");
        _meter.CreateObservableGauge("oxivec.replication.lag_ms", () => PerStandby(status(), s => s.LagMs), "ms", "Age of the oldest record each standby has not flushed.");
    }

    public long SlotsInvalidated { get; private set; }

    public long DegradedTransitions { get; private set; }

    /// <summary>WAL batches sent to standbys so far (every stream).</summary>
    public long BatchesSent => Interlocked.Read(ref _batchesSent);

    public void Sent(int records, int bytes)
    {
        Interlocked.Increment(ref _batchesSent);
        _batches.Add(1);
        _records.Add(records);
        _bytes.Add(bytes);
    }

    public void SlotInvalidated()
    {
        SlotsInvalidated++;
        _slotsInvalidated.Add(1);
    }

    public void Degraded()
    {
        DegradedTransitions++;
        _degraded.Add(1);
    }

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<T>> PerStandby<T>(ReplicationStatus status, Func<StandbyStatus, T> value)
        where T : struct =>
        status.Standbys.Select(s => new Measurement<T>(value(s), new KeyValuePair<string, object?>("oxivec.standby", s.Name)));
}

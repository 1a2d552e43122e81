using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OxiVec.Storage;

/// <summary>The store's meter, <c>OxiVec.Store</c>: writes, searches and their latencies (for OpenTelemetry).</summary>
internal sealed class StoreInstrumentation : IDisposable
{
    /// <summary>The meter name to subscribe to.</summary>
    public const string MeterName = "OxiVec.Store";

    private readonly Meter _meter;
    private readonly Counter<long> _writes;
    private readonly Counter<long> _searches;
    private readonly Histogram<double> _writeDuration;
    private readonly Histogram<double> _searchDuration;

    public StoreInstrumentation(IMeterFactory? factory, string dataDirectory)
    {
        var options = new MeterOptions(MeterName) { Tags = [new("oxivec.data.dir", dataDirectory)] };
        _meter = factory?.Create(options) ?? new Meter(options);
        _writes = _meter.CreateCounter<long>("oxivec.store.writes", "{operation}", "Acknowledged record and collection operations.");
        _searches = _meter.CreateCounter<long>("oxivec.store.searches", "{query}", "Searches served.");
        _writeDuration = _meter.CreateHistogram<double>("oxivec.store.write.duration", "ms", "Time from validation to acknowledgement of one write or transaction.");
        _searchDuration = _meter.CreateHistogram<double>("oxivec.store.search.duration", "ms", "Time of one search.");
    }

    /// <summary>A write or transaction of <paramref name="operations"/> was acknowledged; it started at the Stopwatch timestamp <paramref name="start"/>.</summary>
    /// <remarks>The clock is read only while something listens to the duration (every write comes here).</remarks>
    public void Wrote(int operations, long start)
    {
        _writes.Add(operations);
        if (_writeDuration.Enabled)
        {
            _writeDuration.Record(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    public void Searched(TimeSpan elapsed)
    {
        _searches.Add(1);
        _searchDuration.Record(elapsed.TotalMilliseconds);
    }

    public void Dispose() => _meter.Dispose();
}

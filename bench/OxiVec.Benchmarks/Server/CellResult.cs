using OxiVec.Benchmarks.Macro;

namespace OxiVec.Benchmarks.Server;

/// <summary>One measured cell: operations per second and the latency percentiles of its operations.</summary>
/// <param name="PerSecond">Completed operations per wall-clock second of the measured window.</param>
/// <param name="P50Ms">Median latency of one operation, in milliseconds.</param>
/// <param name="P99Ms">99th-percentile latency, in milliseconds.</param>
/// <param name="Operations">Operations completed in the measured window.</param>
internal sealed record CellResult(double PerSecond, double P50Ms, double P99Ms, long Operations)
{
    /// <summary>The cell whose operations took the latencies in <paramref name="buffers"/> over <paramref name="seconds"/> of wall time.</summary>
    public static CellResult From(IReadOnlyList<LatencyBuffer> buffers, double seconds)
    {
        LatencySummary latency = LatencySummary.Merge(buffers);
        return new CellResult(latency.Samples / seconds, latency.P50Us / 1000, latency.P99Us / 1000, latency.Samples);
    }
}

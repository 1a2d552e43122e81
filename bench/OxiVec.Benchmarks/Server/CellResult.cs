using OxiVec.Benchmarks.Macro;

namespace OxiVec.Benchmarks.Server;

/// <summary>One measured cell: operations per second and the latency percentiles of its operations.</summary>
/// <param name="PerSecond">Completed operations per wall-clock second of the measured window.</param>
/// <param name="P50Ms">Median latency of one operation, in milliseconds.</param>
/// <param name="P99Ms">99th-percentile latency, in milliseconds.</param>
/// <param name="Operations">Operations completed in the measured window.</param>
/// <param name="SelfCpuUs">CPU time of the benchmark process per operation, in microseconds (embedded: the database's work; HTTP: the client's).</param>
/// <param name="ServerCpuUs">CPU time of the server process per operation, in microseconds (0 for embedded cells).</param>
/// <param name="SelfBytes">Bytes the benchmark process allocated per operation.</param>
/// <param name="ServerBytes">Bytes the server process allocated per operation, or NaN when unknown (embedded cells, or a server build that does not export it).</param>
internal sealed record CellResult(double PerSecond, double P50Ms, double P99Ms, long Operations, double SelfCpuUs, double ServerCpuUs, double SelfBytes = 0, double ServerBytes = double.NaN)
{
    /// <summary>CPU time of both processes per operation, in microseconds.</summary>
    public double TotalCpuUs => SelfCpuUs + ServerCpuUs;

    /// <summary>
    /// The cell whose operations took the latencies in <paramref name="buffers"/> over <paramref name="seconds"/> of wall
    /// time, using <paramref name="cpu"/> CPU time and allocations.
    /// </summary>
    public static CellResult From(IReadOnlyList<LatencyBuffer> buffers, double seconds, CpuSample cpu)
    {
        LatencySummary latency = LatencySummary.Merge(buffers);
        double perOp = Math.Max(1, latency.Samples);
        return new CellResult(
            latency.Samples / seconds, latency.P50Us / 1000, latency.P99Us / 1000, latency.Samples,
            cpu.Self.TotalMicroseconds / perOp, cpu.Server.TotalMicroseconds / perOp,
            cpu.SelfAllocated / perOp, cpu.ServerAllocated is long server ? server / perOp : double.NaN);
    }
}

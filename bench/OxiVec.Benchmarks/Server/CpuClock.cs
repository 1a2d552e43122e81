using System.Diagnostics;

namespace OxiVec.Benchmarks.Server;

/// <summary>
/// The CPU time (user + system) used so far by this process and, when given, by the server process, and the bytes each
/// has allocated: read around a measured window, so a cell reports CPU time and allocations per operation, the figure that decides throughput when the client and
/// the server share the cores.
/// </summary>
/// <param name="server">The server process, or null (embedded cells).</param>
internal sealed class CpuClock(ServerProcess? server)
{
    /// <summary>The CPU time of both processes now (the server's is zero without a server).</summary>
    public CpuSample Read()
    {
        using Process self = Process.GetCurrentProcess();
        return new CpuSample(self.TotalProcessorTime, server?.TotalProcessorTime ?? TimeSpan.Zero, GC.GetTotalAllocatedBytes(), server?.AllocatedBytes());
    }
}

/// <summary>CPU time used and bytes allocated by the benchmark process and by the server process.</summary>
/// <param name="Self">This process (the embedded database, or the HTTP client).</param>
/// <param name="Server">The server process (zero for embedded cells).</param>
/// <param name="SelfAllocated">Bytes this process has allocated (all threads).</param>
/// <param name="ServerAllocated">Bytes the server process has allocated, or null (no server, or it does not export the figure).</param>
internal readonly record struct CpuSample(TimeSpan Self, TimeSpan Server, long SelfAllocated = 0, long? ServerAllocated = null)
{
    public static CpuSample operator -(CpuSample end, CpuSample start) =>
        new(end.Self - start.Self, end.Server - start.Server, end.SelfAllocated - start.SelfAllocated, end.ServerAllocated - start.ServerAllocated);
}

using System.Diagnostics;
using OxiVec.Benchmarks.Macro;

namespace OxiVec.Benchmarks.Server;

/// <summary>
/// Closed-loop load: <c>C</c> clients, each issuing its next operation as soon as the previous one answered, until a
/// deadline; a warm-up window of the same load runs first and is discarded. Every loop is bounded by its deadline.
/// The CPU time of the measured window (this process, and the server's when the clock has one) is read around it.
/// </summary>
internal static class ClosedLoop
{
    /// <summary>
    /// <paramref name="concurrency"/> dedicated threads calling the synchronous <paramref name="operation"/>(client, sequence)
    /// (the embedded search: <c>VectorDatabase.Search</c> is synchronous).
    /// </summary>
    public static CellResult Threads(int concurrency, double warmupSeconds, double seconds, CpuClock cpu, Action<int, long> operation)
    {
        if (warmupSeconds > 0)
        {
            _ = Threaded(concurrency, warmupSeconds, cpu, operation);
        }

        return Threaded(concurrency, seconds, cpu, operation);
    }

    /// <summary><paramref name="concurrency"/> asynchronous loops awaiting <paramref name="operation"/>(client, sequence).</summary>
    public static async Task<CellResult> TasksAsync(int concurrency, double warmupSeconds, double seconds, CpuClock cpu, Func<int, long, ValueTask> operation)
    {
        if (warmupSeconds > 0)
        {
            _ = await Tasked(concurrency, warmupSeconds, cpu, operation).ConfigureAwait(false);
        }

        return await Tasked(concurrency, seconds, cpu, operation).ConfigureAwait(false);
    }

    private static CellResult Threaded(int concurrency, double seconds, CpuClock cpu, Action<int, long> operation)
    {
        var buffers = new LatencyBuffer[concurrency];
        CpuSample before = cpu.Read();
        long window = (long)(seconds * Stopwatch.Frequency);
        double wall = Scale.ScaleCommon.RunThreads(concurrency, client =>
        {
            // The threads are released together, so each one's deadline is the same moment.
            long deadline = Stopwatch.GetTimestamp() + window;
            var latencies = new LatencyBuffer(4_096);
            for (long sequence = 0; Stopwatch.GetTimestamp() < deadline; sequence++)
            {
                long t0 = Stopwatch.GetTimestamp();
                operation(client, sequence);
                latencies.Add(Stopwatch.GetTimestamp() - t0);
            }

            buffers[client] = latencies;
        });
        return CellResult.From(buffers, wall, cpu.Read() - before);
    }

    private static async Task<CellResult> Tasked(int concurrency, double seconds, CpuClock cpu, Func<int, long, ValueTask> operation)
    {
        var buffers = new LatencyBuffer[concurrency];
        CpuSample before = cpu.Read();
        long started = Stopwatch.GetTimestamp();
        long deadline = started + (long)(seconds * Stopwatch.Frequency);
        var loops = new Task[concurrency];
        for (int c = 0; c < concurrency; c++)
        {
            int client = c;
            loops[c] = Task.Run(async () =>
            {
                var latencies = new LatencyBuffer(4_096);
                for (long sequence = 0; Stopwatch.GetTimestamp() < deadline; sequence++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    await operation(client, sequence).ConfigureAwait(false);
                    latencies.Add(Stopwatch.GetTimestamp() - t0);
                }

                buffers[client] = latencies;
            });
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
        double wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return CellResult.From(buffers, wall, cpu.Read() - before);
    }
}

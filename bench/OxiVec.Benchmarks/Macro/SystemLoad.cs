using System.Diagnostics;
using System.Globalization;

namespace OxiVec.Benchmarks.Macro;

/// <summary>
/// How busy the machine was apart from this process, so that a report measured next to other work says so:
/// CPU time of all processes from /proc/stat minus this process's own CPU time, over the wall time (Linux).
/// </summary>
internal sealed class SystemLoad
{
    private readonly long _busyTicks;
    private readonly long _stealTicks;
    private readonly TimeSpan _ownCpu;
    private readonly long _timestamp;
    private readonly string _loadAverage;

    private SystemLoad((long Busy, long Steal) ticks, TimeSpan ownCpu, long timestamp, string loadAverage)
    {
        (_busyTicks, _stealTicks) = ticks;
        _ownCpu = ownCpu;
        _timestamp = timestamp;
        _loadAverage = loadAverage;
    }

    public static SystemLoad Snapshot()
    {
        using var self = Process.GetCurrentProcess();
        return new SystemLoad(ReadBusyTicks(), self.TotalProcessorTime, Stopwatch.GetTimestamp(), ReadLoadAverage());
    }

    /// <summary>A sentence on the CPU used by other processes between <paramref name="start"/> and now.</summary>
    public static string Describe(SystemLoad start)
    {
        SystemLoad end = Snapshot();
        double wall = Stopwatch.GetElapsedTime(start._timestamp, end._timestamp).TotalSeconds;
        if (start._busyTicks < 0 || end._busyTicks < 0 || wall <= 0)
        {
            return "unknown (no /proc/stat)";
        }

        // USER_HZ is 100 on every Linux ABI .NET runs on.
        double allCores = (end._busyTicks - start._busyTicks) / 100.0 / wall;
        double ownCores = (end._ownCpu - start._ownCpu).TotalSeconds / wall;
        double others = Math.Max(0, allCores - ownCores);
        double steal = (end._stealTicks - start._stealTicks) / 100.0 / wall;
        string text = string.Create(
            CultureInfo.InvariantCulture,
            $"other processes kept {others:F2} of {Environment.ProcessorCount} cores busy on average during the run (this process: {ownCores:F2}; hypervisor steal: {steal:F2}); load average {start._loadAverage} at the start, {end._loadAverage} at the end");
        return others > 0.25 ? text + ". **The machine was not idle: treat the figures with care.**" : text;
    }

    private static (long Busy, long Steal) ReadBusyTicks()
    {
        try
        {
            string? cpu = File.Exists("/proc/stat") ? File.ReadLines("/proc/stat").FirstOrDefault() : null;
            if (cpu is null || !cpu.StartsWith("cpu ", StringComparison.Ordinal))
            {
                return (-1, -1);
            }

            // user nice system idle iowait irq softirq steal: busy = user + nice + system + irq + softirq.
            long[] f = [.. cpu.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(s => long.Parse(s, CultureInfo.InvariantCulture))];
            return (f[0] + f[1] + f[2] + f[5] + f[6], f[7]);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return (-1, -1);
        }
    }

    private static string ReadLoadAverage()
    {
        try
        {
            string? line = File.Exists("/proc/loadavg") ? File.ReadLines("/proc/loadavg").FirstOrDefault() : null;
            return line is null ? "unknown" : string.Join(' ', line.Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}

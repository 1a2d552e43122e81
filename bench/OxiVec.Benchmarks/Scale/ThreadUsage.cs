using OxiVec.Benchmarks.Macro;

namespace OxiVec.Benchmarks.Scale;

/// <summary>
/// The calling thread's resource usage (Linux <c>getrusage(RUSAGE_THREAD)</c>): CPU time, page faults and context
/// switches, so that a slow call can be told apart as preempted, blocked, faulting or busy. Zeros elsewhere.
/// </summary>
internal static class ThreadUsage
{
    private const int RusageThread = 1;

    /// <summary>One reading of the calling thread's counters.</summary>
    /// <param name="CpuMicros">User plus system CPU time, µs.</param>
    /// <param name="MinorFaults">Page faults served without I/O.</param>
    /// <param name="MajorFaults">Page faults that waited for I/O.</param>
    /// <param name="Voluntary">Voluntary context switches: the thread blocked (a lock, I/O, a sleep).</param>
    /// <param name="Involuntary">Involuntary context switches: the thread was runnable and preempted.</param>
    internal readonly record struct Reading(long CpuMicros, long MinorFaults, long MajorFaults, long Voluntary, long Involuntary)
    {
        public static Reading operator -(Reading a, Reading b) => new(
            a.CpuMicros - b.CpuMicros, a.MinorFaults - b.MinorFaults, a.MajorFaults - b.MajorFaults, a.Voluntary - b.Voluntary, a.Involuntary - b.Involuntary);
    }

    /// <summary>Whether readings are real (Linux); elsewhere every reading is zero.</summary>
    public static bool Supported => OperatingSystem.IsLinux();

    /// <summary>The calling thread's counters now.</summary>
    public static Reading Now()
    {
        if (!Native.ResourceUsage(RusageThread, out Native.RUsage u))
        {
            return default;
        }

        return new Reading((u.UtimeSec + u.StimeSec) * 1_000_000 + u.UtimeUsec + u.StimeUsec, u.Minflt, u.Majflt, u.Nvcsw, u.Nivcsw);
    }
}

using System.Runtime.InteropServices;
using OxiVec.Benchmarks.Macro;

namespace OxiVec.Benchmarks.Scale;

/// <summary>
/// The calling thread's resource usage on Linux: CPU time from <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c> (exact to
/// the nanosecond), its kernel share, page faults and context switches from <c>getrusage(RUSAGE_THREAD)</c>, so that
/// a slow call can be told apart as preempted, blocked, faulting, busy in user code or busy in the kernel. Zeros elsewhere.
/// </summary>
/// <remarks>
/// Why not getrusage's CPU time alone: for a running thread the kernel adds the time run since the last scheduler
/// tick or context switch only at the next one, so a reading lags by up to a tick (4 ms at HZ = 250) and one call's
/// CPU could read a tick high or low. Its user/kernel split is sampled at ticks, so <see cref="Reading.KernelMicros"/>
/// is exact only over many ticks: it tells which side a long (tens of ms) on-CPU call ran on. Neither can see a
/// virtual CPU that its hypervisor stopped: the guest's clock runs on, and that time is charged to whatever thread
/// the vCPU was running (this machine reports no steal time), so "on CPU" includes it.
/// </remarks>
internal static partial class ThreadUsage
{
    private const int RusageThread = 1;
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID

    /// <summary>One reading of the calling thread's counters.</summary>
    /// <param name="CpuMicros">User plus kernel CPU time, µs (exact).</param>
    /// <param name="KernelMicros">The kernel's share (system time, sampled at scheduler ticks), µs.</param>
    /// <param name="MinorFaults">Page faults served without I/O.</param>
    /// <param name="MajorFaults">Page faults that waited for I/O.</param>
    /// <param name="Voluntary">Voluntary context switches: the thread blocked (a lock, I/O, a sleep).</param>
    /// <param name="Involuntary">Involuntary context switches: the thread was runnable and preempted.</param>
    internal readonly record struct Reading(long CpuMicros, long KernelMicros, long MinorFaults, long MajorFaults, long Voluntary, long Involuntary)
    {
        public static Reading operator -(Reading a, Reading b) => new(
            a.CpuMicros - b.CpuMicros, a.KernelMicros - b.KernelMicros, a.MinorFaults - b.MinorFaults, a.MajorFaults - b.MajorFaults, a.Voluntary - b.Voluntary, a.Involuntary - b.Involuntary);
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

        long kernel = (u.StimeSec * 1_000_000) + u.StimeUsec;
        long cpu = ClockGetTime(ClockThreadCpuTime, out TimeSpec t) == 0
            ? (t.Seconds * 1_000_000) + (t.Nanoseconds / 1_000)
            : ((u.UtimeSec + u.StimeSec) * 1_000_000) + u.UtimeUsec + u.StimeUsec;
        return new Reading(cpu, kernel, u.Minflt, u.Majflt, u.Nvcsw, u.Nivcsw);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}

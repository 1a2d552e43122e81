using System.Runtime.InteropServices;

namespace OxiVec.Internal;

/// <summary>
/// Linux's <c>SCHED_BATCH</c> policy for a background helper thread: the thread keeps its full share of the CPU (the
/// weight of nice 0, so it is never starved, and never holds a kernel lock for long while it waits for the CPU), but
/// waking it never preempts the thread that runs (the kernel's wake-up preemption skips batch tasks; the tick
/// preempts them as usual). A writer that posts a job to a helper then keeps its core, and the helper runs on an idle
/// core, or when the writer's slice ends. With the normal policy a woken helper, having slept, took the writer's core
/// at once: on 2 cores, about 1 % of an interval-mode bulk insert's time was spent preempted by the WAL's prefault
/// thread right after posting it a job.
/// </summary>
internal static partial class BatchScheduling
{
    private const int SchedBatch = 3;

    /// <summary>
    /// Puts the calling thread under <c>SCHED_BATCH</c>; returns false, having done nothing, where that is not available
    /// (not Linux, or the call refused). A scheduling hint only: nothing depends on it.
    /// </summary>
    public static bool TryApplyToCurrentThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        // pid 0: the calling thread (on Linux a scheduling policy belongs to a thread); a batch policy's priority is 0.
        int priority = 0;
        return SchedSetScheduler(0, SchedBatch, ref priority) == 0;
    }

    /// <summary>The calling thread's kernel thread id (Linux), or -1 elsewhere (tests read its policy under /proc).</summary>
    public static int CurrentOsThreadId() => OperatingSystem.IsLinux() ? GetTid() : -1;

    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int SchedSetScheduler(int pid, int policy, ref int schedParam);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();
}

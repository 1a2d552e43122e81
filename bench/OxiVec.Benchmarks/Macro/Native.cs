using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OxiVec.Benchmarks.Macro;

/// <summary>The one system call the disk probe needs that .NET does not expose: fdatasync (Linux).</summary>
internal static partial class Native
{
    /// <summary>fdatasync on Linux (what the WAL calls); <see cref="RandomAccess.FlushToDisk"/> elsewhere.</summary>
    public static void DataSync(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            RandomAccess.FlushToDisk(handle);
            return;
        }

        if (Fdatasync(handle) != 0)
        {
            throw new IOException("fdatasync failed: " + new Win32Exception(Marshal.GetLastPInvokeError()).Message);
        }
    }

    /// <summary>Context switches of the whole process so far (all threads, ended ones included): voluntary (blocked), involuntary (preempted or yielded).</summary>
    public static (long Voluntary, long Involuntary)? ContextSwitches()
    {
        if (!ResourceUsage(0 /* RUSAGE_SELF */, out RUsage usage))
        {
            return null;
        }

        return (usage.Nvcsw, usage.Nivcsw);
    }

    /// <summary>getrusage(<paramref name="who"/>) on Linux; false elsewhere or when the call fails.</summary>
    public static bool ResourceUsage(int who, out RUsage usage)
    {
        if (!OperatingSystem.IsLinux())
        {
            usage = default;
            return false;
        }

        return Getrusage(who, out usage) == 0;
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int Fdatasync(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int Getrusage(int who, out RUsage usage);

    /// <summary>struct rusage on 64-bit Linux: two timevals, then fourteen longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct RUsage
    {
        public long UtimeSec, UtimeUsec, StimeSec, StimeUsec;
        public long Maxrss, Ixrss, Idrss, Isrss, Minflt, Majflt, Nswap, Inblock, Oublock, Msgsnd, Msgrcv, Nsignals, Nvcsw, Nivcsw;
    }
}

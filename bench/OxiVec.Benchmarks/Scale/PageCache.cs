using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OxiVec.Benchmarks.Scale;

/// <summary>
/// Empties the page cache of a directory's files before a cold measurement (Linux): the whole cache through
/// <c>/proc/sys/vm/drop_caches</c> when this process may write it, else each file's pages with
/// <c>posix_fadvise(POSIX_FADV_DONTNEED)</c> after an fdatasync (dirty pages cannot be dropped); and counts the
/// pages still resident with <c>mincore</c>.
/// </summary>
internal static partial class PageCache
{
    private const int PosixFadvDontNeed = 4;
    private const int ProtRead = 1;
    private const int MapShared = 1;

    /// <summary>How the cache was emptied: "drop_caches", or "posix_fadvise" with the reason drop_caches was refused.</summary>
    public static string Evict(string dir)
    {
        string refused;
        try
        {
            Sync();
            File.WriteAllText("/proc/sys/vm/drop_caches", "3");
            return "drop_caches (echo 3 > /proc/sys/vm/drop_caches after sync(): the whole machine's page cache)";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            refused = ex.Message.ReplaceLineEndings(" ");
        }

        foreach (string file in Directory.GetFiles(dir, "*", SearchOption.AllDirectories))
        {
            using SafeFileHandle h = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite);
            Macro.Native.DataSync(h);
            int error = Fadvise(h, 0, 0, PosixFadvDontNeed);
            if (error != 0)
            {
                throw new IOException($"posix_fadvise(DONTNEED) failed on {file}: {new Win32Exception(error).Message}");
            }
        }

        return $"posix_fadvise(POSIX_FADV_DONTNEED) on every file of the database after fdatasync (drop_caches was refused: {refused})";
    }

    /// <summary>fdatasync of every file under <paramref name="dir"/>: its pages stay cached but are clean (no writeback during a measurement).</summary>
    public static void Flush(string dir)
    {
        foreach (string file in Directory.GetFiles(dir, "*", SearchOption.AllDirectories))
        {
            using SafeFileHandle h = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite);
            Macro.Native.DataSync(h);
        }
    }

    /// <summary>Pages of the files under <paramref name="dir"/> in the page cache, and their total pages.</summary>
    public static unsafe (long Resident, long Total) Residency(string dir)
    {
        long resident = 0, total = 0;
        long page = Environment.SystemPageSize;
        foreach (string file in Directory.GetFiles(dir, "*", SearchOption.AllDirectories))
        {
            long length = new FileInfo(file).Length;
            if (length == 0)
            {
                continue;
            }

            long pages = (length + page - 1) / page;
            total += pages;
            using SafeFileHandle h = File.OpenHandle(file, FileMode.Open, FileAccess.Read);
            nint map = Mmap(0, (nuint)length, ProtRead, MapShared, h, 0);
            if (map == -1)
            {
                throw new IOException($"mmap failed on {file}: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
            }

            try
            {
                byte[] vec = new byte[pages];
                fixed (byte* v = vec)
                {
                    if (Mincore(map, (nuint)length, v) != 0)
                    {
                        throw new IOException($"mincore failed on {file}: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
                    }
                }

                resident += vec.Count(b => (b & 1) != 0);
            }
            finally
            {
                _ = Munmap(map, (nuint)length);
            }
        }

        return (resident, total);
    }

    [LibraryImport("libc", EntryPoint = "sync")]
    private static partial void Sync();

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int Fadvise(SafeFileHandle fd, long offset, long length, int advice);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, SafeFileHandle fd, long offset);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static unsafe partial int Mincore(nint address, nuint length, byte* vector);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);
}

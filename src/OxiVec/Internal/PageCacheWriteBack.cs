using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OxiVec.Internal;

/// <summary>
/// Writing a file's dirty pages back to the disk while it is still being written, without making anything durable:
/// Linux's <c>sync_file_range</c> (what PostgreSQL's <c>checkpoint_flush_after</c> uses). A large file streamed into
/// the page cache and fsynced only at its end leaves hundreds of megabytes dirty; the kernel then writes them in
/// bursts, and every WAL fsync (a commit) queues behind a burst. Starting the write-back of each window as it is
/// written, and waiting for the window before it, keeps at most two windows in flight: the file is written at the
/// disk's pace, and a commit's fsync waits behind at most that much. Durability still comes only from fsync.
/// </summary>
internal static partial class PageCacheWriteBack
{
    private const uint WaitBefore = 1; // SYNC_FILE_RANGE_WAIT_BEFORE
    private const uint Write = 2;      // SYNC_FILE_RANGE_WRITE
    private const uint WaitAfter = 4;  // SYNC_FILE_RANGE_WAIT_AFTER
    private const int EInval = 22, ESpipe = 29, ENosys = 38, EOpNotSupp = 95;

    /// <summary>
    /// Starts writing back the dirty pages of <c>[from, to)</c> and waits until the write-back of everything before
    /// <paramref name="from"/> has completed. Returns false, having done nothing, where this is not available (not
    /// Linux, or a file system or file that does not support it): the caller falls back to fsyncs.
    /// </summary>
    /// <param name="file">A file open for writing; its bytes up to <paramref name="to"/> must have reached the kernel (no user-space buffer).</param>
    /// <param name="from">Start of the window just written.</param>
    /// <param name="to">End of the window just written (exclusive).</param>
    /// <exception cref="IOException">The write-back failed (an I/O error): the caller's file cannot be trusted.</exception>
    public static bool WriteWindow(SafeFileHandle file, long from, long to)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfLessThan(to, from);
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        if (to > from && !Call(file, from, to - from, Write))
        {
            return false;
        }

        // Everything before the window: written back already, or being written; wait for it (pages dirtied again in
        // the meantime are written first, which a file written once never has).
        return from == 0 || Call(file, 0, from, WaitBefore | Write | WaitAfter);
    }

    private static bool Call(SafeFileHandle file, long offset, long count, uint flags)
    {
        if (SyncFileRange(file, offset, count, flags) == 0)
        {
            return true;
        }

        int errno = Marshal.GetLastPInvokeError();
        if (errno is EInval or ESpipe or ENosys or EOpNotSupp)
        {
            return false; // not a regular file, or a file system without it: not an I/O error
        }

        throw new IOException($"sync_file_range failed: {new Win32Exception(errno).Message}");
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long count, uint flags);
}

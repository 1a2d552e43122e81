using System.ComponentModel;
using System.Runtime.InteropServices;

namespace OxiVec.Internal;

/// <summary>Crash-safe file steps shared by the WAL and the checkpoints.</summary>
internal static partial class DurableFiles
{
    private const int ORdOnly = 0;

    /// <summary>
    /// Linux's <c>O_DIRECTORY</c> for <paramref name="architecture"/>: 0x10000 on x86 and x64, 0x4000 on arm and
    /// arm64 (where 0x10000 means <c>O_DIRECT</c>).
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">A Linux architecture whose value is not known here.</exception>
    internal static int ODirectory(Architecture architecture) => architecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x10000,
        Architecture.Arm64 or Architecture.Arm => 0x4000,
        _ => throw new PlatformNotSupportedException(
            $"O_DIRECTORY is not known for Linux on {architecture}; OxiVec cannot fsync directories there."),
    };

    /// <summary>
    /// Creates <paramref name="directory"/> and any missing ancestors, fsyncing the parent of each one created, so
    /// that the new directories survive a power loss (a directory entry is durable only once its parent is fsynced).
    /// </summary>
    /// <exception cref="IOException">A directory cannot be created or a parent's fsync failed.</exception>
    public static void CreateDirectoryDurably(string directory)
    {
        string full = Path.GetFullPath(directory);
        var missing = new Stack<string>();
        for (string? dir = full; dir is not null && !Directory.Exists(dir); dir = Path.GetDirectoryName(dir))
        {
            missing.Push(dir);
        }

        while (missing.TryPop(out string? dir))
        {
            Directory.CreateDirectory(dir);
            SyncDirectory(Path.GetDirectoryName(dir)!); // the new entry in its parent survives a power loss
        }
    }

    /// <summary>fsyncs a directory so that creations, renames and deletions in it survive a power loss.</summary>
    /// <exception cref="IOException">The directory cannot be opened or its fsync failed.</exception>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // NTFS journals directory entries; there is no directory handle to flush.
        }

        // O_DIRECTORY only makes the open refuse a non-directory; elsewhere than Linux a plain read-only open of the
        // directory serves, without guessing that system's flag value.
        int oDirectory = OperatingSystem.IsLinux() ? ODirectory(RuntimeInformation.ProcessArchitecture) : 0;
        int fd = Open(directory, ORdOnly | oDirectory);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to fsync it: {LastError()}");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed: {LastError()}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Writes a file so that it either appears whole or not at all: <paramref name="write"/> fills
    /// <c>path.tmp</c>, which is fsynced, renamed to <paramref name="path"/>, and the directory fsynced.
    /// </summary>
    public static void WriteAtomically(string path, Action<FileStream> write)
    {
        string temp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true); // the content is on disk before the name points at it
            }

            File.Move(temp, path, overwrite: true); // atomic: readers see the old file or the new one
            SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!); // the rename survives a power loss
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static string LastError() => new Win32Exception(Marshal.GetLastPInvokeError()).Message;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

using System.ComponentModel;
using System.Runtime.InteropServices;

namespace OxiVec.Internal;

/// <summary>Crash-safe file steps shared by the WAL and the checkpoints.</summary>
internal static partial class DurableFiles
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000; // Linux x86-64 and arm64 value of O_DIRECTORY.

    /// <summary>fsyncs a directory so that creations, renames and deletions in it survive a power loss.</summary>
    /// <exception cref="IOException">The directory cannot be opened or its fsync failed.</exception>
    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // NTFS journals directory entries; there is no directory handle to flush.
        }

        int fd = Open(directory, ORdOnly | ODirectory);
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

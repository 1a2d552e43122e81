using OxiVec.Internal;

namespace OxiVec.Storage.Checkpoints;

/// <summary>Checkpoint files on the real file system (fsync of files and directories through <see cref="DurableFiles"/>).</summary>
internal sealed class FileSystemCheckpointStorage : ICheckpointStorage
{
    /// <summary>The one instance (it holds no state).</summary>
    public static FileSystemCheckpointStorage Instance { get; } = new();

    private FileSystemCheckpointStorage()
    {
    }

    public bool DirectoryExists(string path) => Directory.Exists(path);

    public void CreateDirectory(string path) => Directory.CreateDirectory(path);

    public IReadOnlyList<string> ListDirectories(string path) => Directory.GetDirectories(path);

    public void MoveDirectory(string from, string to) => Directory.Move(from, to);

    public void DeleteDirectory(string path) => Directory.Delete(path, recursive: true);

    public void SyncDirectory(string path) => DurableFiles.SyncDirectory(path);

    public bool FileExists(string path) => File.Exists(path);

    /// <summary>Unbuffered: the checkpoint hands it pieces of a pooled buffer (<see cref="ChecksumWriteStream"/>), so a stream's own 1 MiB buffer would only be a copy, and an allocation on the large object heap per file.</summary>
    public Stream CreateFile(string path) => new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);

    public void SyncFile(Stream file) => ((FileStream)file).Flush(flushToDisk: true);

    /// <summary>
    /// Linux: the window's write-back is started and the one before it awaited (<see cref="PageCacheWriteBack"/>),
    /// so at most two windows are in flight and the file is written at the disk's pace. Elsewhere (or on a file
    /// system without it): an fsync once every <see cref="FallbackSyncBytes"/>.
    /// </summary>
    public void WriteBack(Stream file, long from, long to)
    {
        var stream = (FileStream)file;
        stream.Flush(); // any buffered bytes reach the kernel: the window is all in the page cache
        if (!PageCacheWriteBack.WriteWindow(stream.SafeFileHandle, from, to) && from / FallbackSyncBytes != to / FallbackSyncBytes)
        {
            stream.Flush(flushToDisk: true);
        }
    }

    /// <summary>Without <c>sync_file_range</c>, how many bytes between the fsyncs that write a checkpoint file back as it streams.</summary>
    public const long FallbackSyncBytes = 16 << 20;

    /// <summary>Unbuffered: the read-back check reads 1 MiB pieces into a pooled buffer; a decoder that reads small fields buffers it itself.</summary>
    public Stream OpenRead(string path) => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
}

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

    public Stream CreateFile(string path) => new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);

    public void SyncFile(Stream file) => ((FileStream)file).Flush(flushToDisk: true);

    public Stream OpenRead(string path) => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
}

namespace OxiVec.Storage.Checkpoints;

/// <summary>
/// The file operations checkpoints need, by path. The production implementation is
/// <see cref="FileSystemCheckpointStorage"/>; tests substitute a simulated disk that loses unsynced bytes and
/// directory entries at a power loss, so checkpoints, retention and the WAL are crashed together.
/// </summary>
internal interface ICheckpointStorage
{
    /// <summary>True when the directory exists.</summary>
    bool DirectoryExists(string path);

    /// <summary>Creates the directory (and missing parents); durable only after its parent's <see cref="SyncDirectory"/>.</summary>
    void CreateDirectory(string path);

    /// <summary>The full paths of the subdirectories of <paramref name="path"/>.</summary>
    IReadOnlyList<string> ListDirectories(string path);

    /// <summary>Renames a directory (atomically); durable only after the parent's <see cref="SyncDirectory"/>.</summary>
    void MoveDirectory(string from, string to);

    /// <summary>Deletes a directory and everything in it; durable only after the parent's <see cref="SyncDirectory"/>.</summary>
    void DeleteDirectory(string path);

    /// <summary>fsyncs a directory so that creations, renames and deletions in it survive a power loss.</summary>
    void SyncDirectory(string path);

    /// <summary>True when the file exists.</summary>
    bool FileExists(string path);

    /// <summary>Creates a file that must not exist, for writing from its start (it need not buffer: the checkpoint writes it in large pieces).</summary>
    Stream CreateFile(string path);

    /// <summary>Forces everything written to <paramref name="file"/> (a stream from <see cref="CreateFile"/>) to stable storage.</summary>
    void SyncFile(Stream file);

    /// <summary>
    /// Called as <paramref name="file"/> (a stream from <see cref="CreateFile"/>) is written, once per write-back
    /// window, with the window just written <c>[from, to)</c>: pushes it towards the disk and may wait for the
    /// windows before it, so that dirty data never piles up (commits' WAL fsyncs would queue behind it). Makes nothing
    /// durable: only <see cref="SyncFile"/> does. Does nothing unless the storage implements it.
    /// </summary>
    void WriteBack(Stream file, long from, long to)
    {
    }

    /// <summary>Opens an existing file for reading (a seekable stream with a length; it need not buffer: readers read large pieces or buffer themselves).</summary>
    Stream OpenRead(string path);
}

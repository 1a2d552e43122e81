namespace OxiVec.Wal;

/// <summary>
/// The file operations the WAL needs, over one directory. The production implementation is
/// <see cref="FileSystemWalStorage"/>; tests substitute layers that inject faults (lost unsynced writes,
/// torn writes, failing fsync, a full disk).
/// </summary>
internal interface IWalStorage
{
    /// <summary>The directory, for messages.</summary>
    string Directory { get; }

    /// <summary>The names (not paths) of the files in the directory whose name ends with <paramref name="suffix"/>.</summary>
    IReadOnlyList<string> ListFiles(string suffix);

    /// <summary>Opens an existing file for reading, or reading and writing.</summary>
    IWalFile Open(string name, bool writable);

    /// <summary>Creates a file that must not exist; reserves <paramref name="preallocateBytes"/> on disk when above 0.</summary>
    IWalFile Create(string name, long preallocateBytes);

    /// <summary>Renames a file, replacing <paramref name="to"/> if it exists. Durable only after <see cref="SyncDirectory"/>.</summary>
    void Rename(string from, string to);

    /// <summary>Deletes a file. Durable only after <see cref="SyncDirectory"/>.</summary>
    void Delete(string name);

    /// <summary>fsyncs the directory so that creations, renames and deletions survive a power loss.</summary>
    void SyncDirectory();

    /// <summary>True when the file <paramref name="name"/> (which may be in a subdirectory, as <c>sub/name</c>) exists.</summary>
    bool Exists(string name);

    /// <summary>
    /// Creates the subdirectory <paramref name="name"/> when it is missing, then fsyncs it and the directory, so that
    /// files created in it can be made durable with <see cref="SyncSubdirectory"/>.
    /// </summary>
    void CreateSubdirectory(string name);

    /// <summary>fsyncs the subdirectory <paramref name="name"/> (creations and renames in it survive a power loss).</summary>
    void SyncSubdirectory(string name);

    /// <summary>
    /// Drops the cached pages of file <paramref name="name"/> from <paramref name="offset"/> on (best effort), so the
    /// next reads come from the disk: after an fsync failed, the kernel may have marked pages clean that never
    /// reached the disk, and they must not be read back as if they were durable.
    /// </summary>
    void EvictCachedPages(string name, long offset);

    /// <summary>Takes the exclusive, process-wide lock on the directory.</summary>
    /// <exception cref="WalLockedException">Another process (or another open WAL) holds it.</exception>
    IDisposable AcquireLock();
}

/// <summary>A file of the WAL, accessed at explicit offsets.</summary>
internal interface IWalFile : IDisposable
{
    /// <summary>The file's name within the storage directory.</summary>
    string Name { get; }

    /// <summary>The current length in bytes (preallocated space included).</summary>
    long Length { get; }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>; returns how many (0 at the end).</summary>
    int Read(long offset, Span<byte> buffer);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/> (into the OS page cache).</summary>
    void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>Forces written data to stable storage (fdatasync on Linux). Any failure is final.</summary>
    void Sync();

    /// <summary>
    /// Whether <see cref="Write"/> of <paramref name="length"/> bytes at <paramref name="offset"/> would be a copy into
    /// memory the page cache shares (a mapped segment): no system call, nothing to wait for. The WAL then writes a
    /// single record as it appends it. False unless the implementation says otherwise.
    /// </summary>
    bool WritesInMemory(long offset, int length) => false;

    /// <summary>
    /// The <paramref name="length"/> bytes at <paramref name="offset"/> as the memory the page cache shares, for a record
    /// to be encoded in place: a store there is a <see cref="Write"/>. Only where <see cref="WritesInMemory"/> says so; the
    /// span is valid until the file is cut (<see cref="SetLength"/>) or closed.
    /// </summary>
    /// <exception cref="NotSupportedException">The range is not written in memory.</exception>
    Span<byte> MemoryAt(long offset, int length) =>
        throw new NotSupportedException($"WAL file '{Name}' is not written through a mapping.");

    /// <summary>
    /// Takes the page faults of the first stores into <paramref name="length"/> bytes at <paramref name="offset"/> now
    /// (off the write path), where the file is written in memory; a hint that changes no byte and never fails. Safe
    /// to call from any thread, also while the file is written, cut or closed. Does nothing unless the implementation
    /// says otherwise.
    /// </summary>
    void Prefault(long offset, long length)
    {
    }

    /// <summary>Sets the file length (truncates or extends with zeros).</summary>
    void SetLength(long length);
}

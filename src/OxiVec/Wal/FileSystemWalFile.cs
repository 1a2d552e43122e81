using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace OxiVec.Wal;

/// <summary>
/// A WAL file on the real file system, with fdatasync on Linux. With <see cref="WalConfig.MemoryMappedSegments"/>, on Linux a
/// writable file of at least <see cref="MinMappedLength"/> bytes (a preallocated segment) is written through a shared
/// mapping of its whole length, so an append of up to <see cref="MaxMappedWriteBytes"/> is a copy into the page cache
/// with no system call; larger writes, and every other file, use pwrite (the same page cache).
/// </summary>
/// <remarks>
/// <para>Why a store into the mapping is as safe as <c>write()</c>: it lands in the same page cache, so a process
/// crash right after it loses nothing; the fdatasync of the file writes back the pages dirtied through the mapping
/// (Linux tracks them per page), and reports their write-back errors, exactly as for written pages. A process killed
/// in the middle of a copy leaves part of an unacknowledged record, which the reader treats as it treats unsynced
/// bytes lost in a power cut: a torn tail.</para>
/// <para>Why it cannot fault: the file is mapped only after <c>fallocate</c> has reserved every block of the mapped
/// range (a store into a hole would allocate at page-fault time, and a full disk would then raise SIGBUS instead of
/// an error), only within the file's length, and the mapping is removed before the file is cut
/// (<see cref="SetLength"/>) or closed. When <c>fallocate</c> or <c>mmap</c> is refused (a file system without
/// preallocation), the file is written with <c>pwrite</c> as before.</para>
/// <para>Not thread safe for writers: one writer at a time (the WAL's write lock), while reads and fdatasync may run
/// concurrently.</para>
/// </remarks>
internal sealed unsafe partial class FileSystemWalFile(string name, bool writable, SafeFileHandle handle, bool mapSegments = false) : IWalFile
{
    /// <summary>The smallest file mapped: the smallest segment (smaller files, such as the control file, are written).</summary>
    public const long MinMappedLength = WalConfig.MinSegmentSizeBytes;

    /// <summary>
    /// The largest write copied into the mapping; larger ones use <c>pwrite</c>. A store faults once per page it first
    /// touches (ext4 allocates the page and marks the block written), which costs more than <c>pwrite</c>'s copy for a
    /// write of many pages, but less than a system call for a commit of a few records.
    /// </summary>
    public const int MaxMappedWriteBytes = 8 << 10;

    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapShared = 1;

    /// <summary>madvise advice: fault the range in writable (Linux 5.14+; older kernels answer EINVAL).</summary>
    private const int MadvPopulateWrite = 23;

    /// <summary>The most <see cref="Prefault"/> faults in with one call (see there).</summary>
    private const long PrefaultStep = 256 << 10;

    /// <summary>madvise advice: unmap the range (of a shared file mapping: the pages stay in the page cache, dirty or not).</summary>
    private const int MadvDontNeed = 4;

    private const int EInval = 22;

    private byte* _map;
    private long _mapLength;
    private bool _mappingDecided = !writable || !mapSegments;

    // Prefault runs on any thread: it holds _unmapLock while it uses the mapping, and Unmap takes it, so a prefault
    // never touches an address range that was unmapped (and perhaps mapped again for something else).
    private readonly Lock _unmapLock = new();
    private bool _populateUnsupported;

    // The end of the furthest store through the mapping (the writer's thread), and how far the pages before it have been
    // unmapped ahead of an fdatasync (under _unmapLock); see ReleaseStoredPages.
    private long _storedEnd;
    private long _releasedTo;

    public string Name { get; } = name;

    /// <summary>Whether writes go through a memory mapping (tests).</summary>
    internal bool IsMapped => _map is not null;

    /// <summary>Whether the last write was a copy into the mapping rather than a <c>pwrite</c> (tests).</summary>
    internal bool LastWriteMapped { get; private set; }

    public long Length => RandomAccess.GetLength(handle);

    public int Read(long offset, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], offset + total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        if (!_mappingDecided)
        {
            Map();
        }

        if (_map is not null && data.Length <= MaxMappedWriteBytes && offset >= 0 && offset <= _mapLength - data.Length)
        {
            data.CopyTo(new Span<byte>(_map + offset, data.Length));
            NoteStored(offset + data.Length);
            LastWriteMapped = true;
            return;
        }

        RandomAccess.Write(handle, data, offset);
        LastWriteMapped = false;
    }

    public bool WritesInMemory(long offset, int length)
    {
        if (!_mappingDecided)
        {
            Map();
        }

        return _map is not null && length <= MaxMappedWriteBytes && offset >= 0 && offset <= _mapLength - length;
    }

    public Span<byte> MemoryAt(long offset, int length)
    {
        if (!WritesInMemory(offset, length))
        {
            throw new NotSupportedException($"{length} bytes at offset {offset} of WAL file '{Name}' are not written through its mapping.");
        }

        NoteStored(offset + length);
        LastWriteMapped = true;
        return new Span<byte>(_map + offset, length);
    }

    /// <summary>
    /// <c>madvise(MADV_POPULATE_WRITE)</c> of the mapped pages of the range: each page is made present and writable
    /// now (the page-cache page allocated and zeroed, ext4's page_mkwrite done), so the write path's stores into it
    /// take no fault. No byte changes. Pages prefaulted but never written are zeros, which the reader takes for
    /// unwritten space, and they go when the sealed segment is cut to its records.
    /// </summary>
    public void Prefault(long offset, long length)
    {
        long page = Environment.SystemPageSize;
        long start = Math.Max(0, offset) / page * page;
        long end = offset + length;

        // In steps, each under the lock: the kernel holds the process's memory-map lock for a whole call, and a thread
        // that maps or protects memory meanwhile (the GC, the JIT) waits for it; Unmap and an fdatasync's release of
        // pages wait for the lock.
        for (long from = start; from < end; from += PrefaultStep)
        {
            lock (_unmapLock)
            {
                long to = Math.Min(Math.Min(end, _mapLength), from + PrefaultStep);
                if (_map is null || _populateUnsupported || to <= from)
                {
                    return;
                }

                if (Native.Madvise((nint)(_map + from), (nuint)(to - from), MadvPopulateWrite) != 0)
                {
                    // A kernel without MADV_POPULATE_WRITE (EINVAL): the stores take their faults as before, from now on.
                    // Any other error (memory pressure) changes nothing either: the hint is just not taken.
                    _populateUnsupported = Marshal.GetLastPInvokeError() == EInval;
                    return;
                }
            }
        }
    }

    public void Sync()
    {
        if (OperatingSystem.IsLinux())
        {
            ReleaseStoredPages();

            // fdatasync: the data (pages written or stored through the mapping alike) and the metadata needed to
            // read it back (the size), not the mtime.
            if (Native.Fdatasync(handle) != 0)
            {
                throw new IOException($"fdatasync of '{Name}' failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
            }
        }
        else
        {
            RandomAccess.FlushToDisk(handle);
        }
    }

    public void SetLength(long length)
    {
        Unmap(); // a store past the new end would raise SIGBUS; the file is sealed from here on, so it stays unmapped
        _mappingDecided = true;
        RandomAccess.SetLength(handle, length);
    }

    public void Dispose()
    {
        Unmap();
        handle.Dispose();
    }

    /// <summary>Maps the file once, at its first write, when it is large enough and every block of it is allocated.</summary>
    private void Map()
    {
        _mappingDecided = true;
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        long length = RandomAccess.GetLength(handle);
        if (length < MinMappedLength || length > nint.MaxValue)
        {
            return;
        }

        // Mode 0 allocates whatever is not yet allocated and keeps the size; a preallocated segment has nothing to add.
        if (Native.Fallocate(handle, 0, 0, length) != 0)
        {
            return;
        }

        nint address = Native.Mmap(0, (nuint)length, ProtRead | ProtWrite, MapShared, handle, 0);
        if (address == -1)
        {
            return;
        }

        lock (_unmapLock)
        {
            _map = (byte*)address;
            _mapLength = length;
        }
    }

    private void NoteStored(long end)
    {
        if (end > _storedEnd)
        {
            Volatile.Write(ref _storedEnd, end);
        }
    }

    /// <summary>
    /// Before an fdatasync: unmaps the pages the writer is done with (<c>madvise(MADV_DONTNEED)</c>, which for a shared
    /// file mapping only removes this process's page-table entries; the pages stay in the page cache, dirty until
    /// written back, and a later access maps them again). Write-back of a page that is mapped writable must
    /// write-protect it in every process that maps it, and on Linux that is a TLB flush per page, an interrupt of every
    /// core running this process's threads: about a tenth of all CPU time, and most of the writing thread's stalls, in an
    /// interval-mode bulk insert on a 2-core virtual machine. One range unmapped first costs one flush. Only pages wholly
    /// before the last store's possible start, so the writer's current record is never unmapped under it (that would be
    /// harmless, a store would just fault the page in again). A failure changes nothing: the pages stay mapped.
    /// </summary>
    private void ReleaseStoredPages()
    {
        lock (_unmapLock)
        {
            long page = Environment.SystemPageSize;
            long to = Math.Min(_mapLength, Volatile.Read(ref _storedEnd) - MaxMappedWriteBytes) / page * page;
            if (_map is null || to <= _releasedTo)
            {
                return;
            }

            if (Native.Madvise((nint)(_map + _releasedTo), (nuint)(to - _releasedTo), MadvDontNeed) == 0)
            {
                _releasedTo = to;
            }
        }
    }

    private void Unmap()
    {
        if (_map is null)
        {
            return;
        }

        // The stored bytes stay in the page cache (dirty until written back); fdatasync of the file covers them.
        lock (_unmapLock)
        {
            _ = Native.Munmap((nint)_map, (nuint)_mapLength);
            _map = null;
            _mapLength = 0;
        }
    }

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
        public static partial int Fdatasync(SafeFileHandle fd);

        [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
        public static partial int Fallocate(SafeFileHandle fd, int mode, long offset, long length);

        [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
        public static partial nint Mmap(nint address, nuint length, int protection, int flags, SafeFileHandle fd, long offset);

        [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
        public static partial int Munmap(nint address, nuint length);

        [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
        public static partial int Madvise(nint address, nuint length, int advice);
    }
}

using OxiVec.Wal;

namespace OxiVec.Tests.Fakes;

/// <summary>
/// An in-memory <see cref="IWalStorage"/> that models what survives a power loss: file contents as of their last
/// fsync, directory entries as of the last directory fsync, and, for writes that were never synced, whatever
/// <see cref="Crash"/> decides (all, none, a torn prefix at sector granularity, or a random subset of sectors).
/// It also injects faults: a simulated process death at the Nth I/O operation, fsync failures and a full disk.
/// </summary>
internal sealed partial class SimulatedDisk : IWalStorage
{
    public const int Sector = 512;

    private readonly Lock _sync = new();
    private Dictionary<string, SimFile> _names = new(StringComparer.Ordinal);
    private Dictionary<string, SimFile> _durableNames = new(StringComparer.Ordinal);
    private bool _locked;

    public SimulatedDisk(string directory = "/sim/wal") => Directory = directory;

    public string Directory { get; }

    /// <summary>I/O operations (writes, syncs, creates, renames, deletes) performed so far.</summary>
    public int Operations { get; private set; }

    /// <summary>When set, the operation with this number (1-based) throws <see cref="SimulatedCrashException"/> before doing anything.</summary>
    public int? CrashAtOperation { get; set; }

    /// <summary>When set, every fsync from the one with this number (1-based, counting syncs) on fails.</summary>
    public int? FailSyncFrom { get; set; }

    /// <summary>When set, writes beyond this many bytes in total (across files) fail with "no space left".</summary>
    public long? Capacity { get; set; }

    /// <summary>
    /// Called at the start of every file fsync with the file's current name (tests use it to hold a leader inside its
    /// fsync; the name tells a segment's fsync from the control file's).
    /// </summary>
    public Action<string>? OnSync { get; set; }

    /// <summary>
    /// Called at the start of every file fsync, outside the disk's lock and <em>before</em> the fsync fixes which writes
    /// it covers, with the file's current name: whatever a test observes here (e.g. how many records were acknowledged)
    /// was written before the fsync's coverage was taken, so the fsync covers it. (<see cref="OnSync"/> runs after that
    /// point, so a write racing it may or may not be covered.)
    /// </summary>
    public Action<string>? SyncStarting { get; set; }

    /// <summary>
    /// Called after every successful file fsync with the file's current name (a renamed file under its new name):
    /// tests record from the disk, not from the WAL's own claims, what had become durable.
    /// </summary>
    public Action<string>? Synced { get; set; }

    public int SyncCount { get; private set; }

    /// <summary>
    /// Called at the start of every file write, outside the disk's lock, with the file's current name (tests use it to
    /// hold a syncer inside its write, before it knows what its fsync will cover).
    /// </summary>
    public Action<string>? OnWrite { get; set; }

    /// <summary>When true, every directory fsync fails (as an I/O error would).</summary>
    public bool FailDirectorySync { get; set; }

    /// <summary>
    /// Called, outside the disk's lock, when a file handle is disposed, with the file's name (tests use it to hold a
    /// writer at that point, e.g. inside a segment rotation).
    /// </summary>
    public Action<string>? OnDispose { get; set; }

    /// <summary>
    /// How often an fsync started while another fsync on the same descriptor (handle) was still in flight (from the
    /// start of <see cref="OnSync"/> to the sync's end). The WAL must keep this at 0: Linux reports a writeback error
    /// once per open file description, so only one of two concurrent fsyncs on it would see it.
    /// </summary>
    public int ConcurrentSyncs { get; private set; }

    /// <summary>How often an fsync started while another fsync of the same file, on another descriptor, was in flight.</summary>
    public int OverlappingSyncs { get; private set; }

    /// <summary>Every directory change and directory fsync in order: "create NAME", "rename FROM TO", "delete NAME", "syncdir".</summary>
    public List<string> DirectoryLog { get; } = [];

    /// <summary>File handles opened and not yet disposed (a handle used after disposal throws, as a real one does).</summary>
    public int OpenHandles { get; private set; }

    public IReadOnlyList<string> ListFiles(string suffix)
    {
        lock (_sync)
        {
            return [.. _names.Keys.Where(n => n.EndsWith(suffix, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
        }
    }

    public IWalFile Open(string name, bool writable)
    {
        lock (_sync)
        {
            return _names.TryGetValue(name, out SimFile? file)
                ? NewHandle(name, file)
                : throw new FileNotFoundException($"Simulated file '{name}' does not exist.", name);
        }
    }

    public IWalFile Create(string name, long preallocateBytes)
    {
        lock (_sync)
        {
            Step($"create {name}");
            if (_names.ContainsKey(name))
            {
                throw new IOException($"Simulated file '{name}' already exists.");
            }

            DirectoryLog.Add($"create {name}");
            var file = new SimFile();
            if (preallocateBytes > 0)
            {
                ReserveSpace(preallocateBytes);
                file.Preallocated = preallocateBytes;
            }

            _names[name] = file;
            return NewHandle(name, file);
        }
    }

    public void Rename(string from, string to)
    {
        lock (_sync)
        {
            Step($"rename {from} {to}");
            DirectoryLog.Add($"rename {from} {to}");
            SimFile file = _names[from];
            _names.Remove(from);
            _names[to] = file;
        }
    }

    public void Delete(string name)
    {
        lock (_sync)
        {
            Step($"delete {name}");
            DirectoryLog.Add($"delete {name}");
            _names.Remove(name);
        }
    }

    public void SyncDirectory()
    {
        lock (_sync)
        {
            Step("syncdir");
            if (FailDirectorySync)
            {
                throw new IOException("fsync of the directory failed: Input/output error (simulated).");
            }

            DirectoryLog.Add("syncdir");
            _durableNames = new Dictionary<string, SimFile>(_names, StringComparer.Ordinal);
        }
    }

    public bool Exists(string name)
    {
        lock (_sync)
        {
            return _names.ContainsKey(name);
        }
    }

    /// <summary>Directories are implicit in names (<c>sub/name</c>); creating one makes the names durable, as an fsync of both would.</summary>
    public void CreateSubdirectory(string name) => SyncDirectory();

    /// <summary>Modelled as the one directory fsync (names are not tracked per directory).</summary>
    public void SyncSubdirectory(string name) => SyncDirectory();

    /// <summary>Count of <see cref="EvictCachedPages"/> calls (tests).</summary>
    public int Evictions { get; private set; }

    /// <summary>
    /// Models Linux after a failed fsync: the pages that never reached the disk were marked clean; dropping them makes
    /// the process read what the disk holds from <paramref name="offset"/> on.
    /// </summary>
    public void EvictCachedPages(string name, long offset)
    {
        lock (_sync)
        {
            Evictions++;
            if (_names.TryGetValue(name, out SimFile? file))
            {
                file.RevertToDurableFrom(offset);
            }
        }
    }

    public IDisposable AcquireLock()
    {
        lock (_sync)
        {
            if (_locked)
            {
                throw new WalLockedException(Directory);
            }

            _locked = true;
            return new Releaser(this);
        }
    }

    /// <summary>
    /// The disk as a power loss at this instant leaves it: durable directory entries, each file's synced bytes,
    /// and the unsynced writes treated according to <paramref name="mode"/>. Faults are not carried over.
    /// </summary>
    public SimulatedDisk Crash(Random random, CrashMode mode)
    {
        lock (_sync)
        {
            var after = new SimulatedDisk(Directory) { CheckpointDirectory = CheckpointDirectory };
            var copies = new Dictionary<SimFile, SimFile>();
            foreach ((string name, SimFile file) in _durableNames)
            {
                if (!copies.TryGetValue(file, out SimFile? copy))
                {
                    copy = file.Survivor(random, mode);
                    copies[file] = copy;
                }

                after._names[name] = copy;
            }

            after._durableNames = new Dictionary<string, SimFile>(after._names, StringComparer.Ordinal);
            CrashCheckpoints(after, random, mode);
            return after;
        }
    }

    /// <summary>
    /// The disk as a new process finds it after this one was killed (kill -9) at this instant, with no power loss:
    /// every name and every written byte is there (the page cache survives), and what was synced is still what a later
    /// power loss would keep. Checkpoint files are not carried over. Faults are not carried over.
    /// </summary>
    public SimulatedDisk AfterProcessKill()
    {
        lock (_sync)
        {
            var after = new SimulatedDisk(Directory) { CheckpointDirectory = CheckpointDirectory };
            var copies = new Dictionary<SimFile, SimFile>();
            foreach ((string name, SimFile file) in _names)
            {
                if (!copies.TryGetValue(file, out SimFile? copy))
                {
                    copy = file.Copy();
                    copies[file] = copy;
                }

                after._names[name] = copy;
            }

            foreach ((string name, SimFile file) in _durableNames)
            {
                after._durableNames[name] = copies.TryGetValue(file, out SimFile? copy) ? copy : file.Copy();
            }

            return after;
        }
    }

    /// <summary>The current bytes of a file (what a process would read now).</summary>
    public byte[] ReadAll(string name)
    {
        lock (_sync)
        {
            return _names[name].Current.AsSpan().ToArray();
        }
    }

    /// <summary>Overwrites bytes of a file as durable data (to plant corruption).</summary>
    public void Poke(string name, long offset, ReadOnlySpan<byte> bytes)
    {
        lock (_sync)
        {
            SimFile file = _names[name];
            file.WriteAt(offset, bytes);
            file.SyncNow();
        }
    }

    /// <summary>The name a file has now (null once deleted).</summary>
    private string? CurrentName(SimFile file)
    {
        lock (_sync)
        {
            foreach ((string name, SimFile f) in _names)
            {
                if (ReferenceEquals(f, file))
                {
                    return name;
                }
            }

            return null;
        }
    }

    /// <summary>The operation the simulated process died at (<c>write NAME@OFFSET</c>, <c>rename FROM TO</c>, ...), or null.</summary>
    public string? CrashedOperation { get; private set; }

    private void Step(string what)
    {
        Operations++;
        if (CrashAtOperation is { } n && Operations >= n)
        {
            CrashedOperation ??= what;
            throw new SimulatedCrashException(Operations);
        }
    }

    private void ReserveSpace(long bytes)
    {
        if (Capacity is { } capacity)
        {
            long used = _names.Values.Distinct().Sum(f => Math.Max(f.Current.Length, f.Preallocated));
            if (used + bytes > capacity)
            {
                throw new IOException("No space left on device (simulated).");
            }
        }
    }

    private Handle NewHandle(string name, SimFile file)
    {
        OpenHandles++;
        return new Handle(this, name, file);
    }

    private sealed class Releaser(SimulatedDisk disk) : IDisposable
    {
        public void Dispose()
        {
            lock (disk._sync)
            {
                disk._locked = false;
            }
        }
    }

    private sealed class Handle(SimulatedDisk disk, string name, SimFile file) : IWalFile
    {
        private bool _disposed;

        public string Name { get; } = name;

        public long Length
        {
            get
            {
                lock (disk._sync)
                {
                    return Math.Max(file.Current.Length, file.Preallocated);
                }
            }
        }

        public int Read(long offset, Span<byte> buffer)
        {
            lock (disk._sync)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                long length = Math.Max(file.Current.Length, file.Preallocated);
                int n = (int)Math.Clamp(length - offset, 0, buffer.Length);
                buffer[..n].Clear();
                int stored = (int)Math.Clamp(file.Current.Length - offset, 0, n);
                if (stored > 0)
                {
                    file.Current.AsSpan((int)offset, stored).CopyTo(buffer);
                }

                return n;
            }
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            disk.OnWrite?.Invoke(disk.CurrentName(file) ?? Name);
            lock (disk._sync)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                disk.Step($"write {Name}@{offset}");
                long growth = offset + data.Length - Math.Max(file.Current.Length, file.Preallocated);
                if (growth > 0)
                {
                    disk.ReserveSpace(growth);
                }

                file.WriteAt(offset, data);
            }
        }

        private int _syncsInFlight;

        /// <summary>
        /// An fsync covers the writes made (returned) before it started, not those made while it runs: they become
        /// durable when it returns, the later ones stay unsynced, as with overlapping fsyncs on a real disk.
        /// </summary>
        public void Sync()
        {
            if (disk.SyncStarting is { } starting)
            {
                string name;
                lock (disk._sync)
                {
                    name = disk.CurrentName(file) ?? Name;
                }

                starting(name);
            }

            long covers;
            lock (disk._sync)
            {
                if (_syncsInFlight++ > 0)
                {
                    disk.ConcurrentSyncs++;
                }

                if (file.SyncsInFlight++ > 0)
                {
                    disk.OverlappingSyncs++;
                }

                covers = file.WriteCount;
            }

            try
            {
                disk.OnSync?.Invoke(disk.CurrentName(file) ?? Name);
                lock (disk._sync)
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    disk.Step($"sync {Name}");
                    disk.SyncCount++;
                    if (disk.FailSyncFrom is { } from && disk.SyncCount >= from)
                    {
                        throw new IOException("fsync failed: Input/output error (simulated).");
                    }

                    file.SyncThrough(covers);
                }
            }
            finally
            {
                lock (disk._sync)
                {
                    file.SyncsInFlight--;
                    _syncsInFlight--;
                }
            }

            if (disk.Synced is { } synced)
            {
                synced(disk.CurrentName(file) ?? Name);
            }
        }

        public void SetLength(long length)
        {
            lock (disk._sync)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                disk.Step($"truncate {Name}");
                file.Truncate(length);
            }
        }

        public void Dispose()
        {
            bool first;
            lock (disk._sync)
            {
                first = !_disposed;
                if (first)
                {
                    _disposed = true;
                    disk.OpenHandles--;
                }
            }

            if (first)
            {
                disk.OnDispose?.Invoke(disk.CurrentName(file) ?? Name); // its current name: a spare renamed into place is disposed under its segment name
            }
        }
    }
}

/// <summary>How a simulated power loss treats writes that were never fsynced.</summary>
public enum CrashMode
{
    /// <summary>All unsynced writes are lost.</summary>
    DropUnsynced,

    /// <summary>The unsynced writes reach the disk in order up to a random point; the write at that point is torn at a sector boundary.</summary>
    TornPrefix,

    /// <summary>Each unsynced sector independently survives or not (the disk reordered its writes).</summary>
    RandomSectors,
}

/// <summary>Thrown by <see cref="SimulatedDisk"/> to model the process dying at an I/O operation.</summary>
internal sealed class SimulatedCrashException(int operation) : IOException($"Simulated crash at I/O operation {operation}.");

/// <summary>One simulated file: the bytes a process sees, and the bytes on stable storage.</summary>
internal sealed class SimFile
{
    // Unsynced changes in order: writes (Data), and cuts (Data null, Offset the new length), each numbered: the
    // first one is number _syncedCount + 1.
    private List<(long Offset, byte[]? Data)> _unsynced = [];
    private long _syncedCount;

    public Bytes Current { get; private set; } = new();

    public byte[] Durable { get; private set; } = [];

    public long Preallocated { get; set; }

    /// <summary>fsyncs of this file in flight (guarded by the disk's lock).</summary>
    public int SyncsInFlight { get; set; }

    /// <summary>Writes and cuts made so far (an fsync started now covers this many).</summary>
    public long WriteCount => _syncedCount + _unsynced.Count;

    public void WriteAt(long offset, ReadOnlySpan<byte> data)
    {
        Current.Write(offset, data);
        _unsynced.Add((offset, data.ToArray()));
    }

    public void Truncate(long length)
    {
        Current.SetLength((int)length);
        Preallocated = Math.Min(Preallocated, length);
        _unsynced.Add((length, null));
    }

    /// <summary>The bytes from <paramref name="offset"/> on become the durable ones again; unsynced writes are forgotten.</summary>
    public void RevertToDurableFrom(long offset)
    {
        var content = new Bytes();
        int keep = (int)Math.Min(offset, Current.Length);
        content.Write(0, Current.AsSpan(0, keep));
        if (Durable.Length > keep)
        {
            content.Write(keep, Durable.AsSpan(keep));
        }

        Current = content;
        _syncedCount += _unsynced.Count;
        _unsynced = [];
    }

    public void SyncNow()
    {
        Durable = Current.AsSpan().ToArray();
        _syncedCount += _unsynced.Count;
        _unsynced = [];
    }

    /// <summary>
    /// An fsync that started when <see cref="WriteCount"/> was <paramref name="covers"/> returns: the writes and cuts
    /// made before it started become durable; later ones stay unsynced.
    /// </summary>
    public void SyncThrough(long covers)
    {
        int n = (int)Math.Clamp(covers - _syncedCount, 0, _unsynced.Count);
        if (n == _unsynced.Count)
        {
            SyncNow();
            return;
        }

        var durable = new Bytes();
        durable.Write(0, Durable);
        for (int i = 0; i < n; i++)
        {
            (long offset, byte[]? data) = _unsynced[i];
            if (data is null)
            {
                durable.SetLength((int)Math.Min(offset, durable.Length));
            }
            else
            {
                durable.Write(offset, data);
            }
        }

        Durable = durable.AsSpan().ToArray();
        _unsynced.RemoveRange(0, n);
        _syncedCount += n;
    }

    /// <summary>An independent copy: the same current bytes, durable bytes and unsynced writes.</summary>
    public SimFile Copy()
    {
        var current = new Bytes();
        current.Write(0, Current.AsSpan());
        return new SimFile { Preallocated = Preallocated, Current = current, Durable = [.. Durable], _unsynced = [.. _unsynced], _syncedCount = _syncedCount };
    }

    public SimFile Survivor(Random random, CrashMode mode)
    {
        var content = new Bytes();
        content.Write(0, Durable);
        // Unsynced cuts are not replayed: until a cut is durable, a power loss keeps the bytes it removed.
        List<(long Offset, byte[] Data)> writes = [.. _unsynced.Where(w => w.Data is not null).Select(w => (w.Offset, w.Data!))];
        switch (mode)
        {
            case CrashMode.TornPrefix when writes.Count > 0:
                int whole = random.Next(writes.Count + 1);
                for (int i = 0; i < whole; i++)
                {
                    content.Write(writes[i].Offset, writes[i].Data);
                }

                if (whole < writes.Count)
                {
                    (long offset, byte[] data) = writes[whole];
                    content.Write(offset, data.AsSpan(0, SectorPrefix(offset, data.Length, random)));
                }

                break;
            case CrashMode.RandomSectors:
                foreach ((long offset, byte[] data) in writes)
                {
                    for (int start = 0; start < data.Length;)
                    {
                        int end = (int)Math.Min(data.Length, ((offset + start) / SimulatedDisk.Sector + 1) * SimulatedDisk.Sector - offset);
                        if (random.Next(2) == 0)
                        {
                            content.Write(offset + start, data.AsSpan(start, end - start));
                        }

                        start = end;
                    }
                }

                break;
            default:
                break;
        }

        var survivor = new SimFile { Preallocated = Preallocated, Current = content };
        survivor.Durable = content.AsSpan().ToArray();
        return survivor;
    }

    private static int SectorPrefix(long offset, int length, Random random)
    {
        var cuts = new List<int> { 0 };
        for (long boundary = (offset / SimulatedDisk.Sector + 1) * SimulatedDisk.Sector; boundary < offset + length; boundary += SimulatedDisk.Sector)
        {
            cuts.Add((int)(boundary - offset));
        }

        return cuts[random.Next(cuts.Count)];
    }
}

/// <summary>A growable byte array.</summary>
internal sealed class Bytes
{
    private byte[] _data = new byte[4096];

    public int Length { get; private set; }

    public Span<byte> AsSpan() => _data.AsSpan(0, Length);

    public Span<byte> AsSpan(int start, int count) => _data.AsSpan(start, count);

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        int end = checked((int)offset + data.Length);
        if (end > Length)
        {
            SetLength(end);
        }

        data.CopyTo(_data.AsSpan((int)offset));
    }

    public void SetLength(int length)
    {
        if (length > _data.Length)
        {
            Array.Resize(ref _data, Math.Max(length, _data.Length * 2));
        }

        if (length < Length)
        {
            _data.AsSpan(length, Length - length).Clear();
        }

        Length = length;
    }
}

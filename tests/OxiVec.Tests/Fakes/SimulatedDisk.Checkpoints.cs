using OxiVec.Storage.Checkpoints;

namespace OxiVec.Tests.Fakes;

/// <summary>
/// The checkpoint directory on the simulated disk, with the same power-loss semantics as the WAL's files: a
/// directory's entries (files, subdirectories, renames, deletions) survive as of its last fsync, a file's bytes as of
/// its last fsync plus what <see cref="Crash"/> decides for the unsynced ones. Every mutation counts as an I/O
/// operation, so <see cref="CrashAtOperation"/> can land inside a checkpoint or a retention step as well.
/// </summary>
/// <remarks>
/// <see cref="CheckpointDirectory"/> itself is assumed to exist durably, as the WAL's directory is; everything in it is
/// simulated. Writes are buffered per file as <see cref="FileStream"/>'s are and reach the simulated page cache when
/// the buffer fills, at fsync and at disposal.
/// </remarks>
internal sealed partial class SimulatedDisk : ICheckpointStorage
{
    private const int StreamBuffer = 1 << 20;

    private SimDir _checkpoints = new();

    /// <summary>The checkpoint root (<c>DATA/checkpoints</c>) whose contents are simulated.</summary>
    public string CheckpointDirectory { get; init; } = "/sim/checkpoints";

    /// <summary>True once <see cref="CrashAtOperation"/> was reached: the simulated process is dead.</summary>
    private bool Dead
    {
        get
        {
            lock (_sync)
            {
                return CrashAtOperation is { } n && Operations >= n;
            }
        }
    }

    public bool DirectoryExists(string path)
    {
        lock (_sync)
        {
            return Find(path) is SimDir;
        }
    }

    public void CreateDirectory(string path)
    {
        lock (_sync)
        {
            Step($"mkdir {path}");
            SimDir dir = _checkpoints;
            foreach (string part in Parts(path))
            {
                if (!dir.Entries.TryGetValue(part, out object? next))
                {
                    next = new SimDir();
                    dir.Entries[part] = next;
                }

                dir = next as SimDir ?? throw new IOException($"Simulated '{path}': '{part}' is a file.");
            }
        }
    }

    public IReadOnlyList<string> ListDirectories(string path)
    {
        lock (_sync)
        {
            SimDir dir = Find(path) as SimDir ?? throw new DirectoryNotFoundException($"Simulated directory '{path}' does not exist.");
            return [.. dir.Entries.Where(e => e.Value is SimDir).Select(e => Path.Combine(path, e.Key)).Order(StringComparer.Ordinal)];
        }
    }

    public void MoveDirectory(string from, string to)
    {
        lock (_sync)
        {
            Step($"mvdir {from} {to}");
            (SimDir fromParent, string fromName) = Parent(from);
            (SimDir toParent, string toName) = Parent(to);
            if (!fromParent.Entries.TryGetValue(fromName, out object? dir) || dir is not SimDir)
            {
                throw new DirectoryNotFoundException($"Simulated directory '{from}' does not exist.");
            }

            if (toParent.Entries.ContainsKey(toName))
            {
                throw new IOException($"Simulated '{to}' already exists.");
            }

            fromParent.Entries.Remove(fromName);
            toParent.Entries[toName] = dir;
        }
    }

    public void DeleteDirectory(string path)
    {
        lock (_sync)
        {
            Step($"rmdir {path}");
            (SimDir parent, string name) = Parent(path);
            if (!parent.Entries.TryGetValue(name, out object? dir) || dir is not SimDir)
            {
                throw new DirectoryNotFoundException($"Simulated directory '{path}' does not exist.");
            }

            // Unlinked from its parent now; a power loss before the parent's fsync brings it back with what it durably held.
            parent.Entries.Remove(name);
        }
    }

    public void SyncDirectory(string path)
    {
        lock (_sync)
        {
            Step($"syncdir {path}");
            SimDir dir = Find(path) as SimDir ?? throw new DirectoryNotFoundException($"Simulated directory '{path}' does not exist.");
            dir.DurableEntries = new Dictionary<string, object>(dir.Entries, StringComparer.Ordinal);
        }
    }

    public bool FileExists(string path)
    {
        lock (_sync)
        {
            return Find(path) is SimFile;
        }
    }

    public Stream CreateFile(string path)
    {
        lock (_sync)
        {
            Step($"create {path}");
            (SimDir parent, string name) = Parent(path);
            if (parent.Entries.ContainsKey(name))
            {
                throw new IOException($"Simulated file '{path}' already exists.");
            }

            var file = new SimFile();
            parent.Entries[name] = file;
            return new CheckpointFileStream(this, file);
        }
    }

    public void SyncFile(Stream file)
    {
        var stream = (CheckpointFileStream)file;
        stream.Flush();
        lock (_sync)
        {
            Step("fsync checkpoint file");
            SyncCount++;
            if (FailSyncFrom is { } from && SyncCount >= from)
            {
                throw new IOException("fsync failed: Input/output error (simulated).");
            }

            stream.File.SyncNow();
        }
    }

    public Stream OpenRead(string path)
    {
        lock (_sync)
        {
            SimFile file = Find(path) as SimFile ?? throw new FileNotFoundException($"Simulated file '{path}' does not exist.", path);
            return new MemoryStream(file.Current.AsSpan().ToArray(), writable: false);
        }
    }

    /// <summary>The checkpoint directories (names) that exist now.</summary>
    public IReadOnlyList<string> CheckpointNames()
    {
        lock (_sync)
        {
            return [.. _checkpoints.Entries.Where(e => e.Value is SimDir).Select(e => e.Key).Order(StringComparer.Ordinal)];
        }
    }

    private void CrashCheckpoints(SimulatedDisk after, Random random, CrashMode mode) => after._checkpoints = _checkpoints.Survivor(random, mode);

    private string[] Parts(string path)
    {
        string relative = Path.GetRelativePath(CheckpointDirectory, path);
        if (relative == ".")
        {
            return [];
        }

        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            throw new IOException($"Simulated '{path}' is outside the simulated checkpoint directory '{CheckpointDirectory}'.");
        }

        return relative.Split(Path.DirectorySeparatorChar);
    }

    private object? Find(string path)
    {
        object? node = _checkpoints;
        foreach (string part in Parts(path))
        {
            if (node is not SimDir dir || !dir.Entries.TryGetValue(part, out node))
            {
                return null;
            }
        }

        return node;
    }

    private (SimDir Parent, string Name) Parent(string path)
    {
        string[] parts = Parts(path);
        if (parts.Length == 0)
        {
            throw new IOException($"Simulated '{path}' is the checkpoint directory itself.");
        }

        SimDir parent = Find(Path.GetDirectoryName(path)!) as SimDir ?? throw new DirectoryNotFoundException($"Simulated parent of '{path}' does not exist.");
        return (parent, parts[^1]);
    }

    private void WriteBuffered(SimFile file, long offset, ReadOnlySpan<byte> data)
    {
        lock (_sync)
        {
            Step("write checkpoint file");
            file.WriteAt(offset, data);
        }
    }

    /// <summary>A directory: its entries now, and as of its last fsync.</summary>
    private sealed class SimDir
    {
        public Dictionary<string, object> Entries { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, object> DurableEntries { get; set; } = new(StringComparer.Ordinal);

        /// <summary>What a power loss leaves: the durable entries, recursively, each file as <see cref="SimFile.Survivor"/> decides.</summary>
        public SimDir Survivor(Random random, CrashMode mode)
        {
            var after = new SimDir();
            foreach ((string name, object entry) in DurableEntries.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                after.Entries[name] = entry is SimDir dir ? dir.Survivor(random, mode) : ((SimFile)entry).Survivor(random, mode);
            }

            after.DurableEntries = new Dictionary<string, object>(after.Entries, StringComparer.Ordinal);
            return after;
        }
    }

    /// <summary>A checkpoint file being written: buffered like a <see cref="FileStream"/>, written to the simulated file on flush.</summary>
    private sealed class CheckpointFileStream(SimulatedDisk disk, SimFile file) : Stream
    {
        private readonly MemoryStream _buffer = new();
        private long _flushed;
        private bool _disposed;

        public SimFile File { get; } = file;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _flushed + _buffer.Length;

        public override long Position
        {
            get => Length;
            set => throw new NotSupportedException();
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _buffer.Write(buffer);
            if (_buffer.Length >= StreamBuffer)
            {
                Flush();
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void WriteByte(byte value) => Write([value]);

        public override void Flush()
        {
            if (_buffer.Length == 0)
            {
                return;
            }

            disk.WriteBuffered(File, _flushed, _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length));
            _flushed += _buffer.Length;
            _buffer.SetLength(0);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                if (!disk.Dead)
                {
                    Flush(); // as FileStream writes its buffer out when closed
                }
            }

            base.Dispose(disposing);
        }
    }
}

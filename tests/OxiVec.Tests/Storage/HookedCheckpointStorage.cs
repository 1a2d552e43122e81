using OxiVec.Storage.Checkpoints;

namespace OxiVec.Tests.Storage;

/// <summary>
/// The real checkpoint file system with two test hooks: <see cref="OnCreateDirectory"/> runs before each directory is
/// created (a test holds a checkpoint there), and while <see cref="DamageNewFiles"/> is set, every file created is read
/// back with one byte flipped (as a disk that lost or garbled a write would return it); the file itself is intact.
/// </summary>
internal sealed class HookedCheckpointStorage : ICheckpointStorage
{
    private readonly FileSystemCheckpointStorage _inner = FileSystemCheckpointStorage.Instance;
    private readonly HashSet<string> _damaged = new(StringComparer.Ordinal);

    /// <summary>Runs (on the checkpointing thread) before each directory is created.</summary>
    public Action<string>? OnCreateDirectory { get; set; }

    /// <summary>Runs (on the checkpointing thread) before each write to a file created here, with the file's path.</summary>
    public Action<string>? OnWrite { get; set; }

    /// <summary>The largest single write to a created file, by file name (c0.records, MANIFEST, ...).</summary>
    public Dictionary<string, int> LargestWrite { get; } = new(StringComparer.Ordinal);

    /// <summary>While true, the files created are read back damaged.</summary>
    public bool DamageNewFiles { get; set; }

    /// <summary>How many files were read back damaged.</summary>
    public int DamagedReads { get; private set; }

    public bool DirectoryExists(string path) => _inner.DirectoryExists(path);

    public void CreateDirectory(string path)
    {
        OnCreateDirectory?.Invoke(path);
        _inner.CreateDirectory(path);
    }

    public IReadOnlyList<string> ListDirectories(string path) => _inner.ListDirectories(path);

    public void MoveDirectory(string from, string to)
    {
        lock (_damaged)
        {
            // A damaged file keeps reading back damaged under its directory's new name.
            foreach (string file in _damaged.Where(f => f.StartsWith(from + Path.DirectorySeparatorChar, StringComparison.Ordinal)).ToList())
            {
                _damaged.Remove(file);
                _damaged.Add(to + file[from.Length..]);
            }
        }

        _inner.MoveDirectory(from, to);
    }

    public void DeleteDirectory(string path) => _inner.DeleteDirectory(path);

    public void SyncDirectory(string path) => _inner.SyncDirectory(path);

    public bool FileExists(string path) => _inner.FileExists(path);

    public Stream CreateFile(string path)
    {
        if (DamageNewFiles)
        {
            lock (_damaged)
            {
                _damaged.Add(path);
            }
        }

        return new WatchedStream(this, path, _inner.CreateFile(path));
    }

    public void SyncFile(Stream file) => _inner.SyncFile(((WatchedStream)file).Inner);

    /// <summary>The write-back windows passed on to the file system, by file name, in order.</summary>
    public Dictionary<string, List<(long From, long To)>> WriteBackWindows { get; } = new(StringComparer.Ordinal);

    public void WriteBack(Stream file, long from, long to)
    {
        var watched = (WatchedStream)file;
        lock (WriteBackWindows)
        {
            string name = System.IO.Path.GetFileName(watched.FilePath);
            if (!WriteBackWindows.TryGetValue(name, out List<(long, long)>? windows))
            {
                WriteBackWindows[name] = windows = [];
            }

            windows.Add((from, to));
        }

        _inner.WriteBack(watched.Inner, from, to);
    }

    public Stream OpenRead(string path)
    {
        lock (_damaged)
        {
            if (!_damaged.Contains(path))
            {
                return _inner.OpenRead(path);
            }

            DamagedReads++;
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length > 0)
        {
            bytes[bytes.Length / 2] ^= 0x40;
        }

        return new MemoryStream(bytes, writable: false);
    }

    /// <summary>A created file: runs <see cref="OnWrite"/> and records the largest write before passing each write on.</summary>
    private sealed class WatchedStream(HookedCheckpointStorage storage, string path, Stream inner) : Stream
    {
        public Stream Inner { get; } = inner;

        public string FilePath => path;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Inner.Length;

        public override long Position
        {
            get => Inner.Position;
            set => throw new NotSupportedException();
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            storage.OnWrite?.Invoke(path);
            lock (storage.LargestWrite)
            {
                string name = System.IO.Path.GetFileName(path);
                storage.LargestWrite[name] = Math.Max(storage.LargestWrite.GetValueOrDefault(name), buffer.Length);
            }

            Inner.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush() => Inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

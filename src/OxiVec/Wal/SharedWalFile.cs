namespace OxiVec.Wal;

/// <summary>
/// A segment file used by several parties of the writer at once (the write path, a running fsync, the background
/// sealer), each of which disposes it when done: the file is closed when the last owner lets go.
/// </summary>
internal sealed class SharedWalFile(IWalFile inner) : IWalFile
{
    private int _owners = 1;

    public string Name => inner.Name;

    public long Length => inner.Length;

    /// <summary>Adds an owner, who must dispose it once more. Called only while another owner holds it.</summary>
    public void AddOwner()
    {
        if (Interlocked.Increment(ref _owners) <= 1)
        {
            throw new InvalidOperationException($"WAL file '{Name}' was already closed.");
        }
    }

    public int Read(long offset, Span<byte> buffer) => inner.Read(offset, buffer);

    public void Write(long offset, ReadOnlySpan<byte> data) => inner.Write(offset, data);

    public void Sync() => inner.Sync();

    /// <summary>Forwarded: a shared mapped segment still takes single appends straight into its mapping.</summary>
    public bool WritesInMemory(long offset, int length) => inner.WritesInMemory(offset, length);

    public Span<byte> MemoryAt(long offset, int length) => inner.MemoryAt(offset, length);

    public void Prefault(long offset, long length) => inner.Prefault(offset, length);

    public void SetLength(long length) => inner.SetLength(length);

    /// <summary>Lets go of one ownership; the last closes the file.</summary>
    public void Dispose()
    {
        if (Interlocked.Decrement(ref _owners) == 0)
        {
            inner.Dispose();
        }
    }
}

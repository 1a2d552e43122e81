namespace OxiVec.Wal;

/// <summary>
/// A segment file used by several parties of the writer at once (the write path, running fsyncs, the background
/// sealer), each of which disposes it when done: the file is closed when the last owner lets go.
/// </summary>
/// <remarks>
/// It may hold a second descriptor of the same file (<see cref="Second"/>), opened before any record was written
/// through the first: group commit's second fsync in flight runs on it. Linux reports a write-back error once per
/// open file description (errseq), so two fsyncs in flight on one descriptor could let one return success for pages
/// whose write-back failed; each fsync in flight has a descriptor of its own, and each descriptor at most one fsync.
/// </remarks>
internal sealed class SharedWalFile(IWalFile inner, IWalFile? second = null) : IWalFile
{
    private int _owners = 1;

    public string Name => inner.Name;

    public long Length => inner.Length;

    /// <summary>A second descriptor of the file (read-only), opened before any record was written, for a second fsync in flight; null when none.</summary>
    public IWalFile? Second => second;

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

    /// <summary>Lets go of one ownership; the last closes the file (both descriptors).</summary>
    public void Dispose()
    {
        if (Interlocked.Decrement(ref _owners) == 0)
        {
            try
            {
                inner.Dispose();
            }
            finally
            {
                second?.Dispose();
            }
        }
    }
}

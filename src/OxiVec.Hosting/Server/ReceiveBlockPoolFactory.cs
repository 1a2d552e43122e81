using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace OxiVec.Hosting.Server;

/// <summary>
/// Gives Kestrel's transport <see cref="ReceiveBlockPool"/>s (registered as the application's
/// <see cref="IMemoryPoolFactory{T}"/>, which Kestrel creates its connection pools from).
/// </summary>
internal sealed class ReceiveBlockPoolFactory : IMemoryPoolFactory<byte>
{
    private int _created;

    /// <summary>How many pools Kestrel has created from this factory (for tests: the transport uses it).</summary>
    public int Created => Volatile.Read(ref _created);

    /// <inheritdoc />
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        _ = Interlocked.Increment(ref _created);
        return new ReceiveBlockPool();
    }
}

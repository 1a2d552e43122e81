using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace OxiVec.Hosting.Server;

/// <summary>
/// The memory pool of the server's connections (Kestrel's socket transport: receive and send buffers), with blocks of
/// <see cref="BlockSize"/> bytes instead of Kestrel's 4 KiB. A connection receives into one block at a time, so with
/// 4 KiB blocks a Qdrant search of 384 numbers (about 4.8 KB with its headers) took two receive calls and two passes
/// through the connection's pipe before its body was whole; in a 16 KiB block it arrives in one. Blocks are pinned
/// arrays (the pinned object heap, as Kestrel's own), handed out as memory that pins without a handle; at most
/// <see cref="MaxRetained"/> free blocks are kept, the rest are left to the garbage collector.
/// </summary>
internal sealed class ReceiveBlockPool : MemoryPool<byte>
{
    /// <summary>The size of every block: a request of a few kilobytes, headers included, fits in one.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>Free blocks kept for reuse (16 MiB at most); a block returned beyond them is dropped.</summary>
    public const int MaxRetained = 1_024;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;
    private bool _disposed;

    /// <inheritdoc />
    public override int MaxBufferSize => BlockSize;

    /// <summary>Free blocks held now (for tests).</summary>
    internal int FreeCount => Volatile.Read(ref _freeCount);

    /// <summary>Rents a block of <see cref="BlockSize"/> bytes (its contents are whatever the last user left).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minBufferSize"/> is more than <see cref="BlockSize"/>.</exception>
    /// <exception cref="ObjectDisposedException">The pool is disposed.</exception>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        if (_free.TryDequeue(out Block? block))
        {
            _ = Interlocked.Decrement(ref _freeCount);
            block.Lease();
            return block;
        }

        return new Block(this);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        Volatile.Write(ref _disposed, true);
        _free.Clear();
        Volatile.Write(ref _freeCount, 0);
    }

    private void Return(Block block)
    {
        if (Volatile.Read(ref _disposed) || Interlocked.Increment(ref _freeCount) > MaxRetained)
        {
            if (!Volatile.Read(ref _disposed))
            {
                _ = Interlocked.Decrement(ref _freeCount);
            }

            return; // the garbage collector takes it
        }

        _free.Enqueue(block);
    }

    /// <summary>One block: its memory is valid from <see cref="Rent"/> until it is disposed (returned), once.</summary>
    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly ReceiveBlockPool _pool;
        private int _leased;

        public Block(ReceiveBlockPool pool)
        {
            _pool = pool;
            byte[] array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
            Memory = MemoryMarshal.CreateFromPinnedArray(array, 0, array.Length);
            _leased = 1;
        }

        public Memory<byte> Memory { get; }

        public void Lease() => Volatile.Write(ref _leased, 1);

        /// <summary>Returns the block to its pool; a second dispose of the same lease does nothing.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _leased, 0) == 1)
            {
                _pool.Return(this);
            }
        }
    }
}

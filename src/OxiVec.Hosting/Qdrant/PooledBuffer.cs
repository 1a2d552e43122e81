using System.Buffers;
using System.IO.Pipelines;

namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}.Shared"/> (returned on dispose): a request body read
/// whole, or an answer written before it is sent with its length.
/// </summary>
internal sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;
    private int _length;

    public PooledBuffer(int capacity) => _array = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Span => _array.AsSpan(0, _length);

    /// <summary>The bytes written so far.</summary>
    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, _length);

    /// <summary>
    /// Reads all of <paramref name="reader"/> (a request body: Kestrel enforces its size limit while it is read). A
    /// <see cref="ValueTask{TResult}"/>: a body already received completes synchronously, with no task allocated.
    /// </summary>
    public static async ValueTask<PooledBuffer> ReadAllAsync(PipeReader reader, long? contentLength, CancellationToken cancellationToken)
    {
        var buffer = new PooledBuffer(contentLength is > 0 and <= 1 << 20 ? (int)contentLength.Value : 4_096);
        try
        {
            while (true)
            {
                ReadResult read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                foreach (ReadOnlyMemory<byte> segment in read.Buffer)
                {
                    segment.Span.CopyTo(buffer.GetSpan(segment.Length));
                    buffer.Advance(segment.Length);
                }

                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    return buffer;
                }
            }
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_length);
    }

    public void Dispose()
    {
        byte[] array = _array;
        _array = [];
        _length = 0;
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private void Ensure(int sizeHint)
    {
        int needed = _length + Math.Max(sizeHint, 1);
        if (needed <= _array.Length)
        {
            return;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, checked(_array.Length * 2)));
        _array.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = larger;
    }
}

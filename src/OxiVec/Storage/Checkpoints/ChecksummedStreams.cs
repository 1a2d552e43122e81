using System.Buffers;
using OxiVec.Wal;

namespace OxiVec.Storage.Checkpoints;

/// <summary>
/// A write-only stream that keeps the CRC-32C of everything written and hands the bytes to <c>inner</c> in pieces of
/// <see cref="BufferSize"/> (a pooled buffer: a checkpoint's steady state allocates nothing for it, and what it
/// keeps through the checkpoint is never copied by a collection). Small writes are gathered; a write of a buffer or
/// more, with nothing gathered, goes to <c>inner</c> directly. Call <see cref="Flush"/> before using <c>inner</c>
/// directly; dispose it to return the buffer (it does not dispose <c>inner</c>).
/// </summary>
internal sealed class ChecksumWriteStream(Stream inner) : Stream, IBufferWriter<byte>
{
    /// <summary>The size of a piece handed to the inner stream (a pooled array on the large object heap: never moved).</summary>
    public const int BufferSize = 256 << 10;

    private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _buffered;
    private long _handedOn; // bytes passed to inner
    private long _lastWriteBack;
    private uint _handedOnCrc; // of the bytes handed on: the gathered ones are checksummed once, when handed on

    /// <summary>The CRC-32C of every byte written (handed on or gathered).</summary>
    public uint Crc => WalFormat.Crc32C(_handedOnCrc, Buffer().AsSpan(0, _buffered));

    /// <summary>
    /// Called after every <see cref="WriteBackBytes"/> bytes handed to the inner stream or more, with the range handed
    /// on since the last call, <c>(from, to)</c> (the checkpoint writes it back to the disk there), or never when null.
    /// </summary>
    public Action<long, long>? WriteBack { get; init; }

    /// <summary>How many bytes between calls of <see cref="WriteBack"/>.</summary>
    public long WriteBackBytes { get; init; } = long.MaxValue;

    /// <summary>Bytes written (handed on or gathered).</summary>
    public long Written => _handedOn + _buffered;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => Written;

    public override long Position
    {
        get => Written;
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        byte[] gathered = Buffer();
        if (_buffered == 0 && buffer.Length >= gathered.Length)
        {
            HandOn(buffer);
            return;
        }

        while (!buffer.IsEmpty)
        {
            int n = Math.Min(buffer.Length, gathered.Length - _buffered);
            buffer[..n].CopyTo(gathered.AsSpan(_buffered));
            Advance(n);
            buffer = buffer[n..];
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>
    /// Room for at least <paramref name="sizeHint"/> bytes (1 when 0) in the gathering buffer, valid until the next
    /// call; <see cref="Advance"/> then takes what was written into it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sizeHint"/> exceeds <see cref="BufferSize"/>.</exception>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sizeHint, BufferSize);
        byte[] gathered = Buffer();
        if (gathered.Length - _buffered < Math.Max(1, sizeHint))
        {
            FlushBuffer();
        }

        return gathered.AsSpan(_buffered);
    }

    /// <inheritdoc cref="GetSpan"/>
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        _ = GetSpan(sizeHint);
        return Buffer().AsMemory(_buffered);
    }

    /// <summary>Takes <paramref name="count"/> bytes written into the span <see cref="GetSpan"/> returned.</summary>
    public void Advance(int count)
    {
        byte[] gathered = Buffer();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, gathered.Length - _buffered);
        _buffered += count;
        if (_buffered == gathered.Length)
        {
            FlushBuffer();
        }
    }

    /// <summary>Hands everything gathered to the inner stream and flushes it.</summary>
    public override void Flush()
    {
        FlushBuffer();
        inner.Flush();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Returns the buffer to the pool; bytes still gathered are dropped (a failed write's; call <see cref="Flush"/> first).</summary>
    protected override void Dispose(bool disposing)
    {
        byte[]? buffer = _buffer;
        _buffer = null;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        base.Dispose(disposing);
    }

    private byte[] Buffer() => _buffer ?? throw new ObjectDisposedException(nameof(ChecksumWriteStream));

    private void FlushBuffer()
    {
        if (_buffered == 0)
        {
            return;
        }

        int n = _buffered;
        _buffered = 0; // a failed write leaves nothing to hand on twice
        HandOn(Buffer().AsSpan(0, n));
    }

    private void HandOn(ReadOnlySpan<byte> bytes)
    {
        _handedOnCrc = WalFormat.Crc32C(_handedOnCrc, bytes);
        inner.Write(bytes);
        _handedOn += bytes.Length;
        if (WriteBack is not null && _handedOn - _lastWriteBack >= WriteBackBytes)
        {
            long from = _lastWriteBack;
            _lastWriteBack = _handedOn;
            WriteBack(from, _handedOn);
        }
    }
}

/// <summary>A read-only stream that keeps the CRC-32C of everything read and fails cleanly at a premature end.</summary>
internal sealed class ChecksumReadStream(Stream inner, string path, long length) : Stream
{
    /// <summary>Bytes not read yet (the file's length, as verified, minus what was consumed).</summary>
    public long Remaining => length - Consumed;

    public uint Crc { get; private set; }

    public string Path { get; } = path;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => Consumed;
        set => throw new NotSupportedException();
    }

    public long Consumed { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        Crc = WalFormat.Crc32C(Crc, buffer[..n]);
        Consumed += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>Reads exactly <c>buffer.Length</c> bytes or throws <see cref="InvalidDataException"/> naming the file and offset.</summary>
    public void ReadFully(Span<byte> buffer)
    {
        long at = Consumed;
        int total = 0;
        while (total < buffer.Length)
        {
            int n = Read(buffer[total..]);
            if (n == 0)
            {
                throw new InvalidDataException($"'{Path}' ends at byte {Consumed}; {buffer.Length} bytes were needed at offset {at}.");
            }

            total += n;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

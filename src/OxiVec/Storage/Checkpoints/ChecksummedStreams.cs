using OxiVec.Wal;

namespace OxiVec.Storage.Checkpoints;

/// <summary>A write-only stream that passes bytes through and keeps the CRC-32C of everything written.</summary>
internal sealed class ChecksumWriteStream(Stream inner) : Stream
{
    private long _lastWriteBack;

    public uint Crc { get; private set; }

    /// <summary>
    /// Called after every <see cref="WriteBackBytes"/> bytes written or more, with the range written since the last
    /// call, <c>(from, to)</c> (the checkpoint writes it back to the disk there), or never when null.
    /// </summary>
    public Action<long, long>? WriteBack { get; init; }

    /// <summary>How many bytes between calls of <see cref="WriteBack"/>.</summary>
    public long WriteBackBytes { get; init; } = long.MaxValue;

    public long Written { get; private set; }

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
        Crc = WalFormat.Crc32C(Crc, buffer);
        Written += buffer.Length;
        inner.Write(buffer);
        if (WriteBack is not null && Written - _lastWriteBack >= WriteBackBytes)
        {
            long from = _lastWriteBack;
            _lastWriteBack = Written;
            WriteBack(from, Written);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
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

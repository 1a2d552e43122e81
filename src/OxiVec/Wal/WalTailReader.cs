using System.Buffers;
using System.Buffers.Binary;

namespace OxiVec.Wal;

/// <summary>
/// Reads a live WAL from an LSN onward as replication frames (see <see cref="WalReplicationFrames"/>), up to the
/// written end, keeping its place between reads: each batch continues where the last one stopped, it follows
/// rotation into the next segment, reads compressed (<c>.walz</c>) segments, and throws
/// <see cref="WalSegmentRemovedException"/> when the segment it needs was removed.
/// </summary>
/// <remarks>
/// <para>Not thread safe: one sender owns it.</para>
/// <para>Reads go through a read-ahead block: one read of the segment fetches every record written so far (up to the
/// block's size), so a batch of small records costs one system call, not two per record. The block holds only bytes
/// below the written end at the time it was read; the log never changes below its written end, so they stay valid.</para>
/// </remarks>
internal sealed class WalTailReader : IDisposable
{
    /// <summary>The read-ahead block's size; a record larger than it is read on its own.</summary>
    internal const int BlockBytes = 256 << 10;

    private readonly IWalStorage _storage;
    private readonly Func<WalSegmentSet> _segments;
    private readonly byte[] _header = new byte[WalFormat.RecordHeaderSize];
    private byte[]? _block; // rented while the reader lives
    private long _blockStart; // segment offset of _block[0], in the open segment
    private int _blockLength; // 0: empty
    private IWalFile? _file;
    private ulong _segmentId;
    private uint _salt;
    private long _offset;

    public WalTailReader(IWalStorage storage, Func<WalSegmentSet> segments, long fromLsn)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromLsn, 1);
        _storage = storage;
        _segments = segments;
        NextLsn = fromLsn;
    }

    /// <summary>The LSN of the next record to read.</summary>
    public long NextLsn { get; private set; }

    /// <summary>
    /// Appends frames of the records from <see cref="NextLsn"/> on to <paramref name="output"/> until about
    /// <paramref name="maxBytes"/> (a single larger record alone) or the written end. Returns how many records.
    /// </summary>
    /// <exception cref="WalSegmentRemovedException">The records from <see cref="NextLsn"/> are no longer in the WAL.</exception>
    /// <exception cref="WalCorruptionException">A record in the log is not where it should be.</exception>
    public int Read(ArrayBufferWriter<byte> output, int maxBytes)
    {
        int count = 0;
        int bytes = 0;
        while (true)
        {
            WalSegmentSet set = _segments();
            if (_file is null && !Position(set))
            {
                return count;
            }

            bool active = set.Active.SegmentId == _segmentId;
            long limit = active ? set.Active.Limit : _file!.Length;
            if (_offset + WalFormat.RecordHeaderSize > limit)
            {
                if (active)
                {
                    return count; // caught up with the written end
                }

                CloseSegment(); // sealed and read to its end: the next segment follows
                continue;
            }

            if (ReadAt(_offset, _header, limit) != _header.Length)
            {
                throw Corrupt("the record header could not be read");
            }

            WalRecordHeader h = WalFormat.ReadRecordHeader(_header);
            if (h.Lsn != NextLsn || h.PayloadLength < 0 || h.PayloadLength > WalFormat.MaxPayloadLength)
            {
                throw Corrupt($"expected the record with LSN {NextLsn}, found a header with LSN {h.Lsn} and length {h.PayloadLength}");
            }

            int size = WalFormat.RecordSize(h.PayloadLength);
            if (_offset + size > limit)
            {
                if (active)
                {
                    return count;
                }

                throw Corrupt($"the record of {size} bytes runs past the segment's end ({limit})");
            }

            int frame = WalReplicationFrames.SaltSize + size;
            if (count > 0 && bytes + frame > maxBytes)
            {
                return count;
            }

            Span<byte> destination = output.GetSpan(frame)[..frame];
            BinaryPrimitives.WriteUInt32LittleEndian(destination, _salt);
            if (ReadAt(_offset, destination[WalReplicationFrames.SaltSize..], limit) != size)
            {
                throw Corrupt("the record could not be read whole");
            }

            output.Advance(frame);
            _offset += size;
            NextLsn++;
            count++;
            bytes += frame;
        }
    }

    public void Dispose()
    {
        CloseSegment();
        if (_block is { } block)
        {
            _block = null;
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    /// <summary>
    /// Reads <paramref name="destination"/> from <paramref name="offset"/> of the open segment, which is written up to
    /// <paramref name="limit"/>: from the read-ahead block, refilled with one read when it does not hold the range.
    /// </summary>
    private int ReadAt(long offset, Span<byte> destination, long limit)
    {
        if (offset >= _blockStart && offset + destination.Length <= _blockStart + _blockLength)
        {
            _block.AsSpan((int)(offset - _blockStart), destination.Length).CopyTo(destination);
            return destination.Length;
        }

        if (destination.Length > BlockBytes)
        {
            return _file!.Read(offset, destination); // a record larger than the block: on its own
        }

        _block ??= ArrayPool<byte>.Shared.Rent(BlockBytes);
        int want = (int)Math.Clamp(limit - offset, destination.Length, BlockBytes);
        _blockStart = offset;
        _blockLength = 0; // empty until the read succeeded
        int read = _file!.Read(offset, _block.AsSpan(0, want));
        _blockLength = read;
        int got = Math.Min(read, destination.Length);
        _block.AsSpan(0, got).CopyTo(destination);
        return got;
    }

    /// <summary>Opens the segment that holds <see cref="NextLsn"/> and moves to that record; false when it is not written yet.</summary>
    private bool Position(WalSegmentSet set)
    {
        if (NextLsn < set.FirstLsn)
        {
            throw new WalSegmentRemovedException(_storage.Directory, NextLsn, set.FirstLsn);
        }

        IReadOnlyList<SegmentBound> all = set.All;
        int index = all.Count - 1;
        while (index > 0 && all[index].FirstLsn > NextLsn)
        {
            index--;
        }

        SegmentBound segment = all[index];
        IWalFile file = OpenFile(segment);
        try
        {
            Span<byte> header = stackalloc byte[WalFormat.SegmentHeaderSize];
            if (file.Read(0, header) != header.Length || !WalFormat.TryReadSegmentHeader(header, out WalSegmentHeader h, out string? error))
            {
                throw new WalCorruptionException(Path.Combine(_storage.Directory, segment.Name), 0, "the segment header cannot be read for replication");
            }

            _ = error;
            _file = file;
            _segmentId = h.SegmentId;
            _salt = h.Salt;
            _offset = WalFormat.SegmentHeaderSize;
            long lsn = h.FirstLsn;
            bool active = segment.SegmentId == set.Active.SegmentId;
            long limit = active ? set.Active.Limit : file.Length;

            // Once per positioning (a new stream, or a new segment): skip the records before NextLsn.
            while (lsn < NextLsn && _offset + WalFormat.RecordHeaderSize <= limit)
            {
                if (file.Read(_offset, _header) != _header.Length)
                {
                    break;
                }

                WalRecordHeader r = WalFormat.ReadRecordHeader(_header);
                if (r.Lsn != lsn || WalFormat.IsZero(_header))
                {
                    break;
                }

                _offset += WalFormat.RecordSize(r.PayloadLength);
                lsn++;
            }

            if (lsn != NextLsn)
            {
                CloseSegment();
                if (active || index == all.Count - 1)
                {
                    return false; // NextLsn is not written yet
                }

                throw new WalCorruptionException(Path.Combine(_storage.Directory, segment.Name), _offset, $"LSN {NextLsn} was not found in segment '{segment.Name}'");
            }

            return true;
        }
        catch
        {
            if (_file is null)
            {
                file.Dispose();
            }

            throw;
        }
    }

    private IWalFile OpenFile(SegmentBound segment)
    {
        try
        {
            return WalSegmentName.IsCompressed(segment.Name)
                ? WalSegmentCompression.OpenDecompressed(_storage, segment.Name)
                : OpenPlainOrCompressed(segment);
        }
        catch (FileNotFoundException)
        {
            throw new WalSegmentRemovedException(_storage.Directory, NextLsn, _segments().FirstLsn);
        }

        IWalFile OpenPlainOrCompressed(SegmentBound plain)
        {
            try
            {
                return WalSegmentFiles.OpenForRead(_storage, plain);
            }
            catch (FileNotFoundException) when (plain.PendingName is null)
            {
                // Compressed (and the original deleted) since the set was taken.
                return WalSegmentCompression.OpenDecompressed(_storage, Path.ChangeExtension(plain.Name, WalSegmentCompression.Suffix));
            }
        }
    }

    private void CloseSegment()
    {
        _file?.Dispose();
        _file = null;
        _blockLength = 0; // the block belonged to that segment
    }

    private WalCorruptionException Corrupt(string reason) =>
        new(Path.Combine(_storage.Directory, $"segment {_segmentId}"), _offset, $"replication read of LSN {NextLsn}: {reason}");
}

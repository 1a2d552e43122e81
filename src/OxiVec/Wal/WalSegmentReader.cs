namespace OxiVec.Wal;

/// <summary>How the scan of one segment ended.</summary>
internal enum WalSegmentEndKind
{
    /// <summary>Nothing but zeros (unwritten, preallocated space) or the end of the file follows the last record.</summary>
    Clean,

    /// <summary>
    /// Non-zero bytes follow the last record but no later record proves they were ever durable: the last write
    /// was cut short by a crash. Repairable by zeroing from <see cref="WalSegmentEnd.Offset"/>.
    /// </summary>
    Torn,

    /// <summary>A bad record is followed by a valid one written after the bad one was known durable.</summary>
    Corrupt,
}

/// <summary>
/// Where and why the scan of a segment stopped, and the first valid record after the stop (-1 when none), from
/// which a reader that skips corruption resumes.
/// </summary>
internal readonly record struct WalSegmentEnd(WalSegmentEndKind Kind, long Offset, long GarbageBytes, string? Reason, long ResumeOffset = -1, long ResumeLsn = -1);

/// <summary>Records lost to damage and passed over by a reader that skips corruption.</summary>
/// <param name="SegmentFile">The segment file's name.</param>
/// <param name="Offset">Where the damage starts.</param>
/// <param name="FromLsn">The first LSN lost.</param>
/// <param name="ToLsn">The last LSN lost.</param>
/// <param name="Bytes">Bytes passed over.</param>
/// <param name="Reason">What was wrong.</param>
public sealed record WalSkippedRange(string SegmentFile, long Offset, long FromLsn, long ToLsn, long Bytes, string Reason)
{
    /// <summary>
    /// Where the skipped bytes were copied before anything else happened, relative to the WAL directory
    /// (<c>quarantine/&lt;segment&gt;.&lt;offset&gt;.broken</c>); null when the range was only read (a plain
    /// <see cref="WalReader"/> changes nothing) or held no bytes to keep (durable records found zeroed or missing).
    /// </summary>
    public string? QuarantineFile { get; init; }

    /// <summary>How many records were lost.</summary>
    public long Records => ToLsn - FromLsn + 1;
}

/// <summary>
/// Reads the records of one segment file in order, checking each (length, reserved bits, expected LSN, type,
/// salted CRC-32C), and classifies what stops the scan: clean end, torn tail, or corruption.
/// </summary>
internal sealed class WalSegmentReader : IDisposable
{
    private readonly IWalFile _file;
    private readonly long _limit;
    private byte[] _buffer = new byte[1 << 20];
    private bool _resumeSearched;
    private long _bufferStart;
    private int _bufferLength;
    private long _offset = WalFormat.SegmentHeaderSize;
    private readonly long _durableEnd;

    /// <summary>Opens the segment and validates its header.</summary>
    /// <param name="file">The segment file; owned by the reader.</param>
    /// <param name="path">The path, for messages.</param>
    /// <param name="limit">Bytes of the file that may hold records (the writer's position for a live segment), or -1 for the whole file.</param>
    /// <param name="durableEnd">
    /// The offset up to which the control file says this segment's records are durable (0 when it says nothing): any
    /// scan that stops before it is corruption, never a torn tail or a clean end.
    /// </param>
    /// <exception cref="WalCorruptionException">The header is missing or invalid.</exception>
    public WalSegmentReader(IWalFile file, string path, long limit = -1, long durableEnd = 0)
    {
        _file = file;
        Path = path;
        _durableEnd = durableEnd;
        _limit = limit < 0 ? file.Length : Math.Min(limit, file.Length);
        ReadOnlySpan<byte> header = Window(0, WalFormat.SegmentHeaderSize);
        if (!WalFormat.TryReadSegmentHeader(header, out WalSegmentHeader h, out string? error))
        {
            _file.Dispose();
            throw new WalCorruptionException(path, 0, error!);
        }

        Header = h;
        NextLsn = h.FirstLsn;
    }

    public string Path { get; }

    public WalSegmentHeader Header { get; }

    /// <summary>The LSN the next record must carry.</summary>
    public long NextLsn { get; private set; }

    /// <summary>The offset just past the last valid record read so far.</summary>
    public long Offset => _offset;

    /// <summary>The offset of the record most recently returned.</summary>
    public long RecordOffset { get; private set; }

    /// <summary>Set once <see cref="TryReadNext"/> has returned false.</summary>
    public WalSegmentEnd? End { get; private set; }

    /// <summary>
    /// Offsets examined as possible record starts while looking past damage (tests: the work must be proportional
    /// to the bytes of records, not to the segment size).
    /// </summary>
    public long CandidatesExamined { get; private set; }

    /// <summary>Bytes of candidate records read and checksummed while looking past damage (tests, as above).</summary>
    public long CandidateBytesChecked { get; private set; }

    /// <summary>
    /// Reads the next valid record. The payload span is valid until the next call. Returns false at the end of
    /// the records; <see cref="End"/> then says why.
    /// </summary>
    public bool TryReadNext(out WalRecordHeader header, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        header = default;
        if (End is not null)
        {
            return false;
        }

        string? problem = Check(_offset, NextLsn, out header, out payload);
        if (problem is null)
        {
            RecordOffset = _offset;
            _offset += WalFormat.RecordSize(header.PayloadLength);
            NextLsn++;
            return true;
        }

        End = Classify(_offset, NextLsn, problem);
        return false;
    }

    /// <summary>
    /// After the scan stopped at damage followed by a valid record, moves past the damage to that record so
    /// reading can go on (for recovery that skips corrupted entries, at the cost of the records lost). Returns
    /// false when there is no valid record to resume from.
    /// </summary>
    public bool TrySkipDamage(string segmentFile, out WalSkippedRange? skipped)
    {
        skipped = null;
        if (End is { Kind: not WalSegmentEndKind.Clean, ResumeOffset: -1, GarbageBytes: > 0 } unsearched && !_resumeSearched)
        {
            // Classified without a search (the control file settled it): look for the next valid record now.
            _resumeSearched = true;
            (long resumeOffset, long resumeLsn, _, _) = ScanCandidates(unsearched.Offset, NextLsn, unsearched.Offset + unsearched.GarbageBytes, stopAtFirst: true);
            End = unsearched with { ResumeOffset = resumeOffset, ResumeLsn = resumeLsn };
        }

        if (End is not { Kind: not WalSegmentEndKind.Clean, ResumeOffset: >= 0 } end)
        {
            return false;
        }

        skipped = new WalSkippedRange(segmentFile, end.Offset, NextLsn, end.ResumeLsn - 1, end.ResumeOffset - end.Offset, end.Reason ?? "damaged");
        _offset = end.ResumeOffset;
        NextLsn = end.ResumeLsn;
        End = null;
        _resumeSearched = false;
        return true;
    }

    public void Dispose() => _file.Dispose();

    /// <summary>Returns null when a valid record with <paramref name="expectedLsn"/> is at <paramref name="offset"/>, else what is wrong.</summary>
    private string? Check(long offset, long expectedLsn, out WalRecordHeader header, out ReadOnlySpan<byte> payload)
    {
        header = default;
        payload = default;
        if (offset + WalFormat.RecordHeaderSize > _limit)
        {
            return "end of segment";
        }

        ReadOnlySpan<byte> head = Window(offset, WalFormat.RecordHeaderSize);
        if (WalFormat.IsZero(head))
        {
            return "end of records";
        }

        header = WalFormat.ReadRecordHeader(head);
        if (header.Reserved != 0 || header.PayloadLength < 0 || header.PayloadLength > WalFormat.MaxPayloadLength)
        {
            return $"impossible record header (length {header.PayloadLength}, reserved {header.Reserved})";
        }

        int size = WalFormat.RecordSize(header.PayloadLength);
        if (offset + size > _limit)
        {
            return $"record of {size} bytes runs past the end of the segment ({_limit} bytes)";
        }

        ReadOnlySpan<byte> record = Window(offset, size);
        payload = record.Slice(WalFormat.RecordHeaderSize, header.PayloadLength);
        if (WalFormat.RecordChecksum(Header.Salt, record, payload) != header.Checksum)
        {
            return "record checksum mismatch";
        }

        if (record[(WalFormat.RecordHeaderSize + header.PayloadLength)..].ContainsAnyExcept((byte)0))
        {
            return "non-zero padding after the record";
        }

        if (header.Lsn != expectedLsn)
        {
            return $"record carries LSN {header.Lsn} where LSN {expectedLsn} was expected";
        }

        if (!Enum.IsDefined(header.Type))
        {
            return $"unknown record type {(byte)header.Type}";
        }

        return null;
    }

    /// <summary>
    /// Decides whether the bytes from <paramref name="offset"/> on are unwritten space, a torn last write, or
    /// corruption. Before the control file's known-durable end of this segment, anything invalid (zeros included) is
    /// corruption. Past it, a later record that validates and whose durable watermark (its LSN minus its durable
    /// distance) reaches <paramref name="expectedLsn"/> proves the record at <paramref name="offset"/> had been
    /// fsynced: losing it is corruption. Without such proof the bytes were never known durable: a torn write.
    /// </summary>
    private WalSegmentEnd Classify(long offset, long expectedLsn, string problem)
    {
        long lastNonZero = -1;
        for (long position = offset; position < _limit;)
        {
            int count = (int)Math.Min(_buffer.Length, _limit - position);
            ReadOnlySpan<byte> chunk = Window(position, count);
            int index = chunk.LastIndexOfAnyExcept((byte)0);
            if (index >= 0)
            {
                lastNonZero = position + index;
            }

            position += count;
        }

        bool knownDurable = offset < _durableEnd;
        string durableNote = $"LSN {expectedLsn} at offset {offset} is before the known-durable end of this segment (offset {_durableEnd}, recorded in the WAL control file)";
        if (lastNonZero < 0)
        {
            return knownDurable
                ? new WalSegmentEnd(WalSegmentEndKind.Corrupt, offset, 0, $"{problem}: durable records are missing; {durableNote}")
                : new WalSegmentEnd(WalSegmentEndKind.Clean, offset, 0, null);
        }

        if (knownDurable)
        {
            // No evidence scan needed: the control file settles it (the resume point is searched only when skipping).
            _resumeSearched = false;
            return new WalSegmentEnd(WalSegmentEndKind.Corrupt, offset, lastNonZero + 1 - offset, $"{problem}; {durableNote}");
        }

        _resumeSearched = true;
        (long resumeOffset, long resumeLsn, long evidenceOffset, long evidenceLsn) = ScanCandidates(offset, expectedLsn, lastNonZero + 1, stopAtFirst: false);
        return evidenceOffset >= 0
            ? new WalSegmentEnd(
                WalSegmentEndKind.Corrupt, offset, lastNonZero + 1 - offset,
                $"{problem}; LSN {expectedLsn} had been made durable, as the valid record with LSN {evidenceLsn} at offset {evidenceOffset} attests",
                resumeOffset, resumeLsn)
            : new WalSegmentEnd(WalSegmentEndKind.Torn, offset, lastNonZero + 1 - offset, problem, resumeOffset, resumeLsn);
    }

    /// <summary>
    /// Looks for valid records after the damage at <paramref name="offset"/> (up to <paramref name="end"/>, just past
    /// the last non-zero byte): the first one is where a reader that skips damage resumes; the first whose durable
    /// watermark reaches <paramref name="expectedLsn"/> is evidence that the damaged record was durable. Costs in
    /// proportion to the non-zero bytes: zeroed (preallocated) space is skipped in blocks, and a candidate header is
    /// only checksummed when its LSN is possible at its place (at most one record per 32 bytes after the damage),
    /// so garbage lengths never make it read megabytes.
    /// </summary>
    private (long ResumeOffset, long ResumeLsn, long EvidenceOffset, long EvidenceLsn) ScanCandidates(long offset, long expectedLsn, long end, bool stopAtFirst)
    {
        long resumeOffset = -1, resumeLsn = -1;
        for (long candidate = offset + WalFormat.Alignment; candidate + WalFormat.RecordHeaderSize <= end;)
        {
            // A header holds at least one non-zero byte: skip to the first aligned place whose 32 bytes reach one.
            long nonZero = NextNonZero(candidate, end);
            if (nonZero < 0)
            {
                break;
            }

            long earliest = WalFormat.AlignUp(nonZero - WalFormat.RecordHeaderSize + 1);
            if (earliest > candidate)
            {
                candidate = earliest;
                continue;
            }

            CandidatesExamined++;
            WalRecordHeader h = WalFormat.ReadRecordHeader(Window(candidate, WalFormat.RecordHeaderSize));
            long maxLsn = expectedLsn + ((candidate - offset) / WalFormat.RecordHeaderSize);
            if (h.Lsn >= expectedLsn && h.Lsn <= maxLsn && h.Reserved == 0 && h.PayloadLength >= 0 && h.PayloadLength <= WalFormat.MaxPayloadLength
                && candidate + WalFormat.RecordSize(h.PayloadLength) <= _limit)
            {
                CandidateBytesChecked += WalFormat.RecordSize(h.PayloadLength);
                if (Check(candidate, h.Lsn, out _, out _) is null)
                {
                    if (resumeOffset < 0)
                    {
                        (resumeOffset, resumeLsn) = (candidate, h.Lsn);
                        if (stopAtFirst)
                        {
                            return (resumeOffset, resumeLsn, -1, -1);
                        }
                    }

                    if (h.Lsn - h.DurableDistance >= expectedLsn)
                    {
                        return (resumeOffset, resumeLsn, candidate, h.Lsn);
                    }
                }
            }

            candidate += WalFormat.Alignment;
        }

        return (resumeOffset, resumeLsn, -1, -1);
    }

    /// <summary>The offset of the first non-zero byte in [<paramref name="from"/>, <paramref name="end"/>), or -1; scans 4 KiB blocks.</summary>
    private long NextNonZero(long from, long end)
    {
        const int Block = 4096;
        for (long position = from; position < end;)
        {
            int count = (int)Math.Min(Block, end - position);
            ReadOnlySpan<byte> block = Window(position, count);
            int index = block.IndexOfAnyExcept((byte)0);
            if (index >= 0)
            {
                return position + index;
            }

            position += block.Length == 0 ? count : block.Length;
        }

        return -1;
    }

    /// <summary>Returns up to <paramref name="count"/> bytes at <paramref name="offset"/> (fewer at the end of the file), valid until the next call.</summary>
    private ReadOnlySpan<byte> Window(long offset, int count)
    {
        if (offset < _bufferStart || offset + count > _bufferStart + _bufferLength)
        {
            if (count > _buffer.Length)
            {
                _buffer = new byte[(int)Math.Min(Array.MaxLength, Math.Max(count, (long)_buffer.Length * 2))];
            }

            int wanted = (int)Math.Min(_buffer.Length, Math.Max(0, _limit - offset));
            _bufferStart = offset;
            _bufferLength = _file.Read(offset, _buffer.AsSpan(0, Math.Max(wanted, Math.Min(count, _buffer.Length))));
        }

        int start = (int)(offset - _bufferStart);
        return _buffer.AsSpan(start, Math.Min(count, _bufferLength - start));
    }
}

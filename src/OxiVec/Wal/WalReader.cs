using System.Runtime.ExceptionServices;

namespace OxiVec.Wal;

/// <summary>
/// Reads a WAL directory without changing it: no lock is taken and nothing is repaired, so it can inspect the
/// WAL of a stopped (or crashed) process. <see cref="WalManager"/> uses it for its own reads, bounded to what it
/// has written.
/// </summary>
public sealed class WalReader
{
    private readonly IWalStorage _storage;
    private readonly IReadOnlyList<SegmentBound>? _bounds;
    private readonly WalDurablePoint? _durablePoint;
    private readonly WalCorruptionException? _controlError;

    /// <summary>Creates a reader over the WAL in <paramref name="walDir"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public WalReader(string walDir)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(walDir);
        if (!System.IO.Directory.Exists(walDir))
        {
            throw new DirectoryNotFoundException($"WAL directory '{walDir}' does not exist.");
        }

        _storage = new FileSystemWalStorage(walDir);
        try
        {
            // Read before the segments are listed: the point was recorded after its records were durable.
            _durablePoint = WalControlFile.Read(_storage)?.Point;
        }
        catch (WalCorruptionException ex)
        {
            _controlError = ex;
        }
    }

    /// <param name="storage">The WAL's files.</param>
    /// <param name="bounds">The segments to read (a live writer's snapshot), or null to list the directory.</param>
    /// <param name="durablePoint">How far the log is known durable (taken before <paramref name="bounds"/>), or null when unknown.</param>
    internal WalReader(IWalStorage storage, IReadOnlyList<SegmentBound>? bounds, WalDurablePoint? durablePoint = null)
    {
        _storage = storage;
        _bounds = bounds;
        _durablePoint = durablePoint;
    }

    /// <summary>The WAL directory.</summary>
    public string Directory => _storage.Directory;

    /// <summary>
    /// Streams the records with LSN ≥ <paramref name="fromLsn"/> in log order, transaction markers included,
    /// reading one segment at a time. A torn tail ends the stream quietly. With <paramref name="fromLsn"/> 0 (the
    /// default) the stream starts at the oldest record retained; with 1 or more, the WAL must still hold that LSN (or
    /// end before it): when its oldest segment starts after <paramref name="fromLsn"/>, records were removed (retention
    /// of a live source, or a lost segment) and the read throws rather than silently skipping them.
    /// </summary>
    /// <exception cref="WalCorruptionException">A damaged record or segment, a gap between segments, or records from <paramref name="fromLsn"/> on no longer retained.</exception>
    public IEnumerable<WalRecord> ReadRecords(long fromLsn = 0) => ReadRecords(fromLsn, skipped: null);

    /// <summary>
    /// Like <see cref="ReadRecords(long)"/>, but when <paramref name="skipped"/> is given, damage is passed over
    /// instead of thrown: reading resumes at the next valid record, and each lost range of LSNs is reported to
    /// <paramref name="skipped"/> (the guide's <c>skip_corrupted_entries</c>; the records in it are lost).
    /// </summary>
    public IEnumerable<WalRecord> ReadRecords(long fromLsn, Action<WalSkippedRange>? skipped)
    {
        if (_controlError is not null && skipped is null)
        {
            throw _controlError;
        }

        IReadOnlyList<SegmentBound> segments = Segments();
        RequireStart(segments, fromLsn);
        for (int i = FirstSegmentFor(segments, fromLsn); i < segments.Count; i++)
        {
            foreach (WalRecord record in SegmentRecords(segments, i, fromLsn, skipped))
            {
                yield return record;
            }
        }
    }

    /// <summary>
    /// Like <see cref="ReadRecords(long)"/>, with up to <paramref name="parallelism"/> segments read, checksummed
    /// and copied on worker threads ahead of the consumer; records still come in LSN order (parallel recovery).
    /// Memory holds up to <paramref name="parallelism"/> segments at a time.
    /// </summary>
    public IEnumerable<WalRecord> ReadRecords(long fromLsn, int parallelism)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        if (_controlError is not null)
        {
            throw _controlError;
        }

        IReadOnlyList<SegmentBound> segments = Segments();
        RequireStart(segments, fromLsn);
        int next = FirstSegmentFor(segments, fromLsn);
        var ahead = new Queue<Task<(List<WalRecord> Records, ExceptionDispatchInfo? Error)>>();
        try
        {
            while (ahead.Count > 0 || next < segments.Count)
            {
                while (ahead.Count < parallelism && next < segments.Count)
                {
                    int index = next++;
                    ahead.Enqueue(Task.Run(() => ReadWhole(segments, index, fromLsn)));
                }

                (List<WalRecord> records, ExceptionDispatchInfo? error) = ahead.Dequeue().GetAwaiter().GetResult();
                foreach (WalRecord record in records)
                {
                    yield return record;
                }

                error?.Throw(); // after the records before the damage, as a sequential read would
            }
        }
        finally
        {
            // An abandoned or failed read still waits for its workers, so no file stays open behind the caller.
            foreach (Task task in ahead)
            {
                try
                {
                    task.Wait();
                }
                catch (AggregateException)
                {
                    // Reported (in order) only for segments the caller reached.
                }
            }
        }
    }

    private (List<WalRecord> Records, ExceptionDispatchInfo? Error) ReadWhole(IReadOnlyList<SegmentBound> segments, int index, long fromLsn)
    {
        var records = new List<WalRecord>();
        try
        {
            foreach (WalRecord record in SegmentRecords(segments, index, fromLsn, skipped: null))
            {
                records.Add(record);
            }

            return (records, null);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            return (records, ExceptionDispatchInfo.Capture(ex));
        }
    }

    /// <summary>
    /// A read from <paramref name="fromLsn"/> (1 or more) must find it: the oldest segment may not start after it
    /// (LSNs are consecutive, so the first record read would be later than the one asked for).
    /// </summary>
    private void RequireStart(IReadOnlyList<SegmentBound> segments, long fromLsn)
    {
        if (fromLsn >= 1 && segments.Count > 0 && segments[0].FirstLsn > fromLsn)
        {
            throw new WalCorruptionException(
                System.IO.Path.Combine(Directory, segments[0].Name), 0,
                $"records from LSN {fromLsn} were asked for, but the WAL in '{Directory}' now starts at LSN {segments[0].FirstLsn} (segment '{segments[0].Name}'): " +
                $"records {fromLsn} to {segments[0].FirstLsn - 1} are no longer there (removed by retention, or lost)");
        }
    }

    private static int FirstSegmentFor(IReadOnlyList<SegmentBound> segments, long fromLsn)
    {
        int first = 0;
        while (first < segments.Count - 1 && segments[first + 1].FirstLsn <= fromLsn)
        {
            first++;
        }

        return first;
    }

    private IEnumerable<WalRecord> SegmentRecords(IReadOnlyList<SegmentBound> segments, int i, long fromLsn, Action<WalSkippedRange>? skipped)
    {
        SegmentBound segment = segments[i];
        bool isLast = i == segments.Count - 1;
        WalSegmentReader reader;
        try
        {
            reader = OpenSegment(segment);
        }
        catch (WalCorruptionException ex) when (skipped is not null)
        {
            long to = isLast ? segment.FirstLsn - 1 : segments[i + 1].FirstLsn - 1;
            skipped(new WalSkippedRange(segment.Name, ex.Offset, segment.FirstLsn, to, 0, ex.Reason));
            yield break;
        }

        using (reader)
        {
            while (true)
            {
                while (reader.TryReadNext(out WalRecordHeader h, out ReadOnlySpan<byte> payload))
                {
                    if (h.Lsn >= fromLsn)
                    {
                        yield return new WalRecord(
                            h.Lsn, WalRecord.FromMicros(h.TimestampMicros), h.Type, h.Flags, payload.ToArray(), segment.Name, reader.RecordOffset);
                    }
                }

                // A torn tail in the last segment is the normal end of the log, not damage to skip.
                bool damaged = reader.End!.Value.Kind == WalSegmentEndKind.Corrupt || (reader.End.Value.Kind == WalSegmentEndKind.Torn && !isLast);
                if (skipped is not null && damaged && reader.TrySkipDamage(segment.Name, out WalSkippedRange? range))
                {
                    skipped(range!);
                    continue;
                }

                break;
            }

            WalIssue? issue = EndIssue(reader, segment, isLast ? null : segments[i + 1]);
            if (issue is { Kind: WalIssueKind.Corruption })
            {
                if (skipped is null)
                {
                    throw new WalCorruptionException(System.IO.Path.Combine(Directory, issue.SegmentFile), issue.Offset, issue.Message);
                }

                long to = isLast ? reader.NextLsn - 1 : segments[i + 1].FirstLsn - 1;
                skipped(new WalSkippedRange(issue.SegmentFile, issue.Offset, issue.Lsn, Math.Max(issue.Lsn, to), issue.Bytes, issue.Message));
            }
        }
    }

    /// <summary>Streams the decoded entries with LSN ≥ <paramref name="fromLsn"/> (the guide's <c>read_all_entries</c>; 0, the default: from the oldest retained).</summary>
    /// <exception cref="WalCorruptionException">Damaged data, or records from <paramref name="fromLsn"/> no longer retained, as for <see cref="ReadRecords(long)"/>.</exception>
    public IEnumerable<WalEntry> ReadAllEntries(long fromLsn = 0) => ReadRecords(fromLsn).Select(r => r.ToEntry());

    /// <summary>
    /// Checks every record of every segment: framing, salted CRC-32C, LSN sequence, decodability, continuity
    /// between segments. Never throws for damaged data: it is reported.
    /// </summary>
    public WalVerifyReport Verify()
    {
        var reports = new List<WalSegmentReport>();
        var issues = new List<WalIssue>();
        if (_controlError is { } controlError)
        {
            issues.Add(new WalIssue(WalIssueKind.Corruption, WalControlFile.FileName, controlError.Offset, 0, 0, controlError.Reason));
        }

        IReadOnlyList<SegmentBound> segments;
        try
        {
            segments = Segments();
        }
        catch (WalCorruptionException ex)
        {
            issues.Add(new WalIssue(WalIssueKind.Corruption, System.IO.Path.GetFileName(ex.FilePath), ex.Offset, 0, 0, ex.Reason));
            return new WalVerifyReport(Directory, reports, issues);
        }

        if (MissingDurableSegment(segments) is { } missing)
        {
            issues.Add(new WalIssue(WalIssueKind.Corruption, WalControlFile.FileName, 0, _durablePoint!.Value.Lsn, 0, missing));
        }

        for (int i = 0; i < segments.Count; i++)
        {
            SegmentBound segment = segments[i];
            WalSegmentReader reader;
            try
            {
                reader = OpenSegment(segment);
            }
            catch (WalCorruptionException ex)
            {
                issues.Add(new WalIssue(WalIssueKind.Corruption, segment.Name, ex.Offset, segment.FirstLsn, 0, ex.Reason));
                continue;
            }

            using (reader)
            {
                long records = 0;
                while (reader.TryReadNext(out WalRecordHeader h, out ReadOnlySpan<byte> payload))
                {
                    records++;
                    try
                    {
                        _ = WalEntryCodec.Decode(h.Type, payload, h.Lsn, default);
                    }
                    catch (InvalidDataException ex)
                    {
                        issues.Add(new WalIssue(WalIssueKind.Corruption, segment.Name, reader.RecordOffset, h.Lsn, 0, $"payload does not decode: {ex.Message}"));
                    }
                }

                reports.Add(new WalSegmentReport(segment.Name, reader.Header.SegmentId, reader.Header.FirstLsn, reader.NextLsn - 1, records, reader.Offset));
                WalIssue? issue = EndIssue(reader, segment, i == segments.Count - 1 ? null : segments[i + 1]);
                if (issue is not null)
                {
                    issues.Add(issue);
                }
            }
        }

        return new WalVerifyReport(Directory, reports, issues);
    }

    internal IReadOnlyList<SegmentBound> Segments()
    {
        if (_bounds is not null)
        {
            return _bounds;
        }

        var byId = new SortedDictionary<ulong, SegmentBound>();
        foreach (string name in _storage.ListFiles(WalSegmentName.Suffix).Concat(_storage.ListFiles(WalSegmentCompression.Suffix)))
        {
            if (!WalSegmentName.TryParse(name, out ulong id, out long firstLsn))
            {
                throw new WalCorruptionException(System.IO.Path.Combine(Directory, name), 0, "a segment file whose name is not <segment id>-<first LSN>.wal[z] (hexadecimal)");
            }

            // Both forms exist only when a crash interrupted compression; they hold the same records.
            if (!byId.TryGetValue(id, out SegmentBound? existing) || WalSegmentName.IsCompressed(existing.Name))
            {
                byId[id] = new SegmentBound(name, id, firstLsn, -1);
            }
        }

        return [.. byId.Values];
    }

    /// <summary>
    /// A reason when the control file says records were durable in a segment newer than every segment present (the
    /// newest segments are gone), else null.
    /// </summary>
    internal string? MissingDurableSegment(IReadOnlyList<SegmentBound> segments)
    {
        if (_durablePoint is not { Lsn: > 0 } point || (segments.Count > 0 && segments[^1].SegmentId >= point.SegmentId))
        {
            return null;
        }

        string newest = segments.Count > 0 ? $"the newest segment is {segments[^1].SegmentId}" : "there is no segment";
        return $"the control file says LSN {point.Lsn} was made durable in segment {point.SegmentId}, but {newest}: durable segments are missing";
    }

    /// <summary>Opens a segment for reading (decompressing a <c>.walz</c>), checking that its header matches its name.</summary>
    internal WalSegmentReader OpenSegment(SegmentBound segment)
    {
        string name = segment.Name;
        IWalFile file;
        if (WalSegmentName.IsCompressed(name))
        {
            file = WalSegmentCompression.OpenDecompressed(_storage, name);
        }
        else
        {
            try
            {
                file = WalSegmentFiles.OpenForRead(_storage, segment);
            }
            catch (FileNotFoundException) when (segment.PendingName is null)
            {
                // Compressed (and the original deleted) since the segment was listed.
                name = System.IO.Path.ChangeExtension(name, WalSegmentCompression.Suffix);
                file = WalSegmentCompression.OpenDecompressed(_storage, name);
            }
        }

        var reader = new WalSegmentReader(
            file, System.IO.Path.Combine(Directory, name), WalSegmentName.IsCompressed(name) ? -1 : segment.Limit, _durablePoint?.DurableEndIn(segment.SegmentId) ?? 0);
        if (reader.Header.SegmentId != segment.SegmentId || reader.Header.FirstLsn != segment.FirstLsn)
        {
            reader.Dispose();
            throw new WalCorruptionException(
                System.IO.Path.Combine(Directory, segment.Name), 0,
                $"header names segment {reader.Header.SegmentId} starting at LSN {reader.Header.FirstLsn}, the file name says segment {segment.SegmentId} at LSN {segment.FirstLsn}");
        }

        return reader;
    }

    /// <summary>
    /// A torn tail is only possible in the last segment: the writer fsyncs a segment before it starts the next,
    /// so anything but a clean end in an earlier segment, or a gap in LSNs between segments, is corruption.
    /// </summary>
    private static WalIssue? EndIssue(WalSegmentReader reader, SegmentBound segment, SegmentBound? next)
    {
        WalSegmentEnd end = reader.End ?? throw new InvalidOperationException("The segment was not read to its end.");
        long lsn = reader.NextLsn;
        if (end.Kind == WalSegmentEndKind.Corrupt || (end.Kind == WalSegmentEndKind.Torn && next is not null))
        {
            return new WalIssue(WalIssueKind.Corruption, segment.Name, end.Offset, lsn, end.GarbageBytes, end.Reason!);
        }

        if (next is not null && next.FirstLsn != lsn)
        {
            return new WalIssue(
                WalIssueKind.Corruption, segment.Name, end.Offset, lsn, 0,
                $"segment ends before LSN {lsn} but the next segment '{next.Name}' starts at LSN {next.FirstLsn}");
        }

        return end.Kind == WalSegmentEndKind.Torn
            ? new WalIssue(WalIssueKind.TornTail, segment.Name, end.Offset, lsn, end.GarbageBytes, $"torn last write ({end.Reason}); opening the WAL cuts it off")
            : null;
    }
}

/// <summary>A segment to read: its name, id, first LSN and how many bytes may hold records (-1: the whole file).</summary>
internal sealed record SegmentBound(string Name, ulong SegmentId, long FirstLsn, long Limit)
{
    /// <summary>
    /// The temporary name the active segment's file still has while its rename to <see cref="Name"/> waits for the
    /// sealed segment before it to be fsynced (docs/wal-format.md, "Rotation"), else null. Readers open it through
    /// <see cref="WalSegmentFiles.OpenForRead"/>, which finds the file under either name.
    /// </summary>
    public string? PendingName { get; init; }
}

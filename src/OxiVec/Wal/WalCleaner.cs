using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OxiVec.Wal;

/// <summary>
/// Removes old WAL segments that nothing needs any more (the guide's <c>WalCleaner</c>). It never deletes the
/// newest segment, nor a segment holding any record at or after <c>retainFromLsn</c>: the first LSN that recovery
/// from the oldest retained checkpoint still replays. Without a checkpoint every record is needed, and nothing is
/// deleted. Deletions go oldest first, so the WAL that remains is always contiguous.
/// </summary>
/// <remarks>
/// The cleaner takes the WAL directory's lock: it refuses to run while the WAL is open (the open database applies
/// its retention policy itself after each checkpoint).
/// </remarks>
public sealed class WalCleaner
{
    private readonly FileSystemWalStorage _storage;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>Creates a cleaner for the WAL in <paramref name="walDir"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public WalCleaner(string walDir, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(walDir);
        if (!Directory.Exists(walDir))
        {
            throw new DirectoryNotFoundException($"WAL directory '{walDir}' does not exist.");
        }

        _storage = new FileSystemWalStorage(walDir);
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// Deletes the segments last written more than <paramref name="olderThanDays"/> days ago whose records all
    /// precede <paramref name="retainFromLsn"/>. Returns how many were deleted.
    /// </summary>
    /// <remarks>
    /// A segment's age is that of its newest record: record timestamps come from the clock the WAL was written with,
    /// and are compared with this cleaner's clock, never with file times from the operating system's clock (a copied
    /// or restored file has a new modification time; a test or an application with its own clock has another time).
    /// </remarks>
    /// <exception cref="WalLockedException">The WAL is open in some process.</exception>
    public int CleanupOldFiles(int olderThanDays, long retainFromLsn)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(olderThanDays);
        using IDisposable directoryLock = _storage.AcquireLock();

        // First what opening does with a compression a crash interrupted: the original stays, its compressed copy
        // goes. Deleting the original of such a pair would leave the copy behind as a stray older segment, and the
        // next open would find a hole in the log after it.
        WalSegmentCompression.RemoveCompressedTwins(_storage, _logger);
        var reader = new WalReader(_storage, null);
        IReadOnlyList<SegmentBound> segments = reader.Segments();
        DateTimeOffset cutoff = _time.GetUtcNow() - TimeSpan.FromDays(olderThanDays);
        int deleted = 0;
        for (int i = 0; i < segments.Count - 1; i++)
        {
            bool needed = segments[i + 1].FirstLsn > retainFromLsn; // holds a record at or after retainFromLsn
            if (needed || LastWritten(reader, segments, i) > cutoff)
            {
                break;
            }

            _storage.Delete(segments[i].Name);
            _storage.SyncDirectory(); // each deletion is durable before the next: a power loss leaves a suffix of the log
            deleted++;
            _logger.LogInformation("WAL cleaner deleted '{File}' (records before LSN {Lsn}).", segments[i].Name, segments[i + 1].FirstLsn);
        }

        return deleted;
    }

    /// <summary>The timestamp of segment <paramref name="i"/>'s newest record (an empty sealed segment holds none: the minimum).</summary>
    private static DateTimeOffset LastWritten(WalReader reader, IReadOnlyList<SegmentBound> segments, int i)
    {
        long last = segments[i + 1].FirstLsn - 1;
        return last < segments[i].FirstLsn ? DateTimeOffset.MinValue : reader.ReadRecords(last).First().Timestamp;
    }
}

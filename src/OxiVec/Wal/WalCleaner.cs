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
    /// <exception cref="WalLockedException">The WAL is open in some process.</exception>
    public int CleanupOldFiles(int olderThanDays, long retainFromLsn)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(olderThanDays);
        using IDisposable directoryLock = _storage.AcquireLock();

        // First what opening does with a compression a crash interrupted: the original stays, its compressed copy
        // goes. Deleting the original of such a pair would leave the copy behind as a stray older segment, and the
        // next open would find a hole in the log after it.
        WalSegmentCompression.RemoveCompressedTwins(_storage, _logger);
        IReadOnlyList<SegmentBound> segments = new WalReader(_storage, null).Segments();
        DateTimeOffset cutoff = _time.GetUtcNow() - TimeSpan.FromDays(olderThanDays);
        int deleted = 0;
        for (int i = 0; i < segments.Count - 1; i++)
        {
            string path = Path.Combine(_storage.Directory, segments[i].Name);
            bool needed = segments[i + 1].FirstLsn > retainFromLsn; // holds a record at or after retainFromLsn
            if (needed || File.GetLastWriteTimeUtc(path) > cutoff.UtcDateTime)
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
}

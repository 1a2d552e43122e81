using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OxiVec.Indexing;
using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;

namespace OxiVec.Storage;

/// <summary>Checkpoints, retention and compression.</summary>
public sealed partial class VectorDatabase
{
    // Checkpoints a base backup is streaming (path -> pins), under _checkpointLock: retention keeps them.
    private readonly Dictionary<string, int> _pinnedCheckpoints = new(StringComparer.Ordinal);

    // Checkpoints known to pass their checksums (written and read back, loaded, or validated by retention); under _checkpointLock.
    private readonly HashSet<string> _validCheckpoints = new(StringComparer.Ordinal);

    // _wal.BytesAppended minus the WAL bytes after the newest checkpoint's covered LSN: the uncovered WAL is
    // BytesAppended - _uncoveredWalBase (set at open from the replayed tail, then at every checkpoint).
    private long _uncoveredWalBase;

    // A _time timestamp: after a failed checkpoint, automatic ones (either trigger) wait until then.
    private long _checkpointRetryNotBefore;

    /// <summary>
    /// Writes a checkpoint: a snapshot of every collection as of the last applied write, made durable (temporary
    /// directory, fsync, rename, directory fsync), read back (every file's checksum verified), then logged as a WAL
    /// checkpoint record. Then applies the retention policy: <c>KeepLast(n)</c> keeps the n newest checkpoints that
    /// pass their checksums and deletes the others (older or damaged), and WAL segments wholly covered by the oldest
    /// checkpoint kept; with <see cref="WalConfig.EnableCompression"/>, sealed segments older than
    /// <see cref="WalConfig.CompressionThresholdAgeHours"/> are compressed. Writes are excluded only while each
    /// collection is captured (no records are copied: the capture reads at the covered version, and the slots it may
    /// read are not reused until it is written; the index's capture is its own) and reported as
    /// <see cref="CheckpointInfo.WriteStallMs"/>; the files are then streamed while writes go on.
    /// </summary>
    /// <exception cref="IOException">The checkpoint could not be written, or failed its read-back check (then it is deleted); the previous ones are intact.</exception>
    public CheckpointInfo Checkpoint()
    {
        lock (_checkpointLock)
        {
            // Checked under the lock: Dispose takes it after setting _disposed, so it waits for this checkpoint or none starts.
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return WriteCheckpoint();
        }
    }

    /// <summary>The last checkpoint that failed since the last one that succeeded, or null (see also the error log).</summary>
    public CheckpointFailure? LastCheckpointFailure { get; private set; }

    /// <summary>
    /// Tests and benchmarks: what a collection's index has copied so far because a checkpoint's captured view shared
    /// the chunks its writes changed (chunks and upper-layer lists, bytes); (0, 0) for an index that keeps no view.
    /// </summary>
    internal (long Copies, long Bytes) IndexCopyOnWrite(string collection) =>
        _collections.TryGetValue(collection, out Collection? c) && c.Index is HnswIndex hnsw ? hnsw.CopyOnWrite : (0, 0);

    /// <summary>
    /// Benchmarks: what a collection's HNSW index's adds have done so far (cumulative counters; see
    /// <see cref="HnswWriteStats"/>), or null for an index of another kind.
    /// </summary>
    internal HnswWriteStats? IndexWriteStats(string collection) =>
        _collections.TryGetValue(collection, out Collection? c) && c.Index is HnswIndex hnsw ? hnsw.WriteStats : null;

    /// <summary>Tests only: the background checkpoint started last (completed when none runs).</summary>
    internal Task BackgroundCheckpoint => _backgroundCheckpoint;

    /// <summary>
    /// <see cref="Checkpoint"/> without the disposal check: a background checkpoint that was due runs even when the
    /// database starts closing before it does (Dispose waits for it with the WAL still open).
    /// </summary>
    private CheckpointInfo WriteCheckpoint()
    {
        lock (_checkpointLock)
        {
            try
            {
                CheckpointInfo info = CaptureAndWriteCheckpoint();
                LastCheckpointFailure = null;
                return info;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or InvalidDataException)
            {
                int consecutive = (LastCheckpointFailure?.ConsecutiveFailures ?? 0) + 1;
                TimeSpan backoff = CheckpointRetryDelay(consecutive);
                Volatile.Write(ref _checkpointRetryNotBefore, _time.GetTimestamp() + (long)(backoff.TotalSeconds * _time.TimestampFrequency));
                LastCheckpointFailure = new CheckpointFailure(_time.GetUtcNow(), ex.GetType().Name, ex.Message, consecutive, backoff);
                throw;
            }
        }
    }

    /// <summary>
    /// How long automatic checkpoints wait after the n-th failure in a row: 1 s, doubling up to 5 min. The WAL-size
    /// trigger would otherwise start the same failing checkpoint after every write.
    /// </summary>
    private static TimeSpan CheckpointRetryDelay(int consecutiveFailures) =>
        TimeSpan.FromSeconds(Math.Min(300, Math.Pow(2, Math.Min(consecutiveFailures - 1, 16))));

    private CheckpointInfo CaptureAndWriteCheckpoint()
    {
        long start = Stopwatch.GetTimestamp();
        var captured = new List<CollectionCapture>();
        try
        {
            long covered, walBytes;
            double stallMs;
            OxiVec.Transactions.TransactionTable transactions;
            lock (_applyLock)
            {
                // Writes are excluded from here: an acknowledgement waits for this lock to apply its write.
                long excluded = Stopwatch.GetTimestamp();
                try
                {
                    ThrowIfFailed(); // after a failed apply the store may miss a logged write: a checkpoint would make that permanent
                    covered = _appliedLsn;
                    transactions = AppliedTransactions; // with the covered LSN: a prepared transaction's state is never split
                    walBytes = _wal.BytesAppended; // every applied record was written before it was applied
                    foreach (Collection c in _collections.Values.OrderBy(c => c.Name, StringComparer.Ordinal))
                    {
                        captured.Add(c.Capture());
                    }
                }
                finally
                {
                    stallMs = Stopwatch.GetElapsedTime(excluded).TotalMilliseconds;
                }
            }

            // The WAL must be durable through the covered LSN before the checkpoint claims it: otherwise a power
            // loss could shorten the WAL below the checkpoint and new records would reuse covered LSNs.
            _wal.Sync();
            // After the highest on disk, damaged ones included: a damaged newest checkpoint keeps its number.
            long sequence = Math.Max(_checkpointSequence, CheckpointFiles.HighestSequence(CheckpointRoot, _checkpointStorage)) + 1;
            DateTimeOffset created = _time.GetUtcNow();
            (string path, long bytes) = CheckpointFiles.Write(CheckpointRoot, sequence, covered, created, captured, _checkpointStorage, transactions);
            foreach (CollectionCapture capture in captured)
            {
                capture.Dispose(); // written: the slots it held back may be reused
            }

            _checkpointSequence = sequence;
            ReadBack(new CheckpointEntry(sequence, covered, path));
            if (_standby is null)
            {
                _wal.Append(new WalEntry.Checkpoint(sequence, covered)); // a standby's log holds only its primary's records
                _wal.Sync();
            }

            Volatile.Write(ref _uncoveredWalBase, walBytes);
            Interlocked.Exchange(ref _opsSinceCheckpoint, 0);
            int removed = ApplyRetention();
            int compressed = _walConfig.EnableCompression ? _wal.CompressSealedSegments().Segments : 0;
            var info = new CheckpointInfo(sequence, covered, path, bytes, (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds, stallMs)
            {
                Created = created,
                SegmentsRemoved = removed,
                SegmentsCompressed = compressed,
            };
            LastCheckpoint = info;
            long took = Stopwatch.GetTimestamp() - start;
            Volatile.Write(ref _automaticCheckpointNotBefore, Stopwatch.GetTimestamp() + (AutomaticCheckpointSpacing * took));
            _logger.LogInformation(
                "Checkpoint {Sequence} covers LSN {Lsn}: {Bytes} bytes in {Ms} ms (writes excluded {Stall:F2} ms), {Removed} WAL segments removed.",
                sequence, covered, bytes, info.DurationMs, stallMs, info.SegmentsRemoved);
            return info;
        }
        finally
        {
            foreach (CollectionCapture capture in captured)
            {
                capture.Dispose();
            }
        }
    }

    /// <summary>
    /// After a checkpoint that took d, automatic ones wait until 4d has passed (see <see cref="WalConfig.CheckpointInterval"/>):
    /// at a small interval a large store would otherwise checkpoint back to back, copying everything each time.
    /// </summary>
    private const long AutomaticCheckpointSpacing = 4;

    /// <summary>
    /// Reads a new checkpoint back and checks every file's checksum before anything relies on it (the WAL record,
    /// retention); one that fails is deleted and the checkpoint fails, the older ones untouched.
    /// </summary>
    private void ReadBack(CheckpointEntry written)
    {
        try
        {
            CheckpointFiles.Validate(written, _checkpointStorage);
        }
        catch (InvalidDataException ex)
        {
            CheckpointFiles.Delete(written, _checkpointStorage);
            throw new IOException($"Checkpoint '{written.Path}' failed its read-back check and was deleted; the older checkpoints are untouched: {ex.Message}", ex);
        }

        _validCheckpoints.Add(written.Path);
    }

    /// <summary>
    /// <c>KeepLast(n)</c>: keeps the n newest checkpoints that pass their checksums, deletes the others (older ones
    /// and damaged ones, which no recovery can use), then the WAL segments wholly before the oldest kept one.
    /// </summary>
    private int ApplyRetention()
    {
        if (_walConfig.RetentionPolicy is not RetentionPolicy.KeepLastRetention keep)
        {
            return 0;
        }

        var kept = new List<CheckpointEntry>(keep.Count);
        foreach (CheckpointEntry checkpoint in CheckpointFiles.List(CheckpointRoot, storage: _checkpointStorage))
        {
            if (kept.Count < keep.Count && IsValid(checkpoint))
            {
                kept.Add(checkpoint);
                continue;
            }

            if (IsPinned(checkpoint.Path))
            {
                kept.Add(checkpoint); // a base backup streams it: it stays (and so does the WAL after it) until unpinned
                continue;
            }

            CheckpointFiles.Delete(checkpoint, _checkpointStorage);
            _validCheckpoints.Remove(checkpoint.Path);
        }

        long through = kept.Count == 0 ? 0 : kept.Min(c => c.CoveredLsn);
        if (_standby is not null)
        {
            through = Math.Min(through, _wal.LastLsn - 1); // a standby keeps its last record: its digest proves where its log ends
        }

        return through <= 0 ? 0 : _wal.RemoveSegmentsThrough(through);
    }

    private bool IsPinned(string path) => _pinnedCheckpoints.ContainsKey(path);

    /// <summary>
    /// The newest checkpoint that passes its checksums, pinned so retention keeps it (and the WAL after it) until the
    /// returned handle is disposed; a checkpoint is taken first when there is none, or when the WAL after the newest
    /// is no longer all there (<paramref name="needsNewer"/> says so for its covered LSN).
    /// </summary>
    internal (string Path, long CoveredLsn, IDisposable Pin) PinNewestCheckpoint(Func<long, bool> needsNewer)
    {
        lock (_checkpointLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            CheckpointEntry? newest = CheckpointFiles.List(CheckpointRoot, storage: _checkpointStorage).FirstOrDefault(IsValid);
            if (newest is null || needsNewer(newest.CoveredLsn))
            {
                CheckpointInfo info = WriteCheckpoint();
                newest = new CheckpointEntry(info.Sequence, info.CoveredLsn, info.Path);
            }

            string path = newest.Path;
            _pinnedCheckpoints[path] = _pinnedCheckpoints.GetValueOrDefault(path) + 1;
            return (path, newest.CoveredLsn, new CheckpointPin(this, path));
        }
    }

    private void Unpin(string path)
    {
        lock (_checkpointLock)
        {
            if (_pinnedCheckpoints.TryGetValue(path, out int pins) && pins > 1)
            {
                _pinnedCheckpoints[path] = pins - 1;
            }
            else
            {
                _pinnedCheckpoints.Remove(path);
            }
        }
    }

    private sealed class CheckpointPin(VectorDatabase database, string path) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                database.Unpin(path);
            }
        }
    }

    /// <summary>Whether the checkpoint passes its checksums (each one is read once; the answer is remembered when it does).</summary>
    private bool IsValid(CheckpointEntry checkpoint)
    {
        if (_validCheckpoints.Contains(checkpoint.Path))
        {
            return true;
        }

        try
        {
            CheckpointFiles.Validate(checkpoint, _checkpointStorage);
            _validCheckpoints.Add(checkpoint.Path);
            return true;
        }
        catch (InvalidDataException ex)
        {
            _logger.LogWarning(ex, "Checkpoint '{Path}' is damaged: retention does not count it and deletes it.", checkpoint.Path);
            return false;
        }
    }

    private void MaybeCheckpointInBackground(int operations)
    {
        long count = Interlocked.Add(ref _opsSinceCheckpoint, operations);
        // The WAL not yet covered by a checkpoint (MaxWalSize's budget), not all retained WAL: under KeepAll or
        // KeepLast(n) the covered segments stay, and counting them would start a checkpoint after every write.
        bool walNearlyFull = _wal.BytesAppended - Volatile.Read(ref _uncoveredWalBase) > 0.8 * _walConfig.MaxWalSize;
        bool due = walNearlyFull
            || (count >= _walConfig.CheckpointInterval && Stopwatch.GetTimestamp() >= Volatile.Read(ref _automaticCheckpointNotBefore));
        if (!due || !_backgroundCheckpoint.IsCompleted || Volatile.Read(ref _disposed) != 0
            || _time.GetTimestamp() < Volatile.Read(ref _checkpointRetryNotBefore))
        {
            return;
        }

        // Never wait here: a checkpoint in progress (manual or automatic) already covers this trigger.
        if (_checkpointLock.TryEnter())
        {
            try
            {
                if (!_backgroundCheckpoint.IsCompleted || Volatile.Read(ref _disposed) != 0)
                {
                    return; // disposal checked under the lock: Dispose's barrier sees every checkpoint started
                }

                Interlocked.Exchange(ref _opsSinceCheckpoint, 0);
                _backgroundCheckpoint = Task.Run(() =>
                {
                    try
                    {
                        WriteCheckpoint();
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or InvalidDataException)
                    {
                        CheckpointFailure? failure = LastCheckpointFailure;
                        _logger.LogError(
                            ex,
                            "Automatic checkpoint failed ({Failures} in a row: {Reason}); the WAL keeps every record, so nothing is lost. Automatic checkpoints resume in {Backoff}.",
                            failure?.ConsecutiveFailures, ex.Message, failure?.RetryAfter);
                    }
                });
            }
            finally
            {
                _checkpointLock.Exit();
            }
        }
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OxiVec.Indexing;
using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;

namespace OxiVec.Storage;

/// <summary>Checkpoints, retention and compression.</summary>
public sealed partial class VectorDatabase
{
    /// <summary>
    /// Writes a checkpoint: a snapshot of every collection as of the last applied write, made durable (temporary
    /// directory, fsync, rename, directory fsync), then logged as a WAL checkpoint record. Then applies the
    /// retention policy: older checkpoints beyond <c>KeepLast(n)</c> are deleted, and WAL segments wholly covered by
    /// the oldest checkpoint kept; with <see cref="WalConfig.EnableCompression"/>, sealed segments older than
    /// <see cref="WalConfig.CompressionThresholdAgeHours"/> are compressed. Writers keep logging meanwhile; acknowledgements wait only while the snapshot is
    /// copied in memory (reported as <see cref="CheckpointInfo.WriteStallMs"/>).
    /// </summary>
    /// <exception cref="IOException">The checkpoint could not be written; the previous ones are intact.</exception>
    public CheckpointInfo Checkpoint()
    {
        lock (_checkpointLock)
        {
            // Checked under the lock: Dispose takes it after setting _disposed, so it waits for this checkpoint or none starts.
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return WriteCheckpoint();
        }
    }

    /// <summary>
    /// <see cref="Checkpoint"/> without the disposal check: a background checkpoint that was due runs even when the
    /// database starts closing before it does (Dispose waits for it with the WAL still open).
    /// </summary>
    private CheckpointInfo WriteCheckpoint()
    {
        lock (_checkpointLock)
        {
            long start = Stopwatch.GetTimestamp();
            List<(Collection Collection, CollectionCapture Capture)> captured;
            long covered;
            lock (_applyLock)
            {
                ThrowIfFailed(); // after a failed apply the store may miss a logged write: a checkpoint would make that permanent
                covered = _appliedLsn;
                captured = [.. _collections.Values.OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => (c, c.Capture()))];
            }

            double stallMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            List<CheckpointCollection> content = [.. captured.Select(c => new CheckpointCollection(c.Collection.Name, c.Collection.Options, c.Capture.ToImage()))];

            // The WAL must be durable through the covered LSN before the checkpoint claims it: otherwise a power
            // loss could shorten the WAL below the checkpoint and new records would reuse covered LSNs.
            _wal.Sync();
            long sequence = _checkpointSequence + 1;
            DateTimeOffset created = _time.GetUtcNow();
            (string path, long bytes) = CheckpointFiles.Write(CheckpointRoot, sequence, covered, created, content);
            _wal.Append(new WalEntry.Checkpoint(sequence, covered));
            _wal.Sync();
            _checkpointSequence = sequence;
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
                "Checkpoint {Sequence} covers LSN {Lsn}: {Bytes} bytes in {Ms} ms (writers stalled {Stall:F1} ms), {Removed} WAL segments removed.",
                sequence, covered, bytes, info.DurationMs, stallMs, info.SegmentsRemoved);
            return info;
        }
    }

    /// <summary>
    /// After a checkpoint that took d, automatic ones wait until 4d has passed (see <see cref="WalConfig.CheckpointInterval"/>):
    /// at a small interval a large store would otherwise checkpoint back to back, copying everything each time.
    /// </summary>
    private const long AutomaticCheckpointSpacing = 4;

    private int ApplyRetention()
    {
        if (_walConfig.RetentionPolicy is not RetentionPolicy.KeepLastRetention keep)
        {
            return 0;
        }

        List<CheckpointEntry> checkpoints = CheckpointFiles.List(CheckpointRoot);
        foreach (CheckpointEntry old in checkpoints.Skip(keep.Count))
        {
            CheckpointFiles.Delete(old);
        }

        long oldestKept = checkpoints.Take(keep.Count).Min(c => c.CoveredLsn);
        return _wal.RemoveSegmentsThrough(oldestKept);
    }

    private void MaybeCheckpointInBackground(int operations)
    {
        long count = Interlocked.Add(ref _opsSinceCheckpoint, operations);
        bool walNearlyFull = _wal.CurrentSizeBytes > 0.8 * _walConfig.MaxWalSize;
        bool due = walNearlyFull
            || (count >= _walConfig.CheckpointInterval && Stopwatch.GetTimestamp() >= Volatile.Read(ref _automaticCheckpointNotBefore));
        if (!due || !_backgroundCheckpoint.IsCompleted || Volatile.Read(ref _disposed) != 0)
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
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
                    {
                        _logger.LogError(ex, "Automatic checkpoint failed; the WAL keeps every record, so nothing is lost.");
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

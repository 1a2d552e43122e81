using System.Buffers;

namespace OxiVec.Wal;

/// <summary>
/// Spare segments: the next segment's file, made in the background while the active segment fills, so a rotation
/// on the write path only stamps the header into it and goes on writing records there, under its temporary name; the
/// background sealer fsyncs it and renames it into place (see WalWriter.StartSegment). Creating, preallocating and
/// mapping a segment took milliseconds of the inserting thread's CPU, and the fsyncs of a rotation tens of
/// milliseconds of its wall time when the disk was busy. A spare is made whenever
/// segments are preallocated. With SyncIntervalMs = 0 on a file system that prefers it, the whole spare is written
/// full of zeros and fsynced, so every commit overwrites initialised blocks: on ext4 that fdatasync is about a third
/// cheaper than one that also converts freshly allocated extents (bench/results/wal.md, "Disk limit"). With an
/// interval policy fsyncs are rare and the zeros would halve the WAL's sequential bandwidth, so the spare is only
/// preallocated, with its first block (where the header goes) written and fsynced: the header's fsync at the seal
/// is then an overwrite with no extent to convert. A spare has a temporary name until it is renamed into place; on the
/// next open a spare holding a segment header that continues the log exactly is adopted (fsynced, renamed), any other
/// is deleted (its bytes first kept in the quarantine when it holds a header). Its handle stays open (its header block
/// mapped) until the rotation, which keeps using it; when none is ready a rotation creates the next segment as before.
/// </summary>
internal sealed partial class WalWriter
{
    /// <summary>The block written at the start of a spare: where the header goes.</summary>
    private const int SpareHeaderBlock = 4096;

    private readonly Lock _spareLock = new();
    private readonly WalBackgroundWorker _spareMaker = new("OxiVec WAL spare segment");
    private bool _spareInMaking;
    private ReadySpare? _readySpare;
    private int _sparesMade;
    private bool _sparesStopped;

    /// <summary>How many segments were made from spares (for tests).</summary>
    public int SparesUsed { get; private set; }

    /// <summary>Whether a filled spare waits for the next rotation (for tests).</summary>
    public bool SpareReady
    {
        get
        {
            lock (_spareLock)
            {
                return _readySpare is not null;
            }
        }
    }

    private bool UsesSpares => _config.PreallocateSegments;

    // Only when asked (WalConfig.ZeroFillSegments): measured on ext4 over a virtio disk, commits into zero-filled
    // segments fsync several times slower with few writers and only a little faster with 32 sharing each fsync.
    private bool ZeroFillsSpares => _config.ZeroFillSegments;

    /// <summary>Starts making the next spare unless one is ready or being made.</summary>
    private void PrepareSpare()
    {
        // Called at every single append once the segment is a quarter full: when a spare is ready or being made (the
        // usual case), return without the lock. Read without it, either may be stale: a spare seen that a rotation
        // has just taken only defers the next one to the next append, and one not seen yet takes the lock below.
        if (!UsesSpares || Volatile.Read(ref _spareInMaking) || Volatile.Read(ref _readySpare) is not null)
        {
            return;
        }

        lock (_spareLock)
        {
            if (_sparesStopped || _readySpare is not null || _spareInMaking)
            {
                return;
            }

            // A thread of its own, started at open: filling blocks on I/O for a while, which the thread pool should not
            // absorb, and starting a thread here would make this writer wait until it runs.
            _spareInMaking = true;
            PostSpare($"{WalSegmentName.SparePrefix}{++_sparesMade}{WalSegmentName.TempSuffix}");
        }
    }

    /// <summary>
    /// Has the spare maker fill <paramref name="name"/>. A method of its own: the lambda's capture of the name is
    /// allocated on entry to the method that declares it, and <see cref="PrepareSpare"/> runs at every single append
    /// once the segment is a quarter full.
    /// </summary>
    private void PostSpare(string name) => _spareMaker.Post(() => FillSpare(name));

    private void FillSpare(string name)
    {
        long size = _config.SegmentSizeBytes;
        byte[] zeros = ArrayPool<byte>.Shared.Rent(1 << 20);
        IWalFile? file = null;
        try
        {
            Array.Clear(zeros);
            if (ZeroFillsSpares)
            {
                using (IWalFile filling = _storage.Create(name, 0))
                {
                    for (long offset = 0; offset < size; offset += zeros.Length)
                    {
                        filling.Write(offset, zeros.AsSpan(0, (int)Math.Min(zeros.Length, size - offset)));
                    }
                }

                file = _storage.Open(name, writable: true); // opened again: the full-size file can be mapped
            }
            else
            {
                file = _storage.Create(name, size);
            }

            // The header's block, written here: a mapped file maps now (not on the write path), and the rotation's
            // header fsync overwrites a written block.
            file.Write(0, zeros.AsSpan(0, SpareHeaderBlock));
            file.Sync();
            lock (_spareLock)
            {
                if (!_sparesStopped)
                {
                    _readySpare = new ReadySpare(name, file);
                    return;
                }
            }

            file.Dispose();
            _storage.Delete(name);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Disk full or the like: the next rotation creates the segment instead (and meets the same error, if
            // any, where it counts). The half-made spare goes now or on the next open.
            file?.Dispose();
            TryDeleteSpare(name);
        }
        catch (Exception ex)
        {
            // Anything else is unexpected: it fails the WAL, loudly, rather than ending the process from a background thread.
            file?.Dispose();
            TryDeleteSpare(name);
            Fail(ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(zeros);
            lock (_spareLock)
            {
                _spareInMaking = false;
            }
        }
    }

    /// <summary>The ready spare, now owned by the caller, or null.</summary>
    private ReadySpare? TakeSpare()
    {
        lock (_spareLock)
        {
            ReadySpare? spare = _readySpare;
            _readySpare = null;
            return spare;
        }
    }

    /// <summary>Waits for a spare being made and deletes any left unused (on close).</summary>
    private void StopSpares()
    {
        lock (_spareLock)
        {
            _sparesStopped = true;
        }

        _spareMaker.Dispose(); // lets a spare being made finish
        if (TakeSpare() is { } unused)
        {
            unused.File.Dispose();
            TryDeleteSpare(unused.Name);
        }
    }

    private void TryDeleteSpare(string name)
    {
        try
        {
            _storage.Delete(name);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A temporary file: the next open removes it.
        }
    }

    /// <summary>A spare's temporary name and its open handle.</summary>
    private sealed record ReadySpare(string Name, IWalFile File);
}

using System.Buffers;

namespace OxiVec.Wal;

/// <summary>
/// Spare segments: the next segment's file, written full of zeros and fsynced in the background, so that once it
/// becomes the active segment every commit overwrites initialised blocks. On ext4 that fdatasync is about a third
/// cheaper than one that also converts freshly allocated extents (bench/results/wal.md, "Disk limit"). A spare is
/// only made with SyncIntervalMs = 0 (with an interval policy fsyncs are rare, and writing every segment twice
/// would cost bandwidth instead), and only ever an optimisation: it has a temporary name until it is renamed into place (so an interrupted one is
/// deleted on the next open), and when none is ready a rotation preallocates the next segment as before.
/// </summary>
internal sealed partial class WalWriter
{
    private const string SparePrefix = "spare-";

    private readonly Lock _spareLock = new();
    private Thread? _spareFiller;
    private string? _readySpare;
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

    // Only when every commit fsyncs: then the cheaper fdatasync is worth writing each segment twice (zeros, then
    // records). With an interval policy fsyncs are rare and the zeros would halve the WAL's sequential bandwidth.
    private bool UsesSpares => _config.PreallocateSegments && _config.SyncIntervalMs == 0 && _storage.PrefersZeroFilledSegments;

    /// <summary>Starts filling the next spare unless one is ready or being filled.</summary>
    private void PrepareSpare()
    {
        if (!UsesSpares)
        {
            return;
        }

        lock (_spareLock)
        {
            if (_sparesStopped || _readySpare is not null || _spareFiller is { IsAlive: true })
            {
                return;
            }

            // A thread of its own: filling blocks on I/O for a while, which the thread pool should not absorb.
            string name = $"{SparePrefix}{++_sparesMade}{WalSegmentName.TempSuffix}";
            _spareFiller = new Thread(() => FillSpare(name)) { IsBackground = true, Name = "OxiVec WAL spare segment" };
            _spareFiller.Start();
        }
    }

    private void FillSpare(string name)
    {
        long size = _config.SegmentSizeBytes;
        byte[] zeros = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            Array.Clear(zeros);
            using (IWalFile file = _storage.Create(name, 0))
            {
                for (long offset = 0; offset < size; offset += zeros.Length)
                {
                    file.Write(offset, zeros.AsSpan(0, (int)Math.Min(zeros.Length, size - offset)));
                }

                file.Sync();
            }

            lock (_spareLock)
            {
                if (!_sparesStopped)
                {
                    _readySpare = name;
                    return;
                }
            }

            _storage.Delete(name);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Disk full or the like: the next rotation preallocates instead (and meets the same error, if any,
            // where it counts). The half-made spare goes now or on the next open.
            TryDeleteSpare(name);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(zeros);
        }
    }

    /// <summary>The ready spare's name, now owned by the caller, or null.</summary>
    private string? TakeSpare()
    {
        lock (_spareLock)
        {
            string? spare = _readySpare;
            _readySpare = null;
            return spare;
        }
    }

    /// <summary>Waits for a spare being filled and deletes any left unused (on close).</summary>
    private void StopSpares()
    {
        Thread? filling;
        lock (_spareLock)
        {
            _sparesStopped = true;
            filling = _spareFiller;
        }

        filling?.Join();
        if (TakeSpare() is { } unused)
        {
            TryDeleteSpare(unused);
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
}

using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OxiVec.Benchmarks.Scale;

/// <summary>What the WAL was doing, as its meter reports it.</summary>
internal enum WalEventKind
{
    /// <summary>An fsync of a segment file (a commit's, the interval syncer's, or the sealed segment's at a rotation).</summary>
    SegmentFsync,

    /// <summary>The part of a segment rotation on the write path, from a ready spare (a header written into it; no fsync).</summary>
    Rotation,

    /// <summary>The part of a segment rotation on the write path when no spare was ready (the sealed segment's fsync, then the new segment made whole).</summary>
    RotationWithoutSpare,

    /// <summary>A control file update: one 512-byte write and its fdatasync, on a pool thread.</summary>
    ControlWrite,
}

/// <summary>One WAL operation: what, when (Stopwatch timestamps; the end is when the meter heard of it), and on which managed thread.</summary>
internal readonly record struct WalEvent(WalEventKind Kind, long Start, long End, int ThreadId)
{
    public double Ms => ScaleCommon.Ms(End - Start);

    /// <summary>How long this event and [<paramref name="start"/>, <paramref name="end"/>) overlap, in Stopwatch ticks.</summary>
    public long Overlap(long start, long end) => Math.Max(0, Math.Min(End, end) - Math.Max(Start, start));
}

/// <summary>
/// Records the WAL's fsyncs, rotations and control writes with their times, from the durations it publishes on its meter
/// (<c>OxiVec.Wal</c>: <c>oxivec.wal.sync.duration</c>, <c>oxivec.wal.rotation.duration</c>,
/// <c>oxivec.wal.control.write.duration</c>). A measurement is reported when the operation ends, on the thread that ran
/// it, so its end is "now", its start is now minus the duration (exact to the microsecond), and its thread is the caller's.
/// </summary>
internal sealed class WalEventListener : IDisposable
{
    private static readonly Dictionary<string, WalEventKind> Instruments = new(StringComparer.Ordinal)
    {
        ["oxivec.wal.sync.duration"] = WalEventKind.SegmentFsync,
        ["oxivec.wal.rotation.duration"] = WalEventKind.Rotation,
        ["oxivec.wal.control.write.duration"] = WalEventKind.ControlWrite,
    };

    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private List<WalEvent> _events = new(1 << 14);

    public WalEventListener()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "OxiVec.Wal" && Instruments.TryGetValue(instrument.Name, out WalEventKind kind))
            {
                listener.EnableMeasurementEvents(instrument, kind);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, ms, tags, state) =>
        {
            long end = Stopwatch.GetTimestamp();
            var kind = (WalEventKind)state!;
            if (kind == WalEventKind.Rotation)
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag is { Key: "oxivec.wal.rotation.from_spare", Value: false })
                    {
                        kind = WalEventKind.RotationWithoutSpare;
                    }
                }
            }

            var e = new WalEvent(kind, end - (long)(ms * Stopwatch.Frequency / 1000), end, Environment.CurrentManagedThreadId);
            lock (_lock)
            {
                _events.Add(e);
            }
        });
        _listener.Start();
    }

    /// <summary>The events recorded since the last call, oldest end first; then forgets them.</summary>
    public WalEvent[] Take()
    {
        lock (_lock)
        {
            WalEvent[] taken = [.. _events];
            _events = new List<WalEvent>(1 << 14);
            return taken;
        }
    }

    public void Dispose() => _listener.Dispose();
}

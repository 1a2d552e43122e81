using System.Diagnostics.Tracing;
using System.Globalization;

namespace OxiVec.Benchmarks.Scale;

/// <summary>
/// One collection as the runtime's GC events describe it: how long the threads took to stop (suspension), the
/// collection itself, the restart; what it promoted; and the bytes its mark phase found from each kind of root
/// (<c>GCMarkWithType</c>: stacks, handles, older generations through the card table, ...).
/// </summary>
internal sealed class GcRecord
{
    public int Number { get; set; }

    public int Depth { get; set; } = -1;

    public int Reason { get; set; } = -1;

    public DateTime SuspendBegin { get; set; }

    public DateTime SuspendEnd { get; set; }

    public DateTime Start { get; set; }

    public DateTime End { get; set; }

    public DateTime RestartEnd { get; set; }

    public double PromotedMb0 { get; set; }

    public double PromotedMb1 { get; set; }

    /// <summary>Bytes marked by root kind (GCMarkWithType's Type: 0 stack, 1 finalizer queue, 2 handles, 3 older generations (cards), 4 sized ref, 5 overflow, 6 dependent handles, 7 new finalizer queue, 8 steal, 9 background).</summary>
    public Dictionary<int, double> MarkedMb { get; } = [];

    private static double Ms(DateTime a, DateTime b) => a == default || b == default ? double.NaN : (b - a).TotalMilliseconds;

    public double SuspendMs => Ms(SuspendBegin, SuspendEnd);

    public double CollectMs => Ms(Start, End);

    public double TotalMs => Ms(SuspendBegin, RestartEnd);

    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"GC #{Number} gen{Depth} reason {Reason}: suspend {SuspendMs:0.000} ms, collect {CollectMs:0.000} ms, whole pause {TotalMs:0.000} ms; promoted gen0 {PromotedMb0:0.000} MB, gen1 {PromotedMb1:0.000} MB; marked from {string.Join(", ", MarkedMb.OrderBy(x => x.Key).Select(x => $"{RootName(x.Key)} {x.Value:0.000} MB"))}");

    private static string RootName(int type) => type switch
    {
        0 => "stacks",
        1 => "finalizer queue",
        2 => "handles",
        3 => "older generations (cards)",
        4 => "sized refs",
        5 => "overflow",
        6 => "dependent handles",
        7 => "new finalizer queue",
        8 => "steal",
        _ => $"type {type}",
    };
}

/// <summary>
/// Listens in-process to the runtime's GC events (<c>Microsoft-Windows-DotNETRuntime</c>, GC keyword, informational)
/// and keeps what each collection promoted (<c>GCHeapStats</c>): a collection's pause grows with the bytes it copies
/// out of gen0 and gen1, so this tells a heap whose young objects die young from one whose writes keep them alive.
/// It also keeps each collection's phases (<see cref="GcRecord"/>).
/// </summary>
internal sealed class GcHeapStatsListener : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Lock _lock = new();
    private readonly List<double> _promotedMb = [];
    private readonly List<GcRecord> _records = [];
    private GcRecord _current = new();

    /// <summary>Bytes (MB) promoted out of gen0 and gen1 by each collection seen since the last call, then forgets them.</summary>
    public double[] TakePromotedMb()
    {
        lock (_lock)
        {
            double[] taken = [.. _promotedMb];
            _promotedMb.Clear();
            return taken;
        }
    }

    /// <summary>The collections completed since the last call (restart seen), then forgets them.</summary>
    public GcRecord[] TakeRecords()
    {
        lock (_lock)
        {
            GcRecord[] taken = [.. _records];
            _records.Clear();
            return taken;
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName is not { } name || eventData.PayloadNames is null)
        {
            return;
        }

        lock (_lock)
        {
            if (name.StartsWith("GCSuspendEEBegin", StringComparison.Ordinal))
            {
                _current = new GcRecord { SuspendBegin = eventData.TimeStamp };
            }
            else if (name.StartsWith("GCSuspendEEEnd", StringComparison.Ordinal))
            {
                _current.SuspendEnd = eventData.TimeStamp;
            }
            else if (name.StartsWith("GCStart", StringComparison.Ordinal))
            {
                _current.Start = eventData.TimeStamp;
                _current.Number = (int)Payload(eventData, "Count");
                _current.Depth = (int)Payload(eventData, "Depth");
                _current.Reason = (int)Payload(eventData, "Reason");
            }
            else if (name.StartsWith("GCEnd", StringComparison.Ordinal))
            {
                _current.End = eventData.TimeStamp;
            }
            else if (name.StartsWith("GCMarkWithType", StringComparison.Ordinal))
            {
                int type = (int)Payload(eventData, "Type");
                _current.MarkedMb[type] = _current.MarkedMb.GetValueOrDefault(type) + (Payload(eventData, "Bytes") / 1e6);
            }
            else if (name.StartsWith("GCHeapStats", StringComparison.Ordinal))
            {
                _current.PromotedMb0 = Payload(eventData, "TotalPromotedSize0") / 1e6;
                _current.PromotedMb1 = Payload(eventData, "TotalPromotedSize1") / 1e6;
                _promotedMb.Add(_current.PromotedMb0 + _current.PromotedMb1);
            }
            else if (name.StartsWith("GCRestartEEEnd", StringComparison.Ordinal))
            {
                _current.RestartEnd = eventData.TimeStamp;
                if (_current.Depth >= 0)
                {
                    _records.Add(_current);
                }

                _current = new GcRecord();
            }
        }
    }

    private static double Payload(EventWrittenEventArgs e, string field)
    {
        int i = e.PayloadNames!.IndexOf(field);
        return i < 0 || e.Payload is null || e.Payload[i] is null ? 0 : Convert.ToDouble(e.Payload[i], CultureInfo.InvariantCulture);
    }
}

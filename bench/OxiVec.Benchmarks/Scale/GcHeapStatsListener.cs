using System.Diagnostics.Tracing;

namespace OxiVec.Benchmarks.Scale;

/// <summary>
/// Listens in-process to the runtime's GC events (<c>Microsoft-Windows-DotNETRuntime</c>, GC keyword, informational)
/// and keeps what each collection promoted (<c>GCHeapStats</c>): a collection's pause grows with the bytes it copies
/// out of gen0 and gen1, so this tells a heap whose young objects die young from one whose writes keep them alive.
/// </summary>
internal sealed class GcHeapStatsListener : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Lock _lock = new();
    private readonly List<double> _promotedMb = [];

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

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName is not { } name || !name.StartsWith("GCHeapStats", StringComparison.Ordinal) || eventData.PayloadNames is null)
        {
            return;
        }

        double promoted = Payload(eventData, "TotalPromotedSize0") + Payload(eventData, "TotalPromotedSize1");
        lock (_lock)
        {
            _promotedMb.Add(promoted / 1e6);
        }
    }

    private static double Payload(EventWrittenEventArgs e, string field)
    {
        int i = e.PayloadNames!.IndexOf(field);
        return i < 0 || e.Payload is null || e.Payload[i] is null ? 0 : Convert.ToDouble(e.Payload[i], System.Globalization.CultureInfo.InvariantCulture);
    }
}

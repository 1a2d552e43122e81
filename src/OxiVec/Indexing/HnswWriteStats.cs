using System.Diagnostics;

namespace OxiVec.Indexing;

/// <summary>
/// What an <see cref="HnswIndex"/>'s adds have done so far (cumulative, for benchmarks and diagnostics: the difference
/// of two readings around one add on the only adding thread is that add's work). Times are
/// <see cref="Stopwatch"/> ticks.
/// </summary>
/// <param name="Adds">Adds completed.</param>
/// <param name="AddTicks">Time inside <see cref="HnswIndex.Add"/>, the writer lock's wait included.</param>
/// <param name="LockWaitTicks">Time waiting for the writer lock (shared, or exclusive while a snapshot view lives).</param>
/// <param name="SearchTicks">Time in the layer beam searches that find a new node's neighbours.</param>
/// <param name="LinkTicks">Time writing the new node's lists and linking its neighbours back (copy-on-write included).</param>
/// <param name="CopyTicks">Time copying chunks and upper-layer lists a live snapshot view shared (any writer).</param>
/// <param name="Copies">Chunks and upper-layer lists copied for live snapshot views (any writer).</param>
/// <param name="CopiedBytes">Their bytes.</param>
/// <param name="Distances">Distances the adds' layer beam searches computed.</param>
/// <param name="Expanded">Nodes those searches expanded.</param>
/// <param name="Prunes">Neighbour lists that were full and re-selected when linked back.</param>
internal readonly record struct HnswWriteStats(
    long Adds,
    long AddTicks,
    long LockWaitTicks,
    long SearchTicks,
    long LinkTicks,
    long CopyTicks,
    long Copies,
    long CopiedBytes,
    long Distances,
    long Expanded,
    long Prunes)
{
    public static HnswWriteStats operator -(HnswWriteStats a, HnswWriteStats b) => new(
        a.Adds - b.Adds,
        a.AddTicks - b.AddTicks,
        a.LockWaitTicks - b.LockWaitTicks,
        a.SearchTicks - b.SearchTicks,
        a.LinkTicks - b.LinkTicks,
        a.CopyTicks - b.CopyTicks,
        a.Copies - b.Copies,
        a.CopiedBytes - b.CopiedBytes,
        a.Distances - b.Distances,
        a.Expanded - b.Expanded,
        a.Prunes - b.Prunes);

    /// <summary>Milliseconds of <paramref name="ticks"/>.</summary>
    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

/// <summary>The adds' running counters behind <see cref="HnswWriteStats"/> (atomic: adds may run on several threads).</summary>
internal sealed class HnswWriteCounters
{
    private long _adds;
    private long _addTicks;
    private long _lockWaitTicks;
    private long _searchTicks;
    private long _linkTicks;
    private long _copyTicks;
    private long _distances;
    private long _expanded;
    private long _prunes;

    public void Add(long ticks, long lockWaitTicks, long distances, long expanded)
    {
        Interlocked.Increment(ref _adds);
        Interlocked.Add(ref _addTicks, ticks);
        Interlocked.Add(ref _lockWaitTicks, lockWaitTicks);
        Interlocked.Add(ref _distances, distances);
        Interlocked.Add(ref _expanded, expanded);
    }

    public void Search(long ticks) => Interlocked.Add(ref _searchTicks, ticks);

    public void Link(long ticks) => Interlocked.Add(ref _linkTicks, ticks);

    public void Copy(long ticks) => Interlocked.Add(ref _copyTicks, ticks);

    public void Prune() => Interlocked.Increment(ref _prunes);

    /// <summary>The counters now, with the stores' copy-on-write figures the index adds.</summary>
    public HnswWriteStats Read(long storeCopyTicks, long copies, long copiedBytes) => new(
        Interlocked.Read(ref _adds),
        Interlocked.Read(ref _addTicks),
        Interlocked.Read(ref _lockWaitTicks),
        Interlocked.Read(ref _searchTicks),
        Interlocked.Read(ref _linkTicks),
        Interlocked.Read(ref _copyTicks) + storeCopyTicks,
        copies,
        copiedBytes,
        Interlocked.Read(ref _distances),
        Interlocked.Read(ref _expanded),
        Interlocked.Read(ref _prunes));
}

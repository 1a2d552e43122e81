namespace OxiVec.Wal;

/// <summary>
/// Lifetime counts of fsyncs by the number of waiting commits each acknowledged, in power-of-two bars (1, 2, 3-4,
/// 5-8, ..., 257 and more), for <see cref="WalMetrics"/>. Thread safe without a lock.
/// </summary>
internal sealed class WalCommitBatchHistogram
{
    /// <summary>The largest batch of each bar but the last (which takes everything above).</summary>
    private static readonly int[] BarTops = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    private readonly long[] _syncs = new long[BarTops.Length + 1];
    private long _commits;

    /// <summary>fsyncs recorded (those that acknowledged at least one waiting commit).</summary>
    public long Syncs
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _syncs.Length; i++)
            {
                sum += Interlocked.Read(ref _syncs[i]);
            }

            return sum;
        }
    }

    /// <summary>Commits those fsyncs acknowledged.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Counts one fsync that acknowledged <paramref name="commits"/> (at least 1) waiting commits.</summary>
    public void Record(int commits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(commits, 1);
        int bar = 0;
        while (bar < BarTops.Length && commits > BarTops[bar])
        {
            bar++;
        }

        Interlocked.Increment(ref _syncs[bar]);
        Interlocked.Add(ref _commits, commits);
    }

    /// <summary>Every bar, empty ones included, smallest batches first.</summary>
    public IReadOnlyList<WalCommitBatchBucket> Read()
    {
        var bars = new WalCommitBatchBucket[_syncs.Length];
        for (int i = 0; i < bars.Length; i++)
        {
            int min = i == 0 ? 1 : BarTops[i - 1] + 1;
            int max = i < BarTops.Length ? BarTops[i] : int.MaxValue;
            bars[i] = new WalCommitBatchBucket(min, max, Interlocked.Read(ref _syncs[i]));
        }

        return bars;
    }
}

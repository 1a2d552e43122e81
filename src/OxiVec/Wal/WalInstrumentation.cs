using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using OxiVec.Diagnostics;

namespace OxiVec.Wal;

/// <summary>
/// The WAL's counters and latency samples, published through <see cref="System.Diagnostics.Metrics"/> (meter
/// <c>OxiVec.Wal</c>, for OpenTelemetry) and summarised by <see cref="WalManager.GetMetrics"/>.
/// </summary>
internal sealed class WalInstrumentation : IDisposable
{
    /// <summary>The meter name to subscribe to.</summary>
    public const string MeterName = "OxiVec.Wal";

    /// <summary>The window health is judged on: latencies and the current entry rate cover the last minute.</summary>
    public static readonly TimeSpan RecentWindow = TimeSpan.FromMinutes(1);

    /// <summary>The window of the entry-rate baseline: the last hour.</summary>
    public static readonly TimeSpan BaselineWindow = TimeSpan.FromHours(1);

    private static readonly TimeSpan SlowSync = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly bool _systemClock; // _time is TimeProvider.System, whose GetTimestamp is Stopwatch.GetTimestamp
    private readonly Meter _meter;
    private readonly Counter<long> _records;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _syncs;
    private readonly Histogram<double> _syncDuration;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<int> _commitsPerSync;
    private readonly Histogram<double> _rotationDuration;
    private readonly Histogram<double> _controlWriteDuration;
    private readonly WalCommitBatchHistogram _batches = new();
    private readonly LatencyWindow _syncLatency;
    private readonly LatencyWindow _commitLatency;
    private readonly RateMeter _rate;
    private readonly RateMeter _recentRate;
    private readonly RateMeter _baselineRate;
    private readonly long _secondTicks; // the rate meters' one-second bucket, in ticks of _time
    private readonly Lock _rateLock = new();
    private long _rateSecondStart = long.MaxValue; // the bucket the records not yet in the meters belong to: [start, start + 1 s)
    private long _rateStamp; // a timestamp in that bucket (its first record's), under _rateLock
    private long _rateHandedOn; // of _recordCount, the records added to the meters so far, under _rateLock (the rest are pending)
    private long _recordCount;
    private long _byteCount;
    private long _maintenanceFailures;
    private long _clockSteps;

    public WalInstrumentation(ILogger logger, TimeProvider time, IMeterFactory? meterFactory, string walDir)
    {
        _logger = logger;
        _time = time;
        _systemClock = ReferenceEquals(time, TimeProvider.System);
        _secondTicks = Math.Max(1, (long)(TimeSpan.FromSeconds(1).TotalSeconds * time.TimestampFrequency)); // as RateMeter computes its 1-second buckets
        _rate = new RateMeter(time);
        _recentRate = new RateMeter(time, (int)RecentWindow.TotalSeconds);
        _baselineRate = new RateMeter(time, (int)BaselineWindow.TotalMinutes, TimeSpan.FromMinutes(1));
        _syncLatency = new LatencyWindow(time, RecentWindow);
        _commitLatency = new LatencyWindow(time, RecentWindow);
        var tags = new KeyValuePair<string, object?>[] { new("oxivec.wal.dir", walDir) };
        _meter = meterFactory?.Create(new MeterOptions(MeterName) { Tags = tags }) ?? new Meter(new MeterOptions(MeterName) { Tags = tags });
        _records = _meter.CreateCounter<long>("oxivec.wal.records", "{record}", "Records appended to the WAL.");
        _bytes = _meter.CreateCounter<long>("oxivec.wal.bytes_written", "By", "Bytes written to WAL segment files.");
        _syncs = _meter.CreateCounter<long>("oxivec.wal.syncs", "{fsync}", "fsyncs of WAL segment files.");
        _syncDuration = _meter.CreateHistogram<double>("oxivec.wal.sync.duration", "ms", "Duration of one WAL fsync.");
        _commitDuration = _meter.CreateHistogram<double>("oxivec.wal.commit.duration", "ms", "Time from append to acknowledgement.");
        _commitsPerSync = _meter.CreateHistogram(
            "oxivec.wal.sync.commits", "{commit}", "Waiting commits one WAL fsync acknowledged (the group commit batch).",
            tags: null, advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _rotationDuration = _meter.CreateHistogram<double>(
            "oxivec.wal.rotation.duration", "ms", "Time a segment rotation held the write path (the sealed segment's fsync, the new segment's header, fsync and rename).");
        _controlWriteDuration = _meter.CreateHistogram<double>(
            "oxivec.wal.control.write.duration", "ms", "Duration of one control file update (a 512-byte write and its fdatasync), off the commit path.");
    }

    public long RecordCount => Volatile.Read(ref _recordCount);

    public long ByteCount => Volatile.Read(ref _byteCount);

    public long MaintenanceFailures => Volatile.Read(ref _maintenanceFailures);

    public long ClockSteps => Volatile.Read(ref _clockSteps);

    /// <summary>Fills in the latency and rate figures of <paramref name="metrics"/>.</summary>
    public WalMetrics Describe(WalMetrics metrics)
    {
        HandOnRates(long.MaxValue);
        LatencySummary sync = _syncLatency.Summarize();
        LatencySummary write = _commitLatency.Summarize();
        (long recentEntries, TimeSpan recentSpan) = _recentRate.Read();
        (long baselineEntries, TimeSpan baselineSpan) = _baselineRate.Read();
        return metrics with
        {
            EntriesAppended = RecordCount,
            WriteOpsPerSec = _rate.PerSecond(),
            RecentEntriesPerSec = recentSpan <= TimeSpan.Zero ? 0 : recentEntries / recentSpan.TotalSeconds,
            BaselineEntriesPerSec = baselineSpan <= TimeSpan.Zero ? 0 : baselineEntries / baselineSpan.TotalSeconds,
            BaselineEntries = baselineEntries,
            BaselineSpan = baselineSpan,
            SyncSamples = sync.RecentSamples,
            AvgSyncLatencyMs = sync.RecentAverage,
            P99SyncLatencyMs = sync.RecentP99,
            LifetimeAvgSyncLatencyMs = sync.LifetimeAverage,
            WriteSamples = write.RecentSamples,
            AvgWriteLatencyMs = write.RecentAverage,
            P50WriteLatencyMs = write.RecentP50,
            P99WriteLatencyMs = write.RecentP99,
            LifetimeAvgWriteLatencyMs = write.LifetimeAverage,
            SyncCount = sync.LifetimeSamples,
            CommitSyncs = _batches.Syncs,
            AvgCommitsPerSync = _batches.Syncs == 0 ? 0 : _batches.Commits / (double)_batches.Syncs,
            CommitsPerSyncHistogram = _batches.Read(),
            BytesWritten = ByteCount,
        };
    }

    public void RecordsAppended(long count) => RecordsAppended(count, _time.GetTimestamp()); // one clock read for the three meters (they share the clock)

    /// <summary><see cref="RecordsAppended(long)"/> at <paramref name="now"/>, a timestamp of this instrumentation's clock the caller has just read.</summary>
    /// <remarks>
    /// The three rate meters get the records of one second at a time rather than per append (each add is an atomic
    /// update and two divisions, three per append): an append inside the second of the records still pending only
    /// counts them (<see cref="RecordCount"/>); the first one of another second, or a read (<see cref="Describe"/>),
    /// hands what was counted since the last hand-on to the meters, stamped within its second, so every read sees
    /// what it saw before, in the same buckets.
    /// </remarks>
    public void RecordsAppended(long count, long now)
    {
        long start = Volatile.Read(ref _rateSecondStart);
        if (now - start >= _secondTicks || now < start)
        {
            HandOnRates(now);
        }

        Interlocked.Add(ref _recordCount, count); // the pending count is what _recordCount holds beyond _rateHandedOn
        if (_records.Enabled)
        {
            _records.Add(count);
        }
    }

    /// <summary>
    /// Adds the pending records to the rate meters at their second's stamp; unless <paramref name="now"/> is
    /// <see cref="long.MaxValue"/> (a read), starts the second of <paramref name="now"/> for the records that follow.
    /// A record counted concurrently by another thread at the turn of a second may land in the neighbouring second.
    /// </summary>
    private void HandOnRates(long now)
    {
        lock (_rateLock)
        {
            long total = Volatile.Read(ref _recordCount);
            long pending = total - _rateHandedOn;
            _rateHandedOn = total;
            if (pending > 0)
            {
                _rate.Add(pending, _rateStamp);
                _recentRate.Add(pending, _rateStamp);
                _baselineRate.Add(pending, _rateStamp);
            }

            if (now != long.MaxValue)
            {
                long start = now - (now % _secondTicks);
                if (start != Volatile.Read(ref _rateSecondStart))
                {
                    _rateStamp = now;
                    Volatile.Write(ref _rateSecondStart, start);
                }
            }
        }
    }

    public void BytesWritten(long count)
    {
        Interlocked.Add(ref _byteCount, count);
        _bytes.Add(count);
    }

    public void Synced(TimeSpan elapsed)
    {
        _syncLatency.Record(elapsed.TotalMilliseconds);
        _syncs.Add(1);
        _syncDuration.Record(elapsed.TotalMilliseconds);
        if (elapsed > SlowSync)
        {
            _logger.LogWarning("WAL fsync took {Milliseconds:F0} ms; the disk is too slow for the sync policy.", elapsed.TotalMilliseconds);
        }
    }

    /// <summary>An fsync acknowledged <paramref name="commits"/> (at least 1) waiting commits.</summary>
    public void CommitsSynced(int commits)
    {
        _batches.Record(commits);
        _commitsPerSync.Record(commits);
    }

    public void Committed(TimeSpan elapsed)
    {
        _commitLatency.Record(elapsed.TotalMilliseconds);
        _commitDuration.Record(elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// <see cref="Committed(TimeSpan)"/> measured up to <paramref name="stopwatchNow"/>, a <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>
    /// the caller has just read: with the system clock (whose timestamps are the stopwatch's) it stamps the sample,
    /// so an acknowledgement reads the clock once.
    /// </summary>
    public void Committed(TimeSpan elapsed, long stopwatchNow)
    {
        double milliseconds = elapsed.TotalMilliseconds;
        _commitLatency.Record(milliseconds, _systemClock ? stopwatchNow : _time.GetTimestamp());
        _commitDuration.Record(milliseconds);
    }

    /// <summary>
    /// A segment rotation held the write path for <paramref name="writePath"/>; <paramref name="fromSpare"/>: it took a
    /// ready spare (no fsync on the write path) rather than creating the segment there (tag <c>oxivec.wal.rotation.from_spare</c>).
    /// </summary>
    public void SegmentRotated(TimeSpan writePath, bool fromSpare)
    {
        _rotationDuration.Record(writePath.TotalMilliseconds, new KeyValuePair<string, object?>("oxivec.wal.rotation.from_spare", fromSpare));
        _logger.LogDebug("WAL segment rotated; the write path waited {Milliseconds:F2} ms.", writePath.TotalMilliseconds);
    }

    /// <summary>A control file update (write and fdatasync) took <paramref name="elapsed"/>.</summary>
    public void ControlWritten(TimeSpan elapsed) => _controlWriteDuration.Record(elapsed.TotalMilliseconds);

    /// <summary>A maintenance step failed without harm to the log (it is retried at the next checkpoint).</summary>
    public void MaintenanceFailed(string step, Exception cause)
    {
        Interlocked.Increment(ref _maintenanceFailures);
        _logger.LogWarning(cause, "WAL maintenance failed while {Step}; the log is intact and the next checkpoint tries again.", step);
    }

    /// <summary>The wall clock stepped by <paramref name="step"/> against the monotonic clock; record timestamps stay frozen for <paramref name="frozenFor"/>.</summary>
    public void ClockStepped(TimeSpan step, TimeSpan frozenFor)
    {
        Interlocked.Increment(ref _clockSteps);
        _logger.LogWarning(
            "The wall clock stepped by {Step} against the monotonic clock. WAL record timestamps never go back, so they stay at " +
            "the newest one for {Frozen}: recovery by time cannot tell apart records written in that window.",
            step, frozenFor);
    }

    public void Failed(Exception cause) =>
        _logger.LogCritical(cause, "WAL write or fsync failed; the WAL refuses further writes until it is reopened.");

    public void Dispose() => _meter.Dispose();
}

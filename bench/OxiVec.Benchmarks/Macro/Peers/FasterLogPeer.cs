using FASTER.core;

namespace OxiVec.Benchmarks.Macro.Peers;

/// <summary>
/// FASTER's FasterLog (Microsoft.FASTER.Core) on the default local device. Durable variant
/// (<see cref="FasterLogPeer(string, bool)"/> with <c>commitPerRecord</c>): each writer enqueues its record, then
/// issues a commit and blocks until that commit is persisted, which is what FASTER's documentation suggests when
/// every enqueue must be durable ("await EnqueueAsync, await CommitAsync"); concurrent commits coalesce into
/// one device write. Settings: FASTER's defaults plus its fast-commit mode (commit records in the log itself, so
/// a commit waits for one write instead of two; it needs per-entry checksums), which its documentation
/// recommends for commit latency. Interval variant: a background thread calls <see cref="FasterLog.Commit"/>
/// every <see cref="CommitInterval"/>, and a writer waits only for its enqueue into FasterLog's memory (a
/// process crash loses what was not yet committed).
/// </summary>
/// <remarks>
/// On Linux, <see cref="Devices.CreateLogDevice"/> gives a <see cref="ManagedLocalStorageDevice"/>: FileStreams
/// opened with <see cref="FileOptions.WriteThrough"/>, which .NET maps to O_SYNC (its no-buffering flag has no
/// Linux equivalent and is dropped, so writes go through the page cache). A commit is durable because every
/// pwrite is synchronous; FasterLog itself never calls fsync or fdatasync (checked with strace).
/// </remarks>
internal sealed class FasterLogPeer : IPeerLog
{
    /// <summary>Commit period of the interval variant, the same as OxiVec's <c>HighThroughput</c> profile.</summary>
    public static readonly TimeSpan CommitInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The package measured. Its assembly carries no package version (it reports 1.0.0), so this repeats the version
    /// pinned in Directory.Packages.props: keep the two in step.
    /// </summary>
    public const string Version = "Microsoft.FASTER.Core 2.6.5";

    private readonly IDevice _device;
    private readonly FasterLog _log;
    private readonly bool _commitPerRecord;
    private readonly bool _autoCommit;
    private readonly Thread? _committer;
    private readonly ManualResetEventSlim _stopCommitter = new(false);

    /// <param name="dir">An empty directory for the log segments and commit files.</param>
    /// <param name="commitPerRecord">True: durable commit per record (or batch); false: commit every <see cref="CommitInterval"/>.</param>
    /// <param name="config">Fast-commit mode, preallocation, AutoCommit and commit policy (AutoCommit applies only to the durable variant).</param>
    public FasterLogPeer(string dir, bool commitPerRecord, FasterLogConfig config)
    {
        _commitPerRecord = commitPerRecord;
        _autoCommit = commitPerRecord && config.AutoCommit;
        _device = Devices.CreateLogDevice(Path.Combine(dir, "records.log"), preallocateFile: config.Preallocate, deleteOnClose: true);
        var settings = new FasterLogSettings
        {
            LogDevice = _device,
            LogCommitDir = dir,
            LogChecksum = config.FastCommit ? LogChecksumType.PerEntry : LogChecksumType.None,
            FastCommitMode = config.FastCommit,
            AutoCommit = _autoCommit,
        };
        if (config.CreatePolicy() is { } policy)
        {
            settings.LogCommitPolicy = policy;
        }

        _log = new FasterLog(settings);
        if (!commitPerRecord)
        {
            _committer = new Thread(CommitPeriodically) { IsBackground = true, Name = "bench-fasterlog-committer" };
            _committer.Start();
        }
    }

    public void Commit(int writer, byte[] record)
    {
        _ = _log.Enqueue(record);
        WaitIfDurable();
    }

    public void CommitBatch(int writer, IReadOnlyList<byte[]> records)
    {
        _ = _log.Enqueue(new RecordBatch(records));
        WaitIfDurable();
    }

    public void Dispose()
    {
        _stopCommitter.Set();
        _committer?.Join();
        _log.Dispose();
        _device.Dispose();
        _stopCommitter.Dispose();
    }

    private void WaitIfDurable()
    {
        if (_commitPerRecord)
        {
            // Blocks this writer's thread on the commit task; Commit(spinWait: true) would spin with Thread.Yield,
            // which on a machine with fewer cores than writers was slower and burnt more CPU.
            if (_autoCommit)
            {
                // AutoCommit: FasterLog issues the commit itself; wait until it covers this writer's record.
                _log.WaitForCommitAsync().AsTask().GetAwaiter().GetResult();
            }
            else
            {
                _log.CommitAsync().AsTask().GetAwaiter().GetResult();
            }
        }
    }

    private void CommitPeriodically()
    {
        while (!_stopCommitter.Wait(CommitInterval))
        {
            _log.Commit();
        }
    }

    /// <summary>A list of records enqueued as one atomic FasterLog batch (all or none commit).</summary>
    private readonly struct RecordBatch(IReadOnlyList<byte[]> records) : IReadOnlySpanBatch
    {
        public ReadOnlySpan<byte> Get(int index) => records[index];

        public int TotalEntries() => records.Count;
    }
}

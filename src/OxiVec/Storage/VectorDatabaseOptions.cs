using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using OxiVec.Wal;

namespace OxiVec.Storage;

/// <summary>Settings of a <see cref="VectorDatabase"/>, read once when it is opened.</summary>
public sealed record VectorDatabaseOptions
{
    /// <summary>
    /// WAL settings (sync policy, segment size...). Their <see cref="WalConfig.WalDir"/> is replaced by
    /// <see cref="WalDirectory"/>. The default is <see cref="WalConfig.Default"/> (fsync every second).
    /// </summary>
    public WalConfig Wal { get; init; } = WalConfig.Default;

    /// <summary>Where the WAL lives; the default is <c>wal</c> under the data directory. The guide recommends a separate fast disk.</summary>
    public string? WalDirectory { get; init; }

    /// <summary>Receives recovery reports and failures.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The clock for WAL timestamps; the system clock by default.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Creates the <c>OxiVec.Wal</c> and <c>OxiVec.Store</c> meters; standalone meters by default.</summary>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>
    /// Warning: loses data. Recovery passes over damaged WAL records instead of refusing to open, reporting them in
    /// <see cref="RecoveryStats.CorruptedEntries"/> and <see cref="RecoveryStats.SkippedRanges"/>; a transaction that
    /// lost records is not applied. The default is false: damage stops recovery with an error naming file and offset.
    /// </summary>
    public bool SkipCorruptedEntries { get; init; }

    /// <summary>The default of <see cref="PreparedTransactionWarningAge"/>: 5 minutes.</summary>
    public static readonly TimeSpan DefaultPreparedTransactionWarningAge = TimeSpan.FromMinutes(5);

    private readonly TimeSpan _preparedTransactionWarningAge = DefaultPreparedTransactionWarningAge;

    /// <summary>
    /// A prepared transaction in doubt for longer than this (on <see cref="TimeProvider"/>'s clock) makes
    /// <see cref="VectorDatabase.CheckHealth"/> report a warning naming it, and is logged once. The default is 5 minutes.
    /// </summary>
    public TimeSpan PreparedTransactionWarningAge
    {
        get => _preparedTransactionWarningAge;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, nameof(PreparedTransactionWarningAge));
            _preparedTransactionWarningAge = value;
        }
    }

    private readonly int _maxRecoveryTimeMs;
    private readonly int _recoveryParallelism = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// WAL segments read and checksummed ahead, in parallel, during recovery (records are still applied in LSN
    /// order). The default is the number of processors; 1 reads sequentially.
    /// </summary>
    public int RecoveryParallelism
    {
        get => _recoveryParallelism;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(RecoveryParallelism));
            _recoveryParallelism = value;
        }
    }

    /// <summary>
    /// Recovery taking longer than this fails with <see cref="RecoveryTimeoutException"/> (0: no limit, the default). It
    /// bounds every phase of opening: loading the checkpoint, rebuilding an index, replaying the WAL (on <see cref="TimeProvider"/>'s clock).
    /// </summary>
    public int MaxRecoveryTimeMs
    {
        get => _maxRecoveryTimeMs;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(MaxRecoveryTimeMs));
            _maxRecoveryTimeMs = value;
        }
    }
}

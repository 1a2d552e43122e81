using OxiVec.Hosting.Cluster;
using OxiVec.Hosting.Replication;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Hosting;

/// <summary>
/// Settings of the hosted database, bound from the <c>OxiVec</c> configuration section (see
/// <see cref="OxiVecServiceCollectionExtensions.AddOxiVec(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/>)
/// and validated when the host starts.
/// </summary>
public sealed class OxiVecOptions
{
    /// <summary>The configuration section the options are bound from: <c>OxiVec</c>.</summary>
    public const string SectionName = "OxiVec";

    /// <summary>The data directory (required). It is created when missing.</summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>The WAL directory, when it is not <c>wal</c> under the data directory.</summary>
    public string? WalDirectory { get; set; }

    /// <summary>
    /// The WAL's sync interval in milliseconds: 0 fsyncs every commit before it is acknowledged; null keeps
    /// <see cref="WalConfig.Default"/>'s (1,000 ms).
    /// </summary>
    public int? SyncIntervalMs { get; set; }

    /// <summary>
    /// The WAL's segment size in bytes (64 KiB to 1 GiB); null keeps <see cref="WalConfig.Default"/>'s. Retention removes
    /// whole segments, so it is also the granularity at which WAL a standby's slot no longer keeps is freed.
    /// </summary>
    public long? SegmentSizeBytes { get; set; }

    /// <summary>Whether stopping the host writes a checkpoint before closing the database (default true).</summary>
    public bool CheckpointOnStop { get; set; } = true;

    /// <summary>Recovery taking longer than this fails the start (0: no limit, the default).</summary>
    public int MaxRecoveryTimeMs { get; set; }

    /// <summary>
    /// A prepared transaction in doubt for longer than this makes the WAL health check warn (and is logged once);
    /// see <see cref="VectorDatabaseOptions.PreparedTransactionWarningAge"/>. The default is 5 minutes.
    /// </summary>
    public TimeSpan PreparedTransactionWarningAge { get; set; } = VectorDatabaseOptions.DefaultPreparedTransactionWarningAge;

    /// <summary>The node's replication role and settings (<c>OxiVec:Replication</c>; docs/replication.md).</summary>
    public ReplicationHostOptions Replication { get; set; } = new();

    /// <summary>Cluster membership with automatic failover (<c>OxiVec:Cluster</c>; docs/failover.md).</summary>
    public ClusterOptions Cluster { get; set; } = new();

    /// <summary>The WAL configuration these options give.</summary>
    public WalConfig ToWalConfig()
    {
        WalConfig config = SyncIntervalMs is { } interval ? WalConfig.Default with { SyncIntervalMs = interval } : WalConfig.Default;
        config = SegmentSizeBytes is { } segment ? config with { SegmentSizeBytes = segment } : config;
        return Replication.ReplicatesAsPrimary || Cluster.IsEnabled ? config with { EnableReplication = true } : config;
    }

    /// <summary>The problems with these options, each naming its setting (empty when they are valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            problems.Add($"{SectionName}:{nameof(DataDirectory)} is required (the directory the database lives in).");
        }

        if (SyncIntervalMs is < 0 or > 3_600_000)
        {
            problems.Add($"{SectionName}:{nameof(SyncIntervalMs)} must be between 0 and 3600000 milliseconds; it is {SyncIntervalMs}.");
        }

        if (SegmentSizeBytes is < WalConfig.MinSegmentSizeBytes or > WalConfig.MaxSegmentSizeBytes)
        {
            problems.Add($"{SectionName}:{nameof(SegmentSizeBytes)} must be between {WalConfig.MinSegmentSizeBytes} and {WalConfig.MaxSegmentSizeBytes} bytes; it is {SegmentSizeBytes}.");
        }

        if (MaxRecoveryTimeMs < 0)
        {
            problems.Add($"{SectionName}:{nameof(MaxRecoveryTimeMs)} must not be negative; it is {MaxRecoveryTimeMs}.");
        }

        if (PreparedTransactionWarningAge <= TimeSpan.Zero)
        {
            problems.Add($"{SectionName}:{nameof(PreparedTransactionWarningAge)} must be positive; it is {PreparedTransactionWarningAge}.");
        }

        if (Replication.IsStandby && WalDirectory is not null)
        {
            problems.Add($"{SectionName}:{nameof(WalDirectory)} cannot be set on a standby: a standby keeps its WAL in its data directory (a base backup replaces both).");
        }

        problems.AddRange(Replication.Validate());
        problems.AddRange(Cluster.Validate());
        if (Cluster.IsEnabled)
        {
            ReplicationHostOptions r = Replication;
            if (r.IsStandby || r.WaitForPush || r.Standbys.Length > 0 || !string.IsNullOrWhiteSpace(r.SynchronousStandbys))
            {
                problems.Add(
                    $"{ClusterOptions.SectionName}: a cluster member's replication role is set by the cluster: leave {ReplicationHostOptions.SectionName}:" +
                    $"{nameof(r.StandbyOf)}, {nameof(r.WaitForPush)}, {nameof(r.Standbys)} and {nameof(r.SynchronousStandbys)} unset (use {ClusterOptions.SectionName}:{nameof(ClusterOptions.Replication)}).");
            }

            if (WalDirectory is not null)
            {
                problems.Add($"{SectionName}:{nameof(WalDirectory)} cannot be set on a cluster member: it becomes a standby, which keeps its WAL in its data directory.");
            }
        }

        return problems;
    }

    /// <summary>The database options these give, with the host's logging and meters.</summary>
    internal VectorDatabaseOptions ToDatabaseOptions(Microsoft.Extensions.Logging.ILoggerFactory loggers, System.Diagnostics.Metrics.IMeterFactory meters) => new()
    {
        Wal = ToWalConfig(),
        WalDirectory = WalDirectory,
        LoggerFactory = loggers,
        MeterFactory = meters,
        MaxRecoveryTimeMs = MaxRecoveryTimeMs,
        PreparedTransactionWarningAge = PreparedTransactionWarningAge,
    };
}

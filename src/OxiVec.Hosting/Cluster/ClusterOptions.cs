using System.Globalization;
using System.Text.RegularExpressions;

namespace OxiVec.Hosting.Cluster;

/// <summary>
/// Cluster membership with automatic failover on a coordinator (etcd), bound from <c>OxiVec:Cluster</c> (see
/// docs/failover.md). A node is a cluster member when <see cref="Name"/> is set: it registers, and leads or follows
/// whoever holds the leadership lease; its replication role is no longer configured by hand.
/// </summary>
public sealed partial class ClusterOptions
{
    /// <summary>The configuration section: <c>OxiVec:Cluster</c>.</summary>
    public const string SectionName = "OxiVec:Cluster";

    /// <summary>The cluster's name: its keys live under it in etcd. Null: this node is not a cluster member.</summary>
    public string? Name { get; set; }

    /// <summary>This node's id, unique in the cluster: letters, digits, <c>-</c> and <c>_</c> (it names its replication slot and its place in the synchronous set).</summary>
    public string? NodeId { get; set; }

    /// <summary>The coordinator's endpoints, <c>http://HOST:PORT</c>, comma separated.</summary>
    public string? Etcd { get; set; }

    /// <summary>
    /// <c>async</c> (the default), <c>sync</c> (a commit waits for the first <see cref="SyncStandbys"/> standbys by
    /// priority, <c>FIRST n</c>) or <c>quorum</c> (for any <see cref="SyncStandbys"/> standbys, <c>ANY n</c>).
    /// </summary>
    public string Replication { get; set; } = "async";

    /// <summary>In sync and quorum modes: how many standbys must confirm a commit (the default is 1).</summary>
    public int SyncStandbys { get; set; } = 1;

    /// <summary>The leadership lease's TTL in seconds (the default is 5, at least 2): failover starts at most this long after the leader stops renewing.</summary>
    public int LeaseTtlSeconds { get; set; } = 5;

    /// <summary>
    /// Patroni's <c>maximum_lag_on_failover</c>: a standby further behind the last leader position it saw than this
    /// many WAL records does not try to take over (the cluster waits for a closer one, or for an operator). The default
    /// is 4096 records (about 1 MiB of 64-dimension upserts); 0 allows only a standby that had everything it saw.
    /// </summary>
    /// <remarks>Counted in records, not bytes: OxiVec's LSNs number records, and a standby cannot know the size of records it never received.</remarks>
    public long MaximumLagOnFailover { get; set; } = 4096;

    /// <summary>
    /// In sync and quorum modes: a member not seen (its member key in the coordinator expired) for longer than this many
    /// seconds is removed from the synchronous set, once the remaining standbys have flushed every acknowledged write;
    /// it is added back when it returns. The default is 300, at least 1.
    /// </summary>
    public int MemberRemovalGraceSeconds { get; set; } = 300;

    /// <summary>The REST address other nodes and clients reach this node at (default: the address <c>OxiVec:Server:Http</c> bound).</summary>
    public string? AdvertiseHttp { get; set; }

    /// <summary>The gRPC replication address standbys reach this node at (default: the address <c>OxiVec:Server:Grpc</c> bound).</summary>
    public string? AdvertiseGrpc { get; set; }

    /// <summary>What a node that is not the primary does with a write: <c>redirect</c> (the default: 307 to the primary) or <c>proxy</c> (forwards it).</summary>
    public string WriteForwarding { get; set; } = "redirect";

    /// <summary>Whether this node is a cluster member.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(Name);

    /// <summary>The lease TTL.</summary>
    public TimeSpan LeaseTtl => TimeSpan.FromSeconds(LeaseTtlSeconds);

    /// <summary>The parsed replication mode (async when it does not parse; <see cref="Validate"/> names a bad one).</summary>
    public ClusterReplicationMode Mode => ParseMode(Replication) ?? ClusterReplicationMode.Async;

    /// <summary>Whether writes are proxied to the primary rather than redirected.</summary>
    public bool ProxiesWrites => string.Equals(WriteForwarding?.Trim(), "proxy", StringComparison.OrdinalIgnoreCase);

    /// <summary>The coordinator's endpoints.</summary>
    public IReadOnlyList<string> EtcdEndpoints =>
        [.. (Etcd ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>The problems with these options, each naming its setting (empty when they are valid or the node is not a cluster member).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!IsEnabled)
        {
            if (!string.IsNullOrWhiteSpace(NodeId) || !string.IsNullOrWhiteSpace(Etcd))
            {
                problems.Add($"{SectionName}:{nameof(Name)} is required when {nameof(NodeId)} or {nameof(Etcd)} is set (--cluster NAME).");
            }

            return problems;
        }

        if (!IdPattern().IsMatch(Name!))
        {
            problems.Add($"{SectionName}:{nameof(Name)} must be 1 to 64 letters, digits, '-' or '_'; it is '{Name}'.");
        }

        if (string.IsNullOrWhiteSpace(NodeId) || !IdPattern().IsMatch(NodeId))
        {
            problems.Add($"{SectionName}:{nameof(NodeId)} is required (--node-id): 1 to 64 letters, digits, '-' or '_'; it is '{NodeId}'.");
        }

        if (EtcdEndpoints.Count == 0)
        {
            problems.Add($"{SectionName}:{nameof(Etcd)} is required (--etcd URL[,URL...]): the coordinator's endpoints.");
        }

        foreach (string endpoint in EtcdEndpoints.Where(e => !Uri.TryCreate(e, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp))
        {
            problems.Add($"{SectionName}:{nameof(Etcd)}: '{endpoint}' must be http://HOST:PORT (TLS to etcd is not supported).");
        }

        if (ParseMode(Replication) is null)
        {
            problems.Add($"{SectionName}:{nameof(Replication)} must be async, sync or quorum; it is '{Replication}'.");
        }

        if (SyncStandbys is < 1 or > 16)
        {
            problems.Add($"{SectionName}:{nameof(SyncStandbys)} must be between 1 and 16; it is {SyncStandbys.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (LeaseTtlSeconds is < 2 or > 300)
        {
            problems.Add($"{SectionName}:{nameof(LeaseTtlSeconds)} must be between 2 and 300 seconds (the fence needs a margin of at least 1 s inside it); it is {LeaseTtlSeconds.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (MemberRemovalGraceSeconds is < 1 or > 86_400)
        {
            problems.Add($"{SectionName}:{nameof(MemberRemovalGraceSeconds)} must be between 1 and 86400 seconds (--member-removal-grace); it is {MemberRemovalGraceSeconds.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (MaximumLagOnFailover < 0)
        {
            problems.Add($"{SectionName}:{nameof(MaximumLagOnFailover)} must be 0 or more records (--max-lag-on-failover); it is {MaximumLagOnFailover.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (AdvertiseHttp is not null && !IsHttpUrl(AdvertiseHttp))
        {
            problems.Add($"{SectionName}:{nameof(AdvertiseHttp)} must be an http:// or https:// URL; it is '{AdvertiseHttp}'.");
        }

        if (AdvertiseGrpc is not null && !IsHttpUrl(AdvertiseGrpc))
        {
            problems.Add($"{SectionName}:{nameof(AdvertiseGrpc)} must be an http:// or https:// URL; it is '{AdvertiseGrpc}'.");
        }

        if (WriteForwarding?.Trim().ToUpperInvariant() is not ("REDIRECT" or "PROXY"))
        {
            problems.Add($"{SectionName}:{nameof(WriteForwarding)} must be redirect or proxy; it is '{WriteForwarding}'.");
        }

        return problems;
    }

    /// <summary>Parses <c>async</c>, <c>sync</c> or <c>quorum</c>; null when it is none.</summary>
    public static ClusterReplicationMode? ParseMode(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        "ASYNC" => ClusterReplicationMode.Async,
        "SYNC" => ClusterReplicationMode.Sync,
        "QUORUM" => ClusterReplicationMode.Quorum,
        _ => null,
    };

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value?.Trim(), UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}

/// <summary>How a cluster's primary acknowledges commits.</summary>
public enum ClusterReplicationMode
{
    /// <summary>Asynchronously: a failover may lose the writes the new primary had not received (bounded by its lag).</summary>
    Async,

    /// <summary><c>FIRST n</c> over the other members: every acknowledged commit is on n standbys.</summary>
    Sync,

    /// <summary><c>ANY n</c> over the other members: every acknowledged commit is on n standbys.</summary>
    Quorum,
}

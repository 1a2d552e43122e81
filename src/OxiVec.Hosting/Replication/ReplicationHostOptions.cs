using System.Globalization;
using OxiVec.Replication;

namespace OxiVec.Hosting.Replication;

/// <summary>
/// The hosted database's replication role and settings, bound from <c>OxiVec:Replication</c> (see docs/replication.md).
/// A node is a standby when <see cref="StandbyOf"/> is set; otherwise a primary, which replicates when it serves
/// gRPC (<c>OxiVec:Server:Grpc</c>) or pushes to <see cref="Standbys"/>.
/// </summary>
public sealed class ReplicationHostOptions
{
    /// <summary>The configuration section: <c>OxiVec:Replication</c>.</summary>
    public const string SectionName = "OxiVec:Replication";

    /// <summary>On a standby: the primary's gRPC address (<c>http://HOST:PORT</c>). Null: this node is a primary.</summary>
    public string? StandbyOf { get; set; }

    /// <summary>On a standby: its name, unique among the primary's standbys (names its slot and its place in <see cref="SynchronousStandbys"/>).</summary>
    public string? NodeName { get; set; }

    /// <summary>
    /// On a standby: wait for the primary to dial it (push mode, the primary lists it in <see cref="Standbys"/>) instead of
    /// dialing <see cref="StandbyOf"/>; base backups still come from <see cref="StandbyOf"/>. The default is false.
    /// </summary>
    public bool WaitForPush { get; set; }

    /// <summary>
    /// On a standby: the primary's REST address, named to clients whose writes a standby refuses (HTTP 421,
    /// <c>OxiVec-Primary</c>). Null: <see cref="StandbyOf"/> is named.
    /// </summary>
    public string? PrimaryHttpUrl { get; set; }

    /// <summary>On a primary: <c>FIRST n (a, b, ...)</c> or <c>ANY n (a, b, ...)</c>; null or empty replicates asynchronously.</summary>
    public string? SynchronousStandbys { get; set; }

    /// <summary>On a primary: <c>remote-write</c>, <c>remote-flush</c> (the default) or <c>remote-apply</c>.</summary>
    public string AckLevel { get; set; } = "remote-flush";

    /// <summary>On a primary: <c>block</c> (the default) or <c>degrade</c> when fewer synchronous standbys than needed are connected.</summary>
    public string WhenTooFewStandbys { get; set; } = "block";

    /// <summary>On a primary: standbys it dials and pushes to, each <c>NAME=URL</c> (push mode). Empty: standbys dial it.</summary>
    public string[] Standbys { get; set; } = [];

    /// <summary>On a primary: the most WAL kept for a standby's slot, in bytes (default 1 GiB); further behind, it needs a base backup.</summary>
    public long MaxSlotWalKeepBytes { get; set; } = new ReplicationOptions().MaxSlotWalKeepBytes;

    /// <summary>On a primary: its epoch (only grows; the larger of this and the stored one is used). The default is 1.</summary>
    public long Epoch { get; set; } = 1;

    /// <summary>On a standby: the longest wait between attempts to reach its primary, in milliseconds (the wait starts at 100 ms and doubles). The default is 10,000.</summary>
    public int MaxReconnectDelayMs { get; set; } = 10_000;

    /// <summary>The API key this node sends when it dials a peer (null: the server's own <c>OxiVec:Server:ApiKey</c>, if any).</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// On a primary: run a replicator that serves standbys dialing in, even with no synchronous set and no push
    /// standbys (<c>oxivec serve</c> sets it when it listens for gRPC, <c>OxiVec:Server:Grpc</c>). The default is false.
    /// </summary>
    public bool AcceptStandbys { get; set; }

    /// <summary>Whether this node is a primary that replicates (a replicator runs over its database).</summary>
    public bool ReplicatesAsPrimary => !IsStandby && (AcceptStandbys || Standbys.Length > 0 || !string.IsNullOrWhiteSpace(SynchronousStandbys));

    /// <summary>Whether this node is a standby.</summary>
    public bool IsStandby => !string.IsNullOrWhiteSpace(StandbyOf);

    /// <summary>The URL a standby names to clients for writes.</summary>
    public string PrimaryForClients => PrimaryHttpUrl ?? StandbyOf ?? "";

    /// <summary>The engine's replication options these give (a primary's).</summary>
    public ReplicationOptions ToReplicationOptions() => new()
    {
        SynchronousStandbys = string.IsNullOrWhiteSpace(SynchronousStandbys) ? null : SynchronousStandbys,
        AckLevel = ParseAckLevel(AckLevel) ?? ReplicationAckLevel.RemoteFlush,
        WhenTooFewStandbys = ParseTooFew(WhenTooFewStandbys) ?? TooFewStandbysBehavior.Block,
        MaxSlotWalKeepBytes = MaxSlotWalKeepBytes,
    };

    /// <summary>The push standbys as (name, address).</summary>
    public IReadOnlyList<(string Name, Uri Address)> PushStandbys() =>
        [.. Standbys.Select(s => TryParseStandby(s, out string name, out Uri? address) ? (name, address!) : throw new FormatException($"{SectionName}:{nameof(Standbys)}: '{s}' is not NAME=URL."))];

    /// <summary>The problems with these options, each naming its setting (empty when they are valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (IsStandby)
        {
            if (!IsHttpUrl(StandbyOf))
            {
                problems.Add($"{SectionName}:{nameof(StandbyOf)} must be the primary's gRPC address, http://HOST:PORT or https://HOST:PORT; it is '{StandbyOf}'.");
            }

            if (string.IsNullOrWhiteSpace(NodeName))
            {
                problems.Add($"{SectionName}:{nameof(NodeName)} is required on a standby (--node-name): the primary knows its standbys by name.");
            }

            if (!string.IsNullOrWhiteSpace(SynchronousStandbys) || Standbys.Length > 0)
            {
                problems.Add($"{SectionName}: a standby ({nameof(StandbyOf)} is set) cannot have standbys of its own ({nameof(SynchronousStandbys)}, {nameof(Standbys)}); cascading replication is not supported.");
            }

            if (PrimaryHttpUrl is not null && !IsHttpUrl(PrimaryHttpUrl))
            {
                problems.Add($"{SectionName}:{nameof(PrimaryHttpUrl)} must be an http:// or https:// URL; it is '{PrimaryHttpUrl}'.");
            }
        }
        else if (WaitForPush)
        {
            problems.Add($"{SectionName}:{nameof(WaitForPush)} applies to a standby: set {nameof(StandbyOf)} too (base backups come from it).");
        }

        if (ParseAckLevel(AckLevel) is null)
        {
            problems.Add($"{SectionName}:{nameof(AckLevel)} must be remote-write, remote-flush or remote-apply; it is '{AckLevel}'.");
        }

        if (ParseTooFew(WhenTooFewStandbys) is null)
        {
            problems.Add($"{SectionName}:{nameof(WhenTooFewStandbys)} must be block or degrade; it is '{WhenTooFewStandbys}'.");
        }

        try
        {
            _ = SynchronousStandbyPolicy.Parse(SynchronousStandbys);
        }
        catch (FormatException ex)
        {
            problems.Add($"{SectionName}:{nameof(SynchronousStandbys)}: {ex.Message}");
        }

        foreach (string standby in Standbys)
        {
            if (!TryParseStandby(standby, out _, out _))
            {
                problems.Add($"{SectionName}:{nameof(Standbys)}: '{standby}' must be NAME=URL, e.g. b=http://10.0.0.6:6334.");
            }
        }

        if (MaxSlotWalKeepBytes < 1)
        {
            problems.Add($"{SectionName}:{nameof(MaxSlotWalKeepBytes)} must be at least 1 byte; it is {MaxSlotWalKeepBytes.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (MaxReconnectDelayMs < 100)
        {
            problems.Add($"{SectionName}:{nameof(MaxReconnectDelayMs)} must be at least 100 ms; it is {MaxReconnectDelayMs.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (Epoch < 1)
        {
            problems.Add($"{SectionName}:{nameof(Epoch)} must be at least 1; it is {Epoch.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (ApiKey is not null && string.IsNullOrWhiteSpace(ApiKey))
        {
            problems.Add($"{SectionName}:{nameof(ApiKey)} is set but empty; give a key or leave the setting out.");
        }

        return problems;
    }

    /// <summary>Parses <c>remote-write</c>, <c>remote-flush</c>, <c>remote-apply</c> (or the enum's names); null when it is none.</summary>
    public static ReplicationAckLevel? ParseAckLevel(string? value) => value?.Trim().Replace("-", "", StringComparison.Ordinal).ToUpperInvariant() switch
    {
        "REMOTEWRITE" => ReplicationAckLevel.RemoteWrite,
        "REMOTEFLUSH" => ReplicationAckLevel.RemoteFlush,
        "REMOTEAPPLY" => ReplicationAckLevel.RemoteApply,
        _ => null,
    };

    /// <summary>Parses <c>block</c> or <c>degrade</c> (or the enum's names); null when it is neither.</summary>
    public static TooFewStandbysBehavior? ParseTooFew(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        "BLOCK" => TooFewStandbysBehavior.Block,
        "DEGRADE" or "DEGRADETOASYNC" => TooFewStandbysBehavior.DegradeToAsync,
        _ => null,
    };

    private static bool TryParseStandby(string value, out string name, out Uri? address)
    {
        int equals = value.IndexOf('=', StringComparison.Ordinal);
        name = equals > 0 ? value[..equals].Trim() : "";
        address = null;
        return equals > 0 && name.Length > 0 && IsHttpUrl(value[(equals + 1)..]) && Uri.TryCreate(value[(equals + 1)..].Trim(), UriKind.Absolute, out address);
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value?.Trim(), UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

using System.Globalization;
using System.Net;

namespace OxiVec.Hosting.Server;

/// <summary>
/// Settings of the network server (<c>oxivec serve</c>), bound from the <c>OxiVec:Server</c> configuration section;
/// command-line options override them.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>The configuration section: <c>OxiVec:Server</c>.</summary>
    public const string SectionName = "OxiVec:Server";

    /// <summary>Where the HTTP endpoint listens, <c>HOST:PORT</c> (default <c>127.0.0.1:6333</c>, Qdrant's port; port 0 picks a free one).</summary>
    public string Http { get; set; } = "127.0.0.1:6333";

    /// <summary>
    /// Where the gRPC replication endpoint listens, <c>HOST:PORT</c> (HTTP/2 only, cleartext with prior knowledge, as
    /// Grpc.Net.Client speaks over <c>http://</c>; port 0 picks a free one). Null (the default): no gRPC endpoint. A
    /// primary serves standbys there, a standby waiting for pushes takes its primary's stream there.
    /// </summary>
    public string? Grpc { get; set; }

    /// <summary>How long a request with <c>OxiVec-Min-Lsn</c> waits for that LSN by default (default 5,000 ms; <c>OxiVec-Min-Lsn-Timeout-Ms</c> overrides it).</summary>
    public int MinLsnTimeoutMs { get; set; } = 5_000;

    /// <summary>The longest <c>OxiVec-Min-Lsn-Timeout-Ms</c> honoured (default 30,000 ms); longer asks are cut to it.</summary>
    public int MaxMinLsnTimeoutMs { get; set; } = 30_000;

    /// <summary>The key that may read and write (also from <c>OXIVEC_API_KEY</c>). Null: no key.</summary>
    public string? ApiKey { get; set; }

    /// <summary>A key that may only read and search. Null: none.</summary>
    public string? ReadOnlyApiKey { get; set; }

    /// <summary>Allow serving without any key on an address other than loopback.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>The largest request body accepted, in bytes (default 32 MiB); larger answers 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>The most points one request may write or name (default 10,000); more answers 400.</summary>
    public int MaxPointsPerRequest { get; set; } = 10_000;

    /// <summary>The largest <c>limit</c> (and <c>limit + offset</c>) a search or scroll may ask for (default 10,000); more answers 400.</summary>
    public int MaxLimit { get; set; } = 10_000;

    /// <summary>The deepest nesting of <c>must</c>/<c>should</c>/<c>must_not</c> a filter may have (default 32); deeper answers 400.</summary>
    public int MaxFilterDepth { get; set; } = 32;

    /// <summary>The largest vector dimension a collection may be created with (default 65,536); more answers 400.</summary>
    public int MaxDimension { get; set; } = 65_536;

    /// <summary>How long a request may run before it is cancelled with 503 (default 30,000 ms; 0: no limit).</summary>
    public int RequestTimeoutMs { get; set; } = 30_000;

    /// <summary>Requests per second each API key (or, without keys, each client address) may make (default 0: no limit); more answers 429.</summary>
    public int RateLimitPerSecond { get; set; }

    /// <summary>Whether any API key is configured (then every request but the probes must carry one).</summary>
    public bool HasKeys => ApiKey is not null || ReadOnlyApiKey is not null;

    /// <summary>Whether <see cref="Http"/> names a loopback host (<c>127.0.0.1</c> and the rest of 127/8, <c>::1</c>, <c>localhost</c>).</summary>
    public bool ListensOnLoopbackOnly => TrySplitHttp(Http, out string host, out _) && IsLoopback(host);

    /// <summary>The problems with these options, each naming its setting (empty when they are valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!TrySplitHttp(Http, out _, out _))
        {
            problems.Add($"{SectionName}:{nameof(Http)} must be HOST:PORT (for example 127.0.0.1:6333 or [::1]:6333, port 0 to 65535); it is '{Http}'.");
        }

        if (Grpc is not null && !TrySplitHttp(Grpc, out _, out _))
        {
            problems.Add($"{SectionName}:{nameof(Grpc)} must be HOST:PORT (for example 127.0.0.1:6334, port 0 to 65535); it is '{Grpc}'.");
        }

        if (MinLsnTimeoutMs < 0 || MaxMinLsnTimeoutMs < 0)
        {
            problems.Add($"{SectionName}:{nameof(MinLsnTimeoutMs)} and {nameof(MaxMinLsnTimeoutMs)} must not be negative; they are {MinLsnTimeoutMs} and {MaxMinLsnTimeoutMs}.");
        }

        CheckKey(problems, nameof(ApiKey), ApiKey);
        CheckKey(problems, nameof(ReadOnlyApiKey), ReadOnlyApiKey);
        if (ApiKey is not null && ApiKey == ReadOnlyApiKey)
        {
            problems.Add($"{SectionName}:{nameof(ReadOnlyApiKey)} must differ from {SectionName}:{nameof(ApiKey)} (one key cannot be both read-only and read-write).");
        }

        if (!HasKeys && !AllowAnonymous && Grpc is not null && TrySplitHttp(Grpc, out string grpcHost, out _) && !IsLoopback(grpcHost))
        {
            problems.Add(
                $"No API key is configured and {SectionName}:{nameof(Grpc)} ({Grpc}) is not a loopback address: anyone who reaches it could follow the WAL. " +
                $"Give a key, listen on 127.0.0.1, or serve without keys on purpose with --allow-anonymous.");
        }

        if (!HasKeys && !AllowAnonymous && TrySplitHttp(Http, out string host, out _) && !IsLoopback(host))
        {
            problems.Add(
                $"No API key is configured and {SectionName}:{nameof(Http)} ({Http}) is not a loopback address: anyone who reaches it could read and " +
                $"write. Give a key (--api-key, the OXIVEC_API_KEY environment variable or {SectionName}:{nameof(ApiKey)}), listen on 127.0.0.1, or " +
                $"serve without keys on purpose with --allow-anonymous ({SectionName}:{nameof(AllowAnonymous)}).");
        }

        Positive(problems, nameof(MaxRequestBodyBytes), MaxRequestBodyBytes);
        Positive(problems, nameof(MaxPointsPerRequest), MaxPointsPerRequest);
        Positive(problems, nameof(MaxLimit), MaxLimit);
        Positive(problems, nameof(MaxFilterDepth), MaxFilterDepth);
        if (MaxDimension is < 1 or > 65_536)
        {
            problems.Add($"{SectionName}:{nameof(MaxDimension)} must be between 1 and 65536 (the engine's largest dimension); it is {MaxDimension}.");
        }

        if (RequestTimeoutMs < 0)
        {
            problems.Add($"{SectionName}:{nameof(RequestTimeoutMs)} must be 0 (no limit) or a positive number of milliseconds; it is {RequestTimeoutMs}.");
        }

        if (RateLimitPerSecond < 0)
        {
            problems.Add($"{SectionName}:{nameof(RateLimitPerSecond)} must be 0 (no limit) or a positive number of requests per second; it is {RateLimitPerSecond}.");
        }

        return problems;
    }

    /// <summary>Splits <c>HOST:PORT</c> (an IPv6 host in brackets); false when it is not of that form.</summary>
    internal static bool TrySplitHttp(string? http, out string host, out int port)
    {
        host = "";
        port = 0;
        int colon = http?.LastIndexOf(':') ?? -1;
        if (http is null || colon <= 0 || colon == http.Length - 1)
        {
            return false;
        }

        host = http[..colon];
        bool bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (host.StartsWith('[') != host.EndsWith(']') || (!bracketed && host.Contains(':', StringComparison.Ordinal))
            || host.Contains('/', StringComparison.Ordinal) || host.Any(char.IsWhiteSpace))
        {
            return false;
        }

        return int.TryParse(http.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65_535;
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? address) && IPAddress.IsLoopback(address));

    private static void CheckKey(List<string> problems, string name, string? key)
    {
        if (key is not null && string.IsNullOrWhiteSpace(key))
        {
            problems.Add($"{SectionName}:{name} is set but empty; give a key or leave the setting out.");
        }
    }

    private static void Positive(List<string> problems, string name, long value)
    {
        if (value < 1)
        {
            problems.Add($"{SectionName}:{name} must be at least 1; it is {value}.");
        }
    }
}

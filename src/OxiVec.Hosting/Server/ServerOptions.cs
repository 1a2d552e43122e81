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
}

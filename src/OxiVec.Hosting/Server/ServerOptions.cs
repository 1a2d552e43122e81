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
}

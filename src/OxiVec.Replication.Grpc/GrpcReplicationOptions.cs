namespace OxiVec.Replication.Grpc;

/// <summary>How a node dials another over gRPC for replication.</summary>
public sealed record GrpcReplicationOptions
{
    /// <summary>
    /// The largest message sent or received: 264 MiB, room for a batch of about 1 MiB
    /// (<see cref="ReplicationOptions.MaxBatchBytes"/>) or one record of the largest payload the WAL takes (256 MiB)
    /// with its header, salt and the message's own fields.
    /// </summary>
    public const int DefaultMaxMessageBytes = 264 << 20;

    /// <summary>The API key sent in the <c>api-key</c> metadata of every call (null: none).</summary>
    public string? ApiKey { get; init; }

    /// <summary>The largest message sent or received. The default is <see cref="DefaultMaxMessageBytes"/>.</summary>
    public int MaxMessageBytes { get; init; } = DefaultMaxMessageBytes;

    /// <summary>How long dialing may take before the attempt fails (the engine reconnects with backoff). The default is 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// HTTP/2 keepalive pings on an idle connection, so a peer that vanished (power loss, a cut cable) breaks the stream
    /// instead of leaving it silent forever. The default is 10 s; a ping unanswered for as long breaks the connection.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The metadata key that carries the API key, as the REST API's header: <c>api-key</c>.</summary>
    public const string ApiKeyHeader = "api-key";

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, (1 << 20) + 4096, nameof(MaxMessageBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAlivePingDelay, TimeSpan.Zero, nameof(KeepAlivePingDelay));
        if (ApiKey is not null && string.IsNullOrWhiteSpace(ApiKey))
        {
            throw new ArgumentException("The API key is set but empty; give a key or leave it out.", nameof(ApiKey));
        }
    }
}

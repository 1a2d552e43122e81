namespace OxiVec.Replication;

/// <summary>
/// One replication stream seen from one end: messages go out in order, come in in order. The transport (gRPC on
/// the serve host, in-memory in tests) implements it; the engine knows nothing of the network. Sending awaits
/// the transport's flow control, which is the stream's backpressure.
/// </summary>
/// <typeparam name="TSend">What this end sends.</typeparam>
/// <typeparam name="TReceive">What this end receives.</typeparam>
public interface IReplicationChannel<in TSend, TReceive> : IAsyncDisposable
    where TSend : class
    where TReceive : class
{
    /// <summary>Sends one message; completes when the transport has taken it.</summary>
    /// <exception cref="IOException">The stream broke.</exception>
    ValueTask SendAsync(TSend message, CancellationToken cancellationToken);

    /// <summary>The next message, or null when the other end closed the stream cleanly.</summary>
    /// <exception cref="IOException">The stream broke.</exception>
    ValueTask<TReceive?> ReceiveAsync(CancellationToken cancellationToken);
}

/// <summary>Opens a new replication stream to the other end (one per attempt; reconnecting calls it again).</summary>
/// <typeparam name="TSend">What this end sends.</typeparam>
/// <typeparam name="TReceive">What this end receives.</typeparam>
public delegate ValueTask<IReplicationChannel<TSend, TReceive>> ReplicationConnector<TSend, TReceive>(CancellationToken cancellationToken)
    where TSend : class
    where TReceive : class;

/// <summary>Fetches a base backup from the primary: its manifest, then its chunks in the manifest's order.</summary>
public interface IBaseBackupSource
{
    /// <summary>Starts a base backup on the primary; the returned stream yields the manifest's files' chunks.</summary>
    ValueTask<(BaseBackupManifest Manifest, IAsyncEnumerable<BaseBackupChunk> Chunks)> StartAsync(CancellationToken cancellationToken);
}

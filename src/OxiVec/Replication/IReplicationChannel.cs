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

    /// <summary>
    /// Whether <see cref="SendAsync"/>, once it completed, holds nothing of the message: it copied (serialized) every
    /// byte the message referenced, as gRPC does. A sender may then reuse those bytes' buffer for its next message (a
    /// primary reads each <see cref="WalBatch"/> into the same buffer instead of copying it into a new array). False,
    /// the default: the message itself travels on (an in-memory link), and its bytes must stay unchanged.
    /// </summary>
    bool CopiesOnSend => false;

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

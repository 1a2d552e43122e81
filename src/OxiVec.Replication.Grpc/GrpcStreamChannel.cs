using Grpc.Core;

namespace OxiVec.Replication.Grpc;

/// <summary>
/// An <see cref="IReplicationChannel{TSend, TReceive}"/> over the two halves of a gRPC bidirectional call, client or
/// server side. Sending awaits the call's writer (HTTP/2 flow control: the stream's backpressure); one write at a
/// time. Every transport failure, and a call cancelled other than by the caller's token, surfaces as an
/// <see cref="IOException"/> naming the peer.
/// </summary>
/// <typeparam name="TSend">What this end sends (an engine record).</typeparam>
/// <typeparam name="TReceive">What this end receives (an engine record).</typeparam>
/// <typeparam name="TSendWire">The protocol message sent.</typeparam>
/// <typeparam name="TReceiveWire">The protocol message received.</typeparam>
internal sealed class GrpcStreamChannel<TSend, TReceive, TSendWire, TReceiveWire> : IReplicationChannel<TSend, TReceive>
    where TSend : class
    where TReceive : class
{
    private readonly IAsyncStreamWriter<TSendWire> _writer;
    private readonly IAsyncStreamReader<TReceiveWire> _reader;
    private readonly Func<TSend, TSendWire> _toWire;
    private readonly Func<TReceiveWire, TReceive> _fromWire;
    private readonly Func<ValueTask> _close;
    private readonly string _peer;
    private readonly SemaphoreSlim _writing = new(1, 1);
    private int _disposed;

    /// <param name="writer">The call's outgoing half.</param>
    /// <param name="reader">The call's incoming half.</param>
    /// <param name="toWire">Record to message.</param>
    /// <param name="fromWire">Message to record.</param>
    /// <param name="close">Ends the call on disposal (the client completes its request stream and disposes the call; a server handler returns).</param>
    /// <param name="peer">The other end, for messages.</param>
    public GrpcStreamChannel(
        IAsyncStreamWriter<TSendWire> writer, IAsyncStreamReader<TReceiveWire> reader, Func<TSend, TSendWire> toWire, Func<TReceiveWire, TReceive> fromWire,
        Func<ValueTask> close, string peer)
    {
        _writer = writer;
        _reader = reader;
        _toWire = toWire;
        _fromWire = fromWire;
        _close = close;
        _peer = peer;
    }

    /// <inheritdoc />
    public async ValueTask SendAsync(TSend message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        TSendWire wire = _toWire(message);
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _writer.WriteAsync(wire, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsBroken(ex, cancellationToken))
        {
            throw Broken("sending to", ex);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// True: the call's writer serializes the message (its byte fields too) into the HTTP/2 stream's buffers before
    /// its write completes, so nothing of the message is referenced once <see cref="SendAsync"/> returned.
    /// </remarks>
    public bool CopiesOnSend => true;

    /// <inheritdoc />
    public async ValueTask<TReceive?> ReceiveAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            return await _reader.MoveNext(cancellationToken).ConfigureAwait(false) ? _fromWire(_reader.Current) : null;
        }
        catch (Exception ex) when (IsBroken(ex, cancellationToken))
        {
            throw Broken("receiving from", ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _close().ConfigureAwait(false);
        }
        finally
        {
            _writing.Dispose();
        }
    }

    // The caller's own cancellation stays an OperationCanceledException; anything else the transport throws means the stream broke.
    private static bool IsBroken(Exception ex, CancellationToken cancellationToken) =>
        ex is RpcException or IOException or InvalidOperationException or ObjectDisposedException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private IOException Broken(string doing, Exception ex) => ex is IOException io && ex.Message.Contains(_peer, StringComparison.Ordinal)
        ? io
        : new IOException($"The replication stream broke while {doing} {_peer}: {(ex is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : ex.Message)}", ex);
}

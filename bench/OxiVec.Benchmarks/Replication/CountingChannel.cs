using OxiVec.Replication;

namespace OxiVec.Benchmarks.Replication;

/// <summary>Messages that crossed the standbys' replication streams (every stream of a cluster adds to one count).</summary>
internal sealed class MessageCount
{
    private long _toPrimary;
    private long _fromPrimary;

    /// <summary>Messages the standbys sent (hello, progress reports).</summary>
    public long ToPrimary => Interlocked.Read(ref _toPrimary);

    /// <summary>Messages the standbys received (WAL batches, keepalives, epoch history).</summary>
    public long FromPrimary => Interlocked.Read(ref _fromPrimary);

    public void Sent() => Interlocked.Increment(ref _toPrimary);

    public void Received() => Interlocked.Increment(ref _fromPrimary);
}

/// <summary>A standby's end of a replication stream that counts the messages crossing it, and otherwise passes everything through.</summary>
internal sealed class CountingChannel(IReplicationChannel<StandbyMessage, PrimaryMessage> inner, MessageCount count) : IReplicationChannel<StandbyMessage, PrimaryMessage>
{
    public async ValueTask SendAsync(StandbyMessage message, CancellationToken cancellationToken)
    {
        await inner.SendAsync(message, cancellationToken).ConfigureAwait(false);
        count.Sent();
    }

    public async ValueTask<PrimaryMessage?> ReceiveAsync(CancellationToken cancellationToken)
    {
        PrimaryMessage? message = await inner.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        if (message is not null)
        {
            count.Received();
        }

        return message;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

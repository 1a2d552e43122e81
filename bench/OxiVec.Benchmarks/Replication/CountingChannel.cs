using System.Diagnostics;
using OxiVec.Replication;
using OxiVec.Wal;

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

    private long _shipMicros;
    private long _shipped;
    private long _standbyTicks;
    private long _standbyRounds;

    /// <summary>The stages of the rounds so far: summed microseconds and counts, for means over a window.</summary>
    public (long ShipMicros, long Shipped, long StandbyTicks, long StandbyRounds) Stages =>
        (Interlocked.Read(ref _shipMicros), Interlocked.Read(ref _shipped), Interlocked.Read(ref _standbyTicks), Interlocked.Read(ref _standbyRounds));

    public void Sent() => Interlocked.Increment(ref _toPrimary);

    public void Received() => Interlocked.Increment(ref _fromPrimary);

    /// <summary>A batch took <paramref name="micros"/> from the primary's send to the standby's receive (one wall clock: one process).</summary>
    public void Shipped(long micros)
    {
        Interlocked.Add(ref _shipMicros, micros);
        Interlocked.Increment(ref _shipped);
    }

    /// <summary>The standby took <paramref name="ticks"/> from receiving a batch to sending its report (verify, write, fsync).</summary>
    public void StandbyRound(long ticks)
    {
        Interlocked.Add(ref _standbyTicks, ticks);
        Interlocked.Increment(ref _standbyRounds);
    }
}

/// <summary>A standby's end of a replication stream that counts the messages crossing it, and otherwise passes everything through.</summary>
/// <remarks>
/// It also times two stages of a synchronous round: a batch's trip from the primary's send (its <see cref="WalBatch.SentUnixMicros"/>)
/// to the standby's receive, and the standby's time from receiving a batch (the first of a group it coalesces) to
/// sending its report (verify, WAL write, fsync). The rest of a commit's latency is the primary's: its write before
/// the send, the report's trip back, the commit gate and the writers' wake-up.
/// </remarks>
internal sealed class CountingChannel(IReplicationChannel<StandbyMessage, PrimaryMessage> inner, MessageCount count) : IReplicationChannel<StandbyMessage, PrimaryMessage>
{
    private long _receivedAt; // Stopwatch ticks of the first batch received since the last report; 0: none

    public async ValueTask SendAsync(StandbyMessage message, CancellationToken cancellationToken)
    {
        long receivedAt = message is StandbyProgress ? Interlocked.Exchange(ref _receivedAt, 0) : 0;
        if (receivedAt != 0)
        {
            count.StandbyRound(Stopwatch.GetTimestamp() - receivedAt);
        }

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

        if (message is WalBatch batch)
        {
            count.Shipped(WalRecord.ToMicros(DateTimeOffset.UtcNow) - batch.SentUnixMicros);
            _ = Interlocked.CompareExchange(ref _receivedAt, Stopwatch.GetTimestamp(), 0);
        }

        return message;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

using System.Threading.Channels;

namespace OxiVec.Replication.Grpc;

/// <summary>
/// Push mode on a standby: the primary dials the standby (<c>Receive</c>), but a <see cref="StandbyReceiver"/> asks
/// for streams through its connector. This hands each incoming stream to the receiver's next connect, and keeps the
/// call open until the receiver disposes the stream. A stream nobody takes within the timeout is refused.
/// </summary>
public sealed class PushedStreams
{
    private readonly Channel<Offer> _offers = Channel.CreateUnbounded<Offer>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly TimeSpan _takeTimeout;

    /// <summary>Creates the hand-over point.</summary>
    /// <param name="takeTimeout">How long an incoming stream waits for the receiver to take it (default 30 s).</param>
    public PushedStreams(TimeSpan? takeTimeout = null) => _takeTimeout = takeTimeout ?? TimeSpan.FromSeconds(30);

    /// <summary>The receiver's connector: waits for the primary's next stream.</summary>
    public ReplicationConnector<StandbyMessage, PrimaryMessage> Connector => TakeAsync;

    /// <summary>Offers an incoming stream to the receiver; completes when the receiver has disposed it or the call ended.</summary>
    /// <exception cref="TimeoutException">No receiver took it in time.</exception>
    public async Task ServeAsync(IReplicationChannel<StandbyMessage, PrimaryMessage> channel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var offer = new Offer(channel);
        await _offers.Writer.WriteAsync(offer, cancellationToken).ConfigureAwait(false);
        using var taking = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        taking.CancelAfter(_takeTimeout);
        try
        {
            await offer.Taken.Task.WaitAsync(taking.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (offer.Taken.TrySetCanceled(CancellationToken.None))
            {
                throw new TimeoutException($"No standby receiver took the pushed replication stream within {_takeTimeout.TotalSeconds:0} s.");
            }
        }
        catch (OperationCanceledException)
        {
            offer.Taken.TrySetCanceled(CancellationToken.None);
            throw;
        }

        await offer.Channel.Closed.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<IReplicationChannel<StandbyMessage, PrimaryMessage>> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Offer offer = await _offers.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (offer.Taken.TrySetResult())
            {
                return offer.Channel;
            }
        }
    }

    private sealed class Offer(IReplicationChannel<StandbyMessage, PrimaryMessage> channel)
    {
        public ClosingChannel Channel { get; } = new(channel);

        public TaskCompletionSource Taken { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The stream as handed to the receiver: disposing it ends the incoming call.</summary>
    private sealed class ClosingChannel(IReplicationChannel<StandbyMessage, PrimaryMessage> inner) : IReplicationChannel<StandbyMessage, PrimaryMessage>
    {
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Closed => _closed.Task;

        public ValueTask SendAsync(StandbyMessage message, CancellationToken cancellationToken) => inner.SendAsync(message, cancellationToken);

        public ValueTask<PrimaryMessage?> ReceiveAsync(CancellationToken cancellationToken) => inner.ReceiveAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            try
            {
                await inner.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                _closed.TrySetResult();
            }
        }
    }
}

using System.Threading.Channels;
using OxiVec.Replication;

namespace OxiVec.Tests.Replication;

/// <summary>
/// One in-memory replication stream: a primary end and a standby end over bounded channels (backpressure), with
/// test-controlled faults: progress held back at a valve, batches rewritten (corrupted) or cut mid-stream.
/// </summary>
internal sealed class InMemoryLink
{
    private readonly Channel<PrimaryMessage> _toStandby;
    private readonly Channel<StandbyMessage> _toPrimary = Channel.CreateBounded<StandbyMessage>(64);
    private readonly TaskCompletionSource _standbyGone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _copyOnSend;

    /// <param name="faults">The faults the test controls.</param>
    /// <param name="capacity">Messages the primary may send ahead of the standby's reads (the transport's window: gRPC's is megabytes).</param>
    /// <param name="copyOnSend">The primary's end copies each batch's frames as it sends it and says so (<see cref="IReplicationChannel{TSend, TReceive}.CopiesOnSend"/>), as gRPC's serialization does.</param>
    public InMemoryLink(LinkFaults? faults = null, int capacity = 4, bool copyOnSend = false)
    {
        _toStandby = Channel.CreateBounded<PrimaryMessage>(capacity);
        _copyOnSend = copyOnSend;
        Faults = faults ?? new LinkFaults();
        Primary = new PrimaryEnd(this);
        Standby = new StandbyEnd(this);
    }

    public LinkFaults Faults { get; }

    public IReplicationChannel<PrimaryMessage, StandbyMessage> Primary { get; }

    public IReplicationChannel<StandbyMessage, PrimaryMessage> Standby { get; }

    /// <summary>Breaks the stream: both ends see an IOException.</summary>
    public void Cut()
    {
        var broken = new IOException("the in-memory link was cut");
        _standbyGone.TrySetResult();
        _toStandby.Writer.TryComplete(broken);
        _toPrimary.Writer.TryComplete(broken);
    }

    private static async ValueTask<T?> Receive<T>(ChannelReader<T> reader, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException ex) when (ex.InnerException is IOException io)
        {
            throw new IOException(io.Message, io);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    private static async ValueTask Send<T>(ChannelWriter<T> writer, T message, CancellationToken cancellationToken)
    {
        try
        {
            await writer.WriteAsync(message, cancellationToken);
        }
        catch (ChannelClosedException ex)
        {
            throw new IOException("the in-memory link is closed", ex);
        }
    }

    private sealed class PrimaryEnd(InMemoryLink link) : IReplicationChannel<PrimaryMessage, StandbyMessage>
    {
        public bool CopiesOnSend => link._copyOnSend;

        public async ValueTask SendAsync(PrimaryMessage message, CancellationToken cancellationToken)
        {
            PrimaryMessage? rewritten = link.Faults.OnPrimarySend(message);
            if (rewritten is null)
            {
                link.Cut();
                throw new IOException("the in-memory link was cut mid-batch");
            }

            if (link._copyOnSend && rewritten is WalBatch batch)
            {
                rewritten = batch with { Frames = batch.Frames.ToArray() }; // what a serializing transport does before its send completes
            }

            await Send(link._toStandby.Writer, rewritten, cancellationToken);
        }

        public async ValueTask<StandbyMessage?> ReceiveAsync(CancellationToken cancellationToken)
        {
            StandbyMessage? message = await Receive(link._toPrimary.Reader, cancellationToken);
            if (message is StandbyProgress progress)
            {
                link.Faults.ProgressSeen?.Invoke(progress);
                // A held report is lost if the standby goes meanwhile (as on a network): the stream's end still shows.
                Task open = link.Faults.ProgressValve.WaitOpenAsync(cancellationToken);
                if (await Task.WhenAny(open, link._standbyGone.Task) != open)
                {
                    return null;
                }

                await open;
            }

            return message;
        }

        public ValueTask DisposeAsync()
        {
            link._toStandby.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class StandbyEnd(InMemoryLink link) : IReplicationChannel<StandbyMessage, PrimaryMessage>
    {
        public ValueTask SendAsync(StandbyMessage message, CancellationToken cancellationToken) => Send(link._toPrimary.Writer, message, cancellationToken);

        public ValueTask<PrimaryMessage?> ReceiveAsync(CancellationToken cancellationToken) => Receive(link._toStandby.Reader, cancellationToken);

        public ValueTask DisposeAsync()
        {
            link._standbyGone.TrySetResult();
            link._toPrimary.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>Faults a test injects into links (shared by every link of a harness's standby).</summary>
internal sealed class LinkFaults
{
    /// <summary>Progress reports reach the primary only while open.</summary>
    public Valve ProgressValve { get; } = new(open: true);

    /// <summary>Rewrites what the primary sends (return null to cut the link there); identity by default.</summary>
    public Func<PrimaryMessage, PrimaryMessage?> Rewrite { get; set; } = m => m;

    public PrimaryMessage? OnPrimarySend(PrimaryMessage message) => Rewrite(message);

    /// <summary>Sees every progress report as it reaches the primary, in order (null: nothing watches).</summary>
    public Action<StandbyProgress>? ProgressSeen { get; set; }
}

/// <summary>A gate a test opens and closes; waiters pass only while it is open.</summary>
internal sealed class Valve(bool open)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _opened = NewOpened(open);

    public void Open()
    {
        lock (_lock)
        {
            _opened.TrySetResult();
        }
    }

    public void Close()
    {
        lock (_lock)
        {
            if (_opened.Task.IsCompleted)
            {
                _opened = NewOpened(false);
            }
        }
    }

    public Task WaitOpenAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _opened.Task.WaitAsync(cancellationToken);
        }
    }

    private static TaskCompletionSource NewOpened(bool open)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            tcs.SetResult();
        }

        return tcs;
    }
}

using System.Diagnostics;
using OxiVec.Cluster;

namespace OxiVec.ClusterTests.History;

/// <summary>A leadership term as an observer saw it: the epoch, its node, and when the observer first saw it.</summary>
public sealed record LeaderTerm(long Epoch, string NodeId, TimeSpan ObservedAt);

/// <summary>
/// Every leader the coordinator had during a run, observed through a watch of the cluster's keys (each
/// <see cref="ClusterChangeKind.LeaderChanged"/> followed by a read of the leader key). Used to name the epoch of an
/// acknowledgement when the node does not report it, and to time failovers.
/// </summary>
public sealed class LeaderHistory : IAsyncDisposable
{
    private readonly Lock _sync = new();
    private readonly List<LeaderTerm> _terms = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;
    private readonly Stopwatch _clock;
    private string _error = "";

    /// <summary>Starts observing through <paramref name="coordinator"/>, timing on <paramref name="clock"/>.</summary>
    public LeaderHistory(EtcdCoordinator coordinator, Stopwatch clock)
    {
        _clock = clock;
        _watching = Task.Run(() => WatchAsync(coordinator, _stop.Token));
    }

    /// <summary>The terms seen so far, by epoch.</summary>
    public IReadOnlyList<LeaderTerm> Terms
    {
        get
        {
            lock (_sync)
            {
                return [.. _terms.OrderBy(t => t.Epoch)];
            }
        }
    }

    /// <summary>Why the watch stopped retrying, if it did.</summary>
    public string Error => _error;

    /// <summary>
    /// The epoch under which <paramref name="node"/> acknowledged at <paramref name="ackedAt"/>: its newest term
    /// observed by then, or within <paramref name="observationLag"/> after (the observer lags the node). Sound while
    /// a node's successive terms are further apart than that lag, as they are when a term ends by lease expiry (at least a TTL).
    /// </summary>
    public long EpochOf(string node, TimeSpan ackedAt, TimeSpan observationLag)
    {
        lock (_sync)
        {
            return _terms.Where(t => t.NodeId == node && t.ObservedAt <= ackedAt + observationLag).Select(t => t.Epoch).DefaultIfEmpty(0).Max();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _watching;
        _stop.Dispose();
    }

    private async Task WatchAsync(EtcdCoordinator coordinator, CancellationToken stop)
    {
        // A watch that breaks (etcd members killed) is resumed from the last revision read: nothing is missed once etcd answers again.
        long revision = 0;
        for (int attempt = 0; attempt < 10_000 && !stop.IsCancellationRequested; attempt++)
        {
            try
            {
                await ObserveAsync(coordinator, stop);
                await foreach (ClusterChange change in coordinator.WatchAsync(revision == 0 ? 0 : revision + 1, stop))
                {
                    revision = change.Revision;
                    if (change.Kind == ClusterChangeKind.LeaderChanged)
                    {
                        await ObserveAsync(coordinator, stop);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (CoordinatorUnavailableException e)
            {
                _error = e.Message;
                await Task.Delay(100, CancellationToken.None); // etcd is down: retry, bounded by the attempt count
            }
        }
    }

    private async Task ObserveAsync(EtcdCoordinator coordinator, CancellationToken stop)
    {
        if (await coordinator.GetLeaderAsync(stop) is { } leader)
        {
            lock (_sync)
            {
                if (!_terms.Any(t => t.Epoch == leader.Epoch))
                {
                    _terms.Add(new LeaderTerm(leader.Epoch, leader.NodeId, _clock.Elapsed));
                }
            }
        }
    }
}

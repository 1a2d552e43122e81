using System.Runtime.CompilerServices;
using System.Threading.Channels;
using OxiVec.Cluster;
using OxiVec.Hosting.Cluster;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>
/// An in-memory coordinator shared by the nodes of a test: one leader key bound to a lease, members, the sync set
/// and the switchover, with a revision that grows at every change (the epoch). Leases never expire by time: a test
/// expires the leader's on demand (<see cref="ExpireLeader"/>), so nothing depends on timing.
/// </summary>
internal sealed class FakeCluster
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, MemberState> _members = new(StringComparer.Ordinal);
    private readonly List<Channel<ClusterChange>> _watchers = [];
    private long _revision = 10;
    private long _nextLease = 1;
    private (LeaderInfo Info, long LeaseId)? _leader;
    private SyncState? _sync;
    private SwitchoverRequest? _switchover;
    private LeaderPosition? _position;

    /// <summary>The leader now, or null.</summary>
    public LeaderInfo? Leader
    {
        get
        {
            lock (_lock)
            {
                return _leader?.Info;
            }
        }
    }

    /// <summary>The published sync set.</summary>
    public SyncState? Sync
    {
        get
        {
            lock (_lock)
            {
                return _sync;
            }
        }

        set
        {
            lock (_lock)
            {
                _sync = value;
                Notify(ClusterChangeKind.SyncChanged);
            }
        }
    }

    /// <summary>The pending switchover.</summary>
    public SwitchoverRequest? Switchover
    {
        get
        {
            lock (_lock)
            {
                return _switchover;
            }
        }
    }

    /// <summary>The leader's lease expires now: its key is deleted (as etcd does when a lease runs out).</summary>
    public void ExpireLeader()
    {
        lock (_lock)
        {
            _leader = null;
            Notify(ClusterChangeKind.LeaderLost);
        }
    }

    /// <summary>A coordinator client for one node.</summary>
    public FakeCoordinator Client() => new(this);

    internal LeadershipLease? TryAcquire(LeaderInfo candidate, TimeSpan ttl)
    {
        lock (_lock)
        {
            if (_leader is not null)
            {
                return null;
            }

            LeaderInfo info = candidate with { Epoch = ++_revision };
            _leader = (info, _nextLease++);
            Notify(ClusterChangeKind.LeaderChanged);
            return new LeadershipLease(info, _leader.Value.LeaseId, ttl);
        }
    }

    internal bool Holds(LeadershipLease lease)
    {
        lock (_lock)
        {
            return _leader?.LeaseId == lease.LeaseId;
        }
    }

    internal void Resign(LeadershipLease lease)
    {
        lock (_lock)
        {
            if (_leader?.LeaseId == lease.LeaseId)
            {
                _leader = null;
                Notify(ClusterChangeKind.LeaderLost);
            }
        }
    }

    internal void Publish(MemberState state)
    {
        lock (_lock)
        {
            _members[state.NodeId] = state;
        }
    }

    /// <summary>Drops <paramref name="nodeId"/>'s member key, as etcd does when its lease expires.</summary>
    public void ExpireMember(string nodeId)
    {
        lock (_lock)
        {
            _members.Remove(nodeId);
        }
    }

    /// <summary>The last leader position recorded, or null.</summary>
    public LeaderPosition? Position
    {
        get
        {
            lock (_lock)
            {
                return _position;
            }
        }
    }

    internal bool SetPosition(LeaderPosition position, LeadershipLease lease)
    {
        lock (_lock)
        {
            if (_leader?.LeaseId != lease.LeaseId)
            {
                return false;
            }

            _position = position;
            return true;
        }
    }

    internal IReadOnlyList<MemberState> Members()
    {
        lock (_lock)
        {
            return [.. _members.Values];
        }
    }

    internal bool SetSync(SyncState state, LeadershipLease lease)
    {
        lock (_lock)
        {
            if (_leader?.LeaseId != lease.LeaseId)
            {
                return false;
            }

            _sync = state;
            Notify(ClusterChangeKind.SyncChanged);
            return true;
        }
    }

    internal void SetSwitchover(SwitchoverRequest? request)
    {
        lock (_lock)
        {
            _switchover = request;
            Notify(ClusterChangeKind.SwitchoverChanged);
        }
    }

    internal ChannelReader<ClusterChange> Watch()
    {
        var channel = Channel.CreateUnbounded<ClusterChange>();
        lock (_lock)
        {
            _watchers.Add(channel);
        }

        return channel.Reader;
    }

    private void Notify(ClusterChangeKind kind)
    {
        _revision++;
        foreach (Channel<ClusterChange> watcher in _watchers)
        {
            watcher.Writer.TryWrite(new ClusterChange(kind, _revision));
        }
    }
}

/// <summary>One node's client of a <see cref="FakeCluster"/>; <see cref="Unreachable"/> makes every call fail as an unreachable etcd does.</summary>
internal sealed class FakeCoordinator(FakeCluster cluster) : ICoordinator, ICoordinatorFactory
{
    private int _unreachable;

    /// <summary>While true, every call throws <see cref="CoordinatorUnavailableException"/>.</summary>
    public bool Unreachable
    {
        get => Volatile.Read(ref _unreachable) != 0;
        set => Volatile.Write(ref _unreachable, value ? 1 : 0);
    }

    public ICoordinator Create(ClusterOptions options) => this;

    public Task<LeadershipLease?> TryAcquireLeadershipAsync(LeaderInfo candidate, TimeSpan ttl, CancellationToken cancellationToken) =>
        Call(() => cluster.TryAcquire(candidate, ttl));

    public Task<LeaseRenewal> RenewAsync(LeadershipLease lease, CancellationToken cancellationToken) =>
        Call(() => cluster.Holds(lease) ? new LeaseRenewal(true, lease.Ttl) : new LeaseRenewal(false, TimeSpan.Zero));

    public Task ResignAsync(LeadershipLease lease, CancellationToken cancellationToken) => Call(() =>
    {
        cluster.Resign(lease);
        return true;
    });

    public Task<LeaderInfo?> GetLeaderAsync(CancellationToken cancellationToken) => Call(() => cluster.Leader);

    public Task PublishMemberAsync(MemberState state, TimeSpan ttl, CancellationToken cancellationToken) => Call(() =>
    {
        cluster.Publish(state);
        return true;
    });

    public Task<IReadOnlyList<MemberState>> GetMembersAsync(CancellationToken cancellationToken) => Call(cluster.Members);

    public Task<bool> SetSyncStateAsync(SyncState state, LeadershipLease lease, CancellationToken cancellationToken) => Call(() => cluster.SetSync(state, lease));

    public Task<SyncState?> GetSyncStateAsync(CancellationToken cancellationToken) => Call(() => cluster.Sync);

    public Task<bool> SetLeaderPositionAsync(LeaderPosition position, LeadershipLease lease, CancellationToken cancellationToken) => Call(() => cluster.SetPosition(position, lease));

    public Task<LeaderPosition?> GetLeaderPositionAsync(CancellationToken cancellationToken) => Call(() => cluster.Position);

    public Task SetSwitchoverAsync(SwitchoverRequest? request, CancellationToken cancellationToken) => Call(() =>
    {
        cluster.SetSwitchover(request);
        return true;
    });

    public Task<SwitchoverRequest?> GetSwitchoverAsync(CancellationToken cancellationToken) => Call(() => cluster.Switchover);

    public async IAsyncEnumerable<ClusterChange> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Unreachable)
        {
            throw new CoordinatorUnavailableException("The fake coordinator is unreachable.");
        }

        ChannelReader<ClusterChange> changes = cluster.Watch();
        await foreach (ClusterChange change in changes.ReadAllAsync(cancellationToken))
        {
            yield return change;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task<T> Call<T>(Func<T> call) =>
        Unreachable ? Task.FromException<T>(new CoordinatorUnavailableException("The fake coordinator is unreachable.")) : Task.FromResult(call());
}

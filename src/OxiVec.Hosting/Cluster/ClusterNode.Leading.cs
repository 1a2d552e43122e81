using Microsoft.Extensions.Logging;
using OxiVec.Cluster;
using OxiVec.Replication;

namespace OxiVec.Hosting.Cluster;

/// <summary>Leading: taking over, renewing the lease behind the write fence, the synchronous set, switchover, stepping down.</summary>
public sealed partial class ClusterNode
{
    private readonly Dictionary<string, long> _lastSeen = new(StringComparer.Ordinal); // node id -> when last seen (TimeProvider timestamp); control loop only
    private volatile Leadership? _leadership; // written by the control loop only; read by requests (WritesRefused)

    /// <summary>The lease held, its fence and its renewals; <see cref="Lost"/> is set by the renewal task.</summary>
    private sealed class Leadership(LeadershipLease lease, LeaseFence fence)
    {
        private string? _lost;

        public LeadershipLease Lease { get; } = lease;

        public LeaseFence Fence { get; } = fence;

        public CancellationTokenSource Renewals { get; } = new();

        public Task RenewLoop { get; set; } = Task.CompletedTask;

        /// <summary>The standbys the replicator's synchronous policy lists (and the published sync set).</summary>
        public IReadOnlyList<string> PolicyList { get; set; } = [];

        /// <summary>When a switchover began draining (a <see cref="TimeProvider"/> timestamp), or null.</summary>
        public long? SwitchoverSince { get; set; }

        /// <summary>Why leadership was lost (the coordinator said so), or null.</summary>
        public string? Lost => Volatile.Read(ref _lost);

        public void Lose(string reason)
        {
            Fence.Revoke(reason);
            Interlocked.CompareExchange(ref _lost, reason, null);
        }
    }

    /// <summary>Took the leader key: start renewing, publish the synchronous set, become the primary.</summary>
    private async Task TakeOverAsync(LeadershipLease lease, long sent, IReadOnlyList<MemberState> members, SyncState? sync, SwitchoverRequest? switchover, CancellationToken cancellationToken)
    {
        var fence = new LeaseFence(_time);
        fence.Renewed(sent, lease.Ttl); // the acquisition's grant counts from before it was sent
        var leadership = new Leadership(lease, fence);
        _leadership = leadership;
        leadership.RenewLoop = Task.Run(() => RenewAsync(leadership, leadership.Renewals.Token), CancellationToken.None);
        _logger.LogWarning("Cluster: this node ('{Node}') took the lead at epoch {Epoch}", NodeId, lease.Epoch);
        ObserveLeaderChange(lease.Leader);
        try
        {
            // Members of the previous set count as seen now: each gets a full grace before it may be removed.
            Seen(sync is null ? members.Select(m => m.NodeId) : [.. sync.Members, sync.Leader, .. members.Select(m => m.NodeId)]);
            IReadOnlyList<string> list = SyncCandidates();
            if (_options.Mode != ClusterReplicationMode.Async)
            {
                await PublishSyncSetAsync(leadership, list, cancellationToken).ConfigureAwait(false);
            }

            leadership.PolicyList = list;
            HoldIfTooFewStandbys(leadership);
            await _host.BecomePrimaryAsync(lease.Epoch, ReplicationFor(list), fence, cancellationToken).ConfigureAwait(false);
            _following = null;
            Update(s => s with { Leader = lease.Leader }); // writes are taken from now on (WriteRouting)
            if (switchover?.Target == NodeId)
            {
                await _coordinator!.SetSwitchoverAsync(null, cancellationToken).ConfigureAwait(false);
            }

            Decide($"leading at epoch {lease.Epoch}");
        }
        catch (Exception ex)
        {
            await StepDownAsync($"taking over failed: {ex.Message}").ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A step while leading: publish, keep the synchronous set up to date, act on a switchover.</summary>
    private async Task LeadStepAsync(Leadership leadership, CancellationToken cancellationToken)
    {
        if (leadership.Lost is { } lost)
        {
            await StepDownAsync(lost).ConfigureAwait(false);
            return;
        }

        ICoordinator coordinator = _coordinator!;
        MemberState self = await PublishSelfAsync(cancellationToken).ConfigureAwait(false);
        if (!await coordinator.SetLeaderPositionAsync(new LeaderPosition(NodeId, leadership.Lease.Epoch, self.FlushedLsn), leadership.Lease, cancellationToken).ConfigureAwait(false))
        {
            leadership.Lose("the coordinator refused the leader position: the lease is no longer held");
            await StepDownAsync(leadership.Lost!).ConfigureAwait(false);
            return;
        }

        IReadOnlyList<MemberState> members = await coordinator.GetMembersAsync(cancellationToken).ConfigureAwait(false);
        Seen(members.Select(m => m.NodeId));
        if (_options.Mode != ClusterReplicationMode.Async)
        {
            IReadOnlyList<string> list = SyncCandidates();
            if (!list.SequenceEqual(leadership.PolicyList, StringComparer.Ordinal))
            {
                // Published first, then counted: a standby's confirmations count only once the set naming it is published.
                leadership.Fence.Hold("the synchronous set is changing");
                IReadOnlyList<string> removed = [.. leadership.PolicyList.Except(list, StringComparer.Ordinal)];
                if (removed.Count > 0 && !await RemainingHoldEveryAcknowledgedWriteAsync(list, cancellationToken).ConfigureAwait(false))
                {
                    HoldIfTooFewStandbys(leadership);
                    Decide($"not removing {string.Join(", ", removed)} from the synchronous set yet: fewer than {Math.Min(_options.SyncStandbys, list.Count)} of the others ({string.Join(", ", list)}) have flushed every acknowledged write");
                }
                else
                {
                    await PublishSyncSetAsync(leadership, list, cancellationToken).ConfigureAwait(false);
                    await _host.ReplaceReplicatorAsync(ReplicationFor(list), leadership.Lease.Epoch, cancellationToken).ConfigureAwait(false);
                    leadership.PolicyList = list;
                    _logger.LogWarning(
                        "Cluster: the synchronous set is now {Set}{Removed}", string.Join(", ", list),
                        removed.Count > 0 ? $" ({string.Join(", ", removed)} removed: gone for more than {_options.MemberRemovalGraceSeconds} s)" : "");
                    HoldIfTooFewStandbys(leadership);
                }
            }
        }

        SyncState? sync = _options.Mode == ClusterReplicationMode.Async ? null : new SyncState(NodeId, leadership.Lease.Epoch, leadership.PolicyList);
        Update(s => s with { Self = self, Leader = leadership.Lease.Leader, Members = members, Sync = sync });
        await SwitchoverStepAsync(leadership, members, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A planned switchover: hold writes, wait until the target has flushed the last LSN, then resign.</summary>
    private async Task SwitchoverStepAsync(Leadership leadership, IReadOnlyList<MemberState> members, CancellationToken cancellationToken)
    {
        SwitchoverRequest? request = Fresh(await _coordinator!.GetSwitchoverAsync(cancellationToken).ConfigureAwait(false));
        Update(s => s with { Switchover = request });
        if (request is null || request.Target == NodeId)
        {
            if (request is not null)
            {
                await _coordinator.SetSwitchoverAsync(null, cancellationToken).ConfigureAwait(false); // it is this node already
            }

            if (leadership.SwitchoverSince is not null)
            {
                leadership.SwitchoverSince = null;
                HoldIfTooFewStandbys(leadership);
                Decide("the switchover request was withdrawn; writes resume");
            }

            return;
        }

        if (!members.Any(m => m.NodeId == request.Target))
        {
            Decide($"switchover to '{request.Target}' refused: it is not a live member");
            await _coordinator.SetSwitchoverAsync(null, cancellationToken).ConfigureAwait(false);
            return;
        }

        leadership.SwitchoverSince ??= _time.GetTimestamp();
        leadership.Fence.Hold($"a switchover to '{request.Target}' is in progress: writes wait for the new primary");
        ReplicationStatus? status = _host.Replicator?.GetStatus();
        StandbyStatus? target = status?.Standbys.FirstOrDefault(s => s.Name == request.Target);
        if (status is not null && target is { Connected: true } && target.FlushedLsn >= status.LastLsn)
        {
            Decide($"switchover: '{request.Target}' has flushed LSN {target.FlushedLsn} (the last is {status.LastLsn}); resigning to it");
            await StepDownAsync($"handed over to '{request.Target}' (switchover)").ConfigureAwait(false);
            return;
        }

        TimeSpan waited = _time.GetElapsedTime(leadership.SwitchoverSince.Value);
        TimeSpan limit = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, 2 * _options.LeaseTtl.Ticks));
        if (waited > limit)
        {
            Decide($"switchover to '{request.Target}' abandoned: it did not catch up within {limit.TotalSeconds} s (flushed {target?.FlushedLsn}, last {status?.LastLsn})");
            await _coordinator.SetSwitchoverAsync(null, cancellationToken).ConfigureAwait(false);
            leadership.SwitchoverSince = null;
            HoldIfTooFewStandbys(leadership);
            return;
        }

        Decide($"switchover to '{request.Target}': waiting until it has flushed LSN {status?.LastLsn} (it has {target?.FlushedLsn})");
    }

    /// <summary>Between renewals: half of what a grant keeps the fence open, (TTL - margin) / 2, at most TTL / 3: two tries per window.</summary>
    private TimeSpan RenewInterval => (_options.LeaseTtl - LeaseFence.Margin(_options.LeaseTtl)) / 2;

    /// <summary>Renews the lease every <see cref="RenewInterval"/>; each grant moves the fence's deadline; "not held" revokes it and wakes the loop.</summary>
    private async Task RenewAsync(Leadership leadership, CancellationToken cancellationToken)
    {
        bool failing = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RenewInterval, cancellationToken).ConfigureAwait(false);
                long sent = _time.GetTimestamp(); // before the request: the grant counts from here
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(RenewInterval);
                LeaseRenewal renewal = await _coordinator!.RenewAsync(leadership.Lease, timeout.Token).ConfigureAwait(false);
                if (!renewal.Held)
                {
                    _metrics?.RenewalFailed();
                    _logger.LogCritical("Cluster: the leadership lease (epoch {Epoch}) is no longer held: writes are refused, stepping down", leadership.Lease.Epoch);
                    leadership.Lose($"the leadership lease of epoch {leadership.Lease.Epoch} is no longer held");
                    WakeUp();
                    return;
                }

                leadership.Fence.Renewed(sent, renewal.GrantedTtl);
                if (failing)
                {
                    _logger.LogWarning("Cluster: the lease is renewed again; writes may be acknowledged");
                    failing = false;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _metrics?.RenewalFailed();
                if (!failing)
                {
                    _logger.LogError(ex, "Cluster: the lease could not be renewed ({Reason}); writes stop being acknowledged when it could have expired", ex.Message);
                    failing = true;
                }
            }
        }
    }

    /// <summary>Gives leadership up: the fence refuses writes at once, renewals stop, the key is resigned, the role closed.</summary>
    private async Task StepDownAsync(string reason)
    {
        if (_leadership is not { } leadership)
        {
            return;
        }

        _leadership = null;
        await EndLeadershipAsync(leadership, reason).ConfigureAwait(false);
        try
        {
            await _host.CloseRoleAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the host is stopping
        }

        _localPosition = LocalData.Position(_hostOptions.DataDirectory);
        _following = null;
        Decide($"stepped down: {reason}");
    }

    /// <summary>
    /// On stop: refuse writes, stop renewing and resign, so that another member takes over at once, and end the
    /// standbys' streams (they would hold the server's drain); the host then checkpoints and closes the database.
    /// </summary>
    private async Task LeaveAsync()
    {
        if (_leadership is { } leadership)
        {
            _leadership = null;
            await EndLeadershipAsync(leadership, "this node is stopping").ConfigureAwait(false);
            await _host.StopReplicatorAsync().ConfigureAwait(false);
        }
    }

    private async Task EndLeadershipAsync(Leadership leadership, string reason)
    {
        leadership.Fence.Revoke(reason);
        await leadership.Renewals.CancelAsync().ConfigureAwait(false);
        await leadership.RenewLoop.ConfigureAwait(false);
        leadership.Renewals.Dispose();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _coordinator!.ResignAsync(leadership.Lease, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Cluster: resigning the lease failed ({Reason}); it expires within its TTL", ex.Message);
        }

        _logger.LogWarning("Cluster: no longer the leader: {Reason}", reason);
    }

    private async Task PublishSyncSetAsync(Leadership leadership, IReadOnlyList<string> list, CancellationToken cancellationToken)
    {
        if (!await _coordinator!.SetSyncStateAsync(new SyncState(NodeId, leadership.Lease.Epoch, list), leadership.Lease, cancellationToken).ConfigureAwait(false))
        {
            leadership.Lose("the coordinator refused the synchronous set: the lease is no longer held");
            throw new InvalidOperationException("Leadership was lost while publishing the synchronous set.");
        }
    }

    /// <summary>In sync and quorum modes, refuses writes while fewer standbys are known than a commit needs (else lets the lease decide).</summary>
    private void HoldIfTooFewStandbys(Leadership leadership)
    {
        if (_options.Mode != ClusterReplicationMode.Async && leadership.PolicyList.Count < _options.SyncStandbys)
        {
            leadership.Fence.Hold(
                $"{_options.Replication} mode needs {_options.SyncStandbys} standby(s) to confirm each write; the cluster knows {leadership.PolicyList.Count} other member(s)");
        }
        else
        {
            leadership.Fence.Release();
        }
    }

    /// <summary>
    /// The standbys a commit may wait for: every other member this node has seen (live, in a published set, or its
    /// leader) within the last <see cref="ClusterOptions.MemberRemovalGraceSeconds"/>, by node id.
    /// </summary>
    private IReadOnlyList<string> SyncCandidates()
    {
        TimeSpan grace = TimeSpan.FromSeconds(_options.MemberRemovalGraceSeconds);
        long now = _time.GetTimestamp();
        return [.. _lastSeen.Where(p => p.Key != NodeId && _time.GetElapsedTime(p.Value, now) <= grace).Select(p => p.Key).Order(StringComparer.Ordinal)];
    }

    private void Seen(IEnumerable<string> nodeIds)
    {
        long now = _time.GetTimestamp();
        foreach (string id in nodeIds)
        {
            _lastSeen[id] = now;
        }
    }

    /// <summary>
    /// With writes held: whether at least n of <paramref name="remaining"/> (all of them when fewer) have flushed the
    /// primary's last LSN, so that dropping the others from the synchronous set cannot leave an acknowledged write
    /// only on a member that may no longer be promoted. Waits up to a step for their flush reports.
    /// </summary>
    private async Task<bool> RemainingHoldEveryAcknowledgedWriteAsync(IReadOnlyList<string> remaining, CancellationToken cancellationToken)
    {
        int needed = Math.Min(_options.SyncStandbys, remaining.Count);
        long deadline = _time.GetTimestamp();
        while (true)
        {
            if (_host.Replicator?.GetStatus() is not { } status)
            {
                return false;
            }

            int holding = status.Standbys.Count(s => remaining.Contains(s.Name, StringComparer.Ordinal) && s.FlushedLsn >= status.LastLsn);
            if (holding >= needed)
            {
                return true;
            }

            if (_time.GetElapsedTime(deadline) > Tick)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The replicator's options: the configured ones, with <c>FIRST n (...)</c> or <c>ANY n (...)</c> over <paramref name="list"/>.</summary>
    private ReplicationOptions ReplicationFor(IReadOnlyList<string> list)
    {
        ReplicationOptions options = _hostOptions.Replication.ToReplicationOptions();
        bool synchronous = _options.Mode != ClusterReplicationMode.Async && list.Count >= _options.SyncStandbys;
        string keyword = _options.Mode == ClusterReplicationMode.Quorum ? "ANY" : "FIRST";
        return options with { SynchronousStandbys = synchronous ? $"{keyword} {_options.SyncStandbys} ({string.Join(", ", list)})" : null };
    }

    /// <summary>A switchover request still worth acting on: younger than max(60 s, 6 TTL) by the wall clock, else ignored.</summary>
    private SwitchoverRequest? Fresh(SwitchoverRequest? request)
    {
        if (request is null)
        {
            return null;
        }

        long ageMs = _time.GetUtcNow().ToUnixTimeMilliseconds() - request.RequestedUnixMs;
        return ageMs <= Math.Max(60_000, 6_000L * _options.LeaseTtlSeconds) ? request : null;
    }
}

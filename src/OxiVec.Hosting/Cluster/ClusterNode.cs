using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OxiVec.Cluster;
using OxiVec.Hosting.Server;

namespace OxiVec.Hosting.Cluster;

/// <summary>
/// A cluster member's control loop (Patroni's role): registers this node with the coordinator, publishes its state
/// with its LSNs, and makes the database host lead or follow. One task runs the state machine step by step (every
/// TTL / 3, or at once when the coordinator's keys change); while it leads, a second task renews the lease and moves
/// the write fence. What it knows is published as one immutable <see cref="ClusterStatus"/>.
/// </summary>
public sealed partial class ClusterNode : IHostedService, IAsyncDisposable
{
    private readonly ClusterOptions _options;
    private readonly OxiVecOptions _hostOptions;
    private readonly OxiVecDatabaseHost _host;
    private readonly ICoordinatorFactory _factory;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly HttpClient _peers;
    private readonly ClusterMetrics? _metrics;
    private ClusterStatus _status;
    private ICoordinator? _coordinator;
    private Task _loop = Task.CompletedTask;
    private string _httpUrl = "";
    private string _grpcUrl = "";
    private (long Epoch, long Lsn) _localPosition;
    private (long Epoch, long Lsn) _leaderSeen; // the last leader position seen (control loop only): maximum lag on failover
    private LeaderInfo? _following;
    private (string NodeId, long Epoch)? _leaderObserved; // control loop only: counts leader changes
    private CancellationTokenRegistration _stoppingRegistration;
    private int _disposed;

    /// <summary>Creates the member; nothing runs until <see cref="StartAsync"/>.</summary>
    public ClusterNode(
        IOptions<OxiVecOptions> options, IOptions<ServerOptions> server, OxiVecDatabaseHost host, ICoordinatorFactory factory,
        IServiceProvider services, ILoggerFactory loggers, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(server);
        _hostOptions = options.Value;
        _options = _hostOptions.Cluster;
        _host = host ?? throw new ArgumentNullException(nameof(host));
        _factory = factory ?? throw new ArgumentNullException(nameof(factory));
        _services = services ?? throw new ArgumentNullException(nameof(services));
        _time = time ?? TimeProvider.System;
        _logger = (loggers ?? throw new ArgumentNullException(nameof(loggers))).CreateLogger<ClusterNode>();
        _peers = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        if ((server.Value.ApiKey ?? server.Value.ReadOnlyApiKey) is { } key)
        {
            _peers.DefaultRequestHeaders.Add("api-key", key);
        }

        _status = new ClusterStatus(_options.Name ?? "", SelfState(MemberRole.Starting), null, [], null, null, "starting", null, null);
        if (_options.IsEnabled && services.GetService(typeof(System.Diagnostics.Metrics.IMeterFactory)) is System.Diagnostics.Metrics.IMeterFactory meters)
        {
            _metrics = new ClusterMetrics(meters, _hostOptions.DataDirectory, () => Status);
        }
    }

    /// <summary>What this member knows now, as one value.</summary>
    public ClusterStatus Status => Volatile.Read(ref _status);

    /// <summary>The client that forwards writes to the primary (<c>WriteForwarding: proxy</c>).</summary>
    internal HttpClient Proxy { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>On the primary, why writes are refused at this instant (its fence), else null; elsewhere null.</summary>
    public string? WritesRefused => _leadership?.Fence.Check();

    /// <summary>This member's node id.</summary>
    public string NodeId => _options.NodeId ?? "";

    /// <summary>The cluster's options.</summary>
    public ClusterOptions Options => _options;

    /// <summary>The time between steps (and between renewals): TTL / 3.</summary>
    private TimeSpan Tick => TimeSpan.FromTicks(_options.LeaseTtl.Ticks / 3);

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.IsEnabled)
        {
            return Task.CompletedTask;
        }

        _coordinator = _factory.Create(_options);
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);

        // At the first sign of a stop (before the server drains its requests): a leader refuses writes, resigns and ends
        // its standbys' streams at once, so another member takes over now rather than after the drain.
        _stoppingRegistration = _services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => _stopping.Cancel());
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        await _stoppingRegistration.DisposeAsync().ConfigureAwait(false);
        if (_coordinator is not null)
        {
            await _coordinator.DisposeAsync().ConfigureAwait(false);
        }

        _peers.Dispose();
        Proxy.Dispose();
        _stopping.Dispose();
        _wake.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        Task watching = Task.CompletedTask;
        try
        {
            await WaitForServerAsync(cancellationToken).ConfigureAwait(false);
            (_httpUrl, _grpcUrl) = Advertised();
            _localPosition = await Task.Run(() => LocalData.Position(_hostOptions.DataDirectory), cancellationToken).ConfigureAwait(false);
            _logger.LogInformation(
                "Cluster '{Cluster}': node '{Node}' at {Http} (replication {Grpc}), {Mode}, lease TTL {Ttl} s; local log: epoch {Epoch}, LSN {Lsn}",
                _options.Name, NodeId, _httpUrl, _grpcUrl, _options.Mode, _options.LeaseTtlSeconds, _localPosition.Epoch, _localPosition.Lsn);
            watching = Task.Run(() => WatchAsync(cancellationToken), CancellationToken.None);
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await StepAsync(cancellationToken).ConfigureAwait(false);
                    Update(s => s with { LastError = null });
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    _logger.LogWarning(ex, "Cluster step failed: {Reason}", ex.Message);
                    Update(s => s with { LastError = ex.Message });
                }

                try
                {
                    await _wake.WaitAsync(Tick, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping before the server started
        }
        finally
        {
            await LeaveAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
        }
    }

    /// <summary>One step of the state machine: lead (renewals run apart), or read the leader and follow it, or elect.</summary>
    private async Task StepAsync(CancellationToken cancellationToken)
    {
        ICoordinator coordinator = _coordinator!;
        if (_leadership is { } leadership)
        {
            await LeadStepAsync(leadership, cancellationToken).ConfigureAwait(false);
            return;
        }

        LeaderInfo? leader = await coordinator.GetLeaderAsync(cancellationToken).ConfigureAwait(false);
        IReadOnlyList<MemberState> members = await coordinator.GetMembersAsync(cancellationToken).ConfigureAwait(false);
        MemberState self = await PublishSelfAsync(cancellationToken).ConfigureAwait(false);
        ObserveLeaderPositions(members);
        ObserveLeaderChange(leader);
        Update(s => s with { Self = self, Leader = leader, Members = members });
        if (leader is null)
        {
            await ElectAsync(members, cancellationToken).ConfigureAwait(false);
        }
        else if (leader.NodeId == NodeId)
        {
            // A leader key of this node's earlier run (killed and restarted within the TTL): wait until its lease expires.
            Decide($"the leader key names this node from an earlier run (epoch {leader.Epoch}); waiting for its lease to expire");
        }
        else
        {
            await FollowAsync(leader, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Follows <paramref name="leader"/>: (re)connects a standby to it unless this node already follows it.</summary>
    private async Task FollowAsync(LeaderInfo leader, CancellationToken cancellationToken)
    {
        if (_host.Role == NodeRole.Standby && _following == leader)
        {
            return;
        }

        _following = null;
        Decide($"following '{leader.NodeId}' (epoch {leader.Epoch}) at {leader.GrpcUrl}");
        _logger.LogWarning("Cluster: following the leader '{Leader}' (epoch {Epoch}) at {Grpc}", leader.NodeId, leader.Epoch, leader.GrpcUrl);
        try
        {
            await _host.BecomeStandbyAsync(NodeId, new Uri(leader.GrpcUrl), leader.HttpUrl, cancellationToken).ConfigureAwait(false);
            _following = leader;
        }
        catch when (!cancellationToken.IsCancellationRequested)
        {
            _localPosition = LocalData.Position(_hostOptions.DataDirectory);
            throw;
        }
    }

    /// <summary>Publishes this member's state (its role and positions) under its own lease.</summary>
    private async Task<MemberState> PublishSelfAsync(CancellationToken cancellationToken)
    {
        MemberState self = SelfState(_leadership is not null && _host.Role == NodeRole.Primary ? MemberRole.Primary : _host.Role == NodeRole.Standby ? MemberRole.Standby : MemberRole.Starting);
        await _coordinator!.PublishMemberAsync(self, _options.LeaseTtl, cancellationToken).ConfigureAwait(false);
        return self;
    }

    /// <summary>This member's state now: its role and its log's live position.</summary>
    internal MemberState SelfState(MemberRole role)
    {
        long epoch = _localPosition.Epoch, flushed = _localPosition.Lsn, applied = _localPosition.Lsn;
        if (_host.Standby is { } standby)
        {
            OxiVec.Replication.StandbyReceiverStatus status = standby.Status;
            (epoch, flushed, applied) = (status.Epoch, status.FlushedLsn, status.AppliedLsn);
        }
        else if (_host.Replicator is { } replicator)
        {
            OxiVec.Replication.ReplicationStatus status = replicator.GetStatus();
            (epoch, flushed, applied) = (status.Epoch, status.FlushedLsn, status.LastLsn);
        }

        return new MemberState(NodeId, role, _httpUrl, _grpcUrl, epoch, flushed, applied, _time.GetUtcNow().ToUnixTimeMilliseconds(), TimelineOf(flushed));
    }

    /// <summary>The epoch the record at <paramref name="lsn"/> belongs to by this node's epoch history; 0 (ranked lowest) when the history cannot be read just now (a base backup replacing the directory).</summary>
    private long TimelineOf(long lsn)
    {
        try
        {
            return OxiVec.Replication.EpochTimeline.Of(_hostOptions.DataDirectory, lsn);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            _logger.LogDebug(ex, "Cluster: the epoch history could not be read ({Reason}); publishing the root timeline", ex.Message);
            return 0;
        }
    }

    /// <summary>Remembers the newest leader position seen (the primary's published state, the position its stream reports): a newer epoch replaces it.</summary>
    private void ObserveLeaderPositions(IReadOnlyList<MemberState> members)
    {
        foreach (MemberState primary in members.Where(m => m.Role == MemberRole.Primary && m.NodeId != NodeId))
        {
            ObserveLeader(primary.Epoch, primary.FlushedLsn);
        }

        if (_host.Standby is { } standby)
        {
            OxiVec.Replication.StandbyReceiverStatus status = standby.Status;
            ObserveLeader(status.Epoch, status.PrimaryLastLsn);
        }
    }

    /// <summary>Counts a leader change: a leader other than the last one seen (node or epoch).</summary>
    private void ObserveLeaderChange(LeaderInfo? leader)
    {
        if (leader is not null && _leaderObserved != (leader.NodeId, leader.Epoch))
        {
            _leaderObserved = (leader.NodeId, leader.Epoch);
            _metrics?.LeaderChanged();
        }
    }

    private void ObserveLeader(long epoch, long lsn)
    {
        if (epoch > _leaderSeen.Epoch)
        {
            _leaderSeen = (epoch, lsn);
        }
        else if (epoch == _leaderSeen.Epoch && lsn > _leaderSeen.Lsn)
        {
            _leaderSeen = (epoch, lsn);
        }
    }

    /// <summary>This member's state now, with the role it would publish.</summary>
    internal MemberState CurrentState() =>
        SelfState(_leadership is not null && _host.Role == NodeRole.Primary ? MemberRole.Primary : _host.Role == NodeRole.Standby ? MemberRole.Standby : MemberRole.Starting);

    private void Decide(string decision)
    {
        if (Status.LastDecision != decision)
        {
            _logger.LogInformation("Cluster: {Decision}", decision);
        }

        Update(s => s with { LastDecision = decision });
    }

    private void Update(Func<ClusterStatus, ClusterStatus> change)
    {
        while (true)
        {
            ClusterStatus current = Volatile.Read(ref _status);
            ClusterStatus next = change(current) with { Fence = _leadership?.Fence.Check() };
            if (Interlocked.CompareExchange(ref _status, next, current) == current)
            {
                return;
            }
        }
    }

    /// <summary>Wakes the loop early when the coordinator's keys change (the leader lost, a switchover asked).</summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (ClusterChange change in _coordinator!.WatchAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (change.Kind is ClusterChangeKind.LeaderLost or ClusterChangeKind.LeaderChanged or ClusterChangeKind.SwitchoverChanged)
                    {
                        WakeUp();
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogDebug(ex, "Cluster watch broke; watching again");
            }

            try
            {
                await Task.Delay(Tick, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void WakeUp()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // woken already
        }
        catch (ObjectDisposedException)
        {
            // stopped
        }
    }

    private async Task WaitForServerAsync(CancellationToken cancellationToken)
    {
        IHostApplicationLifetime lifetime = _services.GetRequiredService<IHostApplicationLifetime>();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The addresses other members and clients reach this node at: the advertised ones, else the bound ones.</summary>
    private (string Http, string Grpc) Advertised()
    {
        string? http = _options.AdvertiseHttp;
        if (http is null)
        {
            string? grpcBound = _services.GetService<GrpcListener>()?.Address;
            http = _services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
                .FirstOrDefault(a => grpcBound is null || new Uri(a).Port != new Uri(grpcBound).Port);
        }

        string? grpc = _options.AdvertiseGrpc ?? _services.GetService<GrpcListener>()?.Address;
        return (
            (http ?? throw new InvalidOperationException($"{ClusterOptions.SectionName}:{nameof(ClusterOptions.AdvertiseHttp)}: the REST address is not known; set it.")).TrimEnd('/'),
            (grpc ?? throw new InvalidOperationException($"{ClusterOptions.SectionName}: a cluster member needs a gRPC replication endpoint (--grpc HOST:PORT).")).TrimEnd('/'));
    }
}

using System.Diagnostics;
using OxiVec.Cluster;
using OxiVec.ClusterTests.History;

namespace OxiVec.ClusterTests.Infrastructure;

/// <summary>
/// etcd (1 or 3 members) and N real <c>oxivec serve</c> nodes of one cluster, an observer (an <see cref="EtcdCoordinator"/>
/// reading the leader key), the leader history, and writers recording a client history. Everything is stopped by
/// process id on dispose.
/// </summary>
public sealed class FailoverCluster : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _directory;
    private readonly List<ClusterNodeProcess> _nodes = [];
    private CancellationTokenSource? _writing;
    private Task? _writers;

    private FailoverCluster(TempDirectory directory, EtcdCluster etcd, string name, AckMode mode, int leaseTtlSeconds)
    {
        _directory = directory;
        Etcd = etcd;
        Name = name;
        Mode = mode;
        LeaseTtl = TimeSpan.FromSeconds(leaseTtlSeconds);
        Observer = Coordinators.Create(etcd.ClientUrls, name, TimeSpan.FromSeconds(1));
        Leaders = new LeaderHistory(Observer, Clock);
    }

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public EtcdCluster Etcd { get; }

    public string Name { get; }

    public AckMode Mode { get; }

    public TimeSpan LeaseTtl { get; }

    public IReadOnlyList<ClusterNodeProcess> Nodes => _nodes;

    public EtcdCoordinator Observer { get; }

    public LeaderHistory Leaders { get; }

    public WriteHistory History { get; } = new();

    public ClusterWriter Writer { get; private set; } = null!;

    /// <summary>Everything etcd and the nodes printed last, for failure messages.</summary>
    public string Output => Etcd.Output + "\n" + string.Join('\n', _nodes.Select(n => n.Output));

    /// <summary>Starts etcd and <paramref name="nodes"/> nodes in <paramref name="mode"/>, waits for a primary and creates the collection.</summary>
    public static async Task<FailoverCluster> StartAsync(AckMode mode, int nodes = 3, int etcdMembers = 1, int leaseTtlSeconds = 2)
    {
        var directory = new TempDirectory();
        EtcdCluster etcd = await EtcdCluster.StartAsync(etcdMembers);
        var cluster = new FailoverCluster(directory, etcd, Coordinators.NewClusterName(), mode, leaseTtlSeconds);
        try
        {
            for (int i = 0; i < nodes; i++)
            {
                string id = ((char)('a' + i)).ToString();
                cluster._nodes.Add(await ClusterNodeProcess.StartAsync(
                    id, directory.Sub(id), etcd.Endpoints, cluster.Name, Patience,
                    "--replication", mode.ToString().ToLowerInvariant(), "--lease-ttl", leaseTtlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--sync-interval-ms", "0")); // every commit fsynced before it is acknowledged, on the primary and on the standbys
            }

            cluster.Writer = new ClusterWriter(cluster._nodes.ToDictionary(n => n.NodeId, n => n.HttpUrl), cluster.History, cluster.Clock);
            using var patience = new CancellationTokenSource(Patience);
            await cluster.Writer.CreateCollectionAsync(patience.Token);
            await cluster.WaitForStandbysHoldingTheSetupAsync(nodes - 1);
            return cluster;
        }
        catch (Exception e)
        {
            string output = cluster.Output;
            await cluster.DisposeAsync();
            throw new InvalidOperationException($"the cluster did not start: {e.Message}\n{output}", e);
        }
    }

    public ClusterNodeProcess Node(string id) => _nodes.Single(n => n.NodeId == id);

    /// <summary>
    /// The node the coordinator names as leader, waiting (bounded) until there is one that is not <paramref name="except"/>
    /// and whose epoch is at least <paramref name="minEpoch"/> (a killed leader's key lives until its lease expires).
    /// </summary>
    public async Task<(ClusterNodeProcess Node, long Epoch)> WaitForLeaderAsync(string? except = null, long minEpoch = 0)
    {
        using var patience = new CancellationTokenSource(Patience);
        for (int attempt = 0; attempt < 1_000; attempt++)
        {
            try
            {
                if (await Observer.GetLeaderAsync(patience.Token) is { } leader && leader.NodeId != except && leader.Epoch >= minEpoch)
                {
                    return (Node(leader.NodeId), leader.Epoch);
                }
            }
            catch (CoordinatorUnavailableException)
            {
            }

            await Task.Delay(50, patience.Token); // an election has no event a test could wait on but the watch; polling the key is bounded
        }

        throw new TimeoutException($"no leader other than {except ?? "none"} with an epoch of at least {minEpoch} was elected:\n{Output}");
    }

    /// <summary>Waits (bounded) until <paramref name="nodeId"/> publishes itself as a standby that has seen epoch <paramref name="minEpoch"/>.</summary>
    public Task<MemberState> WaitForStandbyAsync(string nodeId, long minEpoch) =>
        WaitForMembersAsync(
            members => members.FirstOrDefault(m => m.NodeId == nodeId) is { } member
                ? (member.Role == MemberRole.Standby && member.Epoch >= minEpoch ? member : null, member.ToString())
                : (null, "not published"),
            $"node {nodeId} did not publish itself as a standby of epoch {minEpoch} or later");

    /// <summary>
    /// Waits (bounded) until <paramref name="standbys"/> standbys have flushed the collection's creation. The setup is
    /// not part of what a test measures: in async mode a primary killed before any standby received its first records
    /// loses them by design (asynchronous replication), the collection with them, and the writers could never write again.
    /// </summary>
    private Task<IReadOnlyList<MemberState>> WaitForStandbysHoldingTheSetupAsync(int standbys) =>
        WaitForMembersAsync(
            members => (members.Count(m => m.Role == MemberRole.Standby && m.FlushedLsn >= 1) >= standbys ? members : null, string.Join("; ", members)),
            $"{standbys} standbys did not publish that they hold the collection's creation");

    /// <summary>
    /// Polls the published member states (bounded in count and by <see cref="Patience"/>) until <paramref name="check"/>
    /// finds what it waits for; it also describes what it saw, for the timeout's message.
    /// </summary>
    private async Task<T> WaitForMembersAsync<T>(Func<IReadOnlyList<MemberState>, (T? Found, string Seen)> check, string failure)
        where T : class
    {
        using var patience = new CancellationTokenSource(Patience);
        string last = "not published";
        for (int attempt = 0; attempt < 1_000 && !patience.IsCancellationRequested; attempt++)
        {
            try
            {
                (T? found, last) = check(await Observer.GetMembersAsync(patience.Token));
                if (found is not null)
                {
                    return found;
                }
            }
            catch (CoordinatorUnavailableException e)
            {
                last = e.Message;
            }
            catch (OperationCanceledException) when (patience.IsCancellationRequested)
            {
                break;
            }

            await Task.Delay(100, CancellationToken.None); // a member's state is published periodically: polled, bounded
        }

        throw new TimeoutException($"{failure} (last: {last}):\n{Output}");
    }

    /// <summary>Starts <paramref name="writers"/> writers (until <see cref="StopWritersAsync"/>).</summary>
    public void StartWriters(int writers)
    {
        _writing = new CancellationTokenSource();
        _writers = Writer.RunAsync(writers, _writing.Token);
    }

    public async Task StopWritersAsync()
    {
        if (_writing is not null)
        {
            await _writing.CancelAsync();
            await _writers!;
            _writing.Dispose();
            _writing = null;
        }
    }

    /// <summary>The first acknowledgement matching <paramref name="match"/>; fails with the cluster's output after the patience.</summary>
    public async Task<WriteAck> WaitForAckAsync(Func<WriteAck, bool> match, string what)
    {
        try
        {
            return await History.WaitForAckAsync(match, Patience, what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{Output}", e);
        }
    }

    /// <summary>
    /// Stops the writers, reads every written id from the leader, fills in the epochs the nodes did not report, and checks the history.
    /// </summary>
    public async Task<HistoryVerdict> CheckAsync()
    {
        await StopWritersAsync();
        (ClusterNodeProcess primary, long epoch) = await WaitForLeaderAsync();
        using var patience = new CancellationTokenSource(Patience);
        Dictionary<long, string> content = await Writer.ReadAllAsync(primary.HttpUrl, patience.Token);
        (ClusterNodeProcess after, long epochAfter) = await WaitForLeaderAsync();
        if ((after, epochAfter) != (primary, epoch))
        {
            throw new InvalidOperationException($"the leader changed from {primary.NodeId}@{epoch} to {after.NodeId}@{epochAfter} while the final content was read");
        }

        return HistoryChecker.Check(WithEpochs(), content, Mode, epoch);
    }

    public async ValueTask DisposeAsync()
    {
        await StopWritersAsync();
        await Leaders.DisposeAsync();
        foreach (ClusterNodeProcess node in _nodes)
        {
            await node.DisposeAsync();
        }

        Writer?.Dispose();
        await Observer.DisposeAsync();
        await Etcd.DisposeAsync();
        _directory.Dispose();
    }

    /// <summary>The history with the epoch of every acknowledgement a node did not stamp, taken from the leader history.</summary>
    private WriteHistory WithEpochs()
    {
        (IReadOnlyList<WriteAttempt> attempts, IReadOnlyList<WriteAck> acks) = History.Snapshot();
        if (acks.All(a => a.Epoch != 0))
        {
            return History;
        }

        var filled = new WriteHistory();
        foreach (WriteAttempt attempt in attempts)
        {
            filled.Attempted(attempt);
        }

        foreach (WriteAck ack in acks)
        {
            filled.Acknowledged(ack.Epoch != 0 ? ack : ack with { Epoch = Leaders.EpochOf(ack.Node, ack.AckedAt, LeaseTtl / 2) });
        }

        return filled;
    }
}

using OxiVec.Cluster;

namespace OxiVec.ClusterTests.Infrastructure;

/// <summary>Coordinators for tests.</summary>
public static class Coordinators
{
    /// <summary>A fresh cluster name, so tests sharing one etcd never see each other's keys.</summary>
    public static string NewClusterName() => "t" + Guid.NewGuid().ToString("n")[..10];

    public static EtcdCoordinator Create(IEnumerable<Uri> endpoints, string cluster, TimeSpan? callTimeout = null) => new(new EtcdCoordinatorOptions
    {
        Endpoints = endpoints.ToList(),
        ClusterName = cluster,
        CallTimeout = callTimeout ?? TimeSpan.FromSeconds(2),
    });

    public static LeaderInfo Candidate(string node) => new(node, $"http://{node}.invalid:1", $"http://{node}.invalid:2");

    public static MemberState Member(string node, MemberRole role = MemberRole.Standby, long flushed = 0) =>
        new(node, role, $"http://{node}.invalid:1", $"http://{node}.invalid:2", 0, flushed, flushed, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>
    /// Watches <paramref name="coordinator"/>'s keys from <paramref name="fromRevision"/> until a change of <paramref name="kind"/>
    /// arrives for the <paramref name="occurrence"/>th time (at most <paramref name="patience"/>), and returns it.
    /// </summary>
    public static async Task<ClusterChange> WaitForChangeAsync(EtcdCoordinator coordinator, long fromRevision, ClusterChangeKind kind, TimeSpan patience, int occurrence = 1)
    {
        int seen = 0;
        using var deadline = new CancellationTokenSource(patience);
        try
        {
            await foreach (ClusterChange change in coordinator.WatchAsync(fromRevision, deadline.Token))
            {
                if (change.Kind == kind && ++seen == occurrence)
                {
                    return change;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
        }

        throw new TimeoutException($"No {kind} change from revision {fromRevision} within {patience.TotalSeconds} s.");
    }
}

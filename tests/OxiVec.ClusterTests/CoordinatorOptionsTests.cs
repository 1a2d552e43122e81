using OxiVec.Cluster;
using OxiVec.ClusterTests.Infrastructure;
using static OxiVec.ClusterTests.Infrastructure.Coordinators;

namespace OxiVec.ClusterTests;

/// <summary>Bad settings are refused naming the setting; an etcd nobody answers for is reported, never guessed.</summary>
public sealed class CoordinatorOptionsTests
{
    [Theory]
    [InlineData("", "c", 2000, "Endpoints")]
    [InlineData("https://127.0.0.1:2379", "c", 2000, "Endpoints")]
    [InlineData("http://127.0.0.1:2379", "", 2000, "ClusterName")]
    [InlineData("http://127.0.0.1:2379", "a/b", 2000, "ClusterName")]
    [InlineData("http://127.0.0.1:2379", "c", 10, "CallTimeout")]
    [InlineData("http://127.0.0.1:2379", "c", 120000, "CallTimeout")]
    public void NewCoordinator_WithABadSetting_ThrowsNamingIt(string endpoint, string cluster, int timeoutMs, string setting)
    {
        var options = new EtcdCoordinatorOptions
        {
            Endpoints = endpoint.Length == 0 ? [] : [new Uri(endpoint)],
            ClusterName = cluster,
            CallTimeout = TimeSpan.FromMilliseconds(timeoutMs),
        };

        ArgumentException error = Assert.ThrowsAny<ArgumentException>(() => new EtcdCoordinator(options));

        Assert.StartsWith(setting + ":", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseEndpoints_ReadsACommaSeparatedList_AndNamesAnEntryThatIsNoUrl()
    {
        Assert.Equal([new Uri("http://127.0.0.1:1"), new Uri("http://127.0.0.1:2")], EtcdCoordinatorOptions.ParseEndpoints("http://127.0.0.1:1, http://127.0.0.1:2"));

        ArgumentException error = Assert.Throws<ArgumentException>(() => EtcdCoordinatorOptions.ParseEndpoints("http://127.0.0.1:1,localhost:2379"));

        Assert.Contains("'localhost:2379'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryCall_WhenNoEtcdAnswers_ThrowsCoordinatorUnavailableWithinItsDeadline()
    {
        int nobody = Os.FreePorts(1)[0];
        await using EtcdCoordinator coordinator = Create([new Uri($"http://127.0.0.1:{nobody}")], NewClusterName(), TimeSpan.FromMilliseconds(500));
        var lease = new LeadershipLease(Candidate("a") with { Epoch = 5 }, 1, TimeSpan.FromSeconds(5));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(20)); // a hang fails the test instead of the run

        Func<Task>[] calls =
        [
            () => coordinator.TryAcquireLeadershipAsync(Candidate("a"), TimeSpan.FromSeconds(5), bound.Token),
            () => coordinator.RenewAsync(lease, bound.Token),
            () => coordinator.ResignAsync(lease, bound.Token),
            () => coordinator.GetLeaderAsync(bound.Token),
            () => coordinator.PublishMemberAsync(Member("a"), TimeSpan.FromSeconds(5), bound.Token),
            () => coordinator.GetMembersAsync(bound.Token),
            () => coordinator.SetSyncStateAsync(new SyncState("a", 5, []), lease, bound.Token),
            () => coordinator.GetSyncStateAsync(bound.Token),
            () => coordinator.SetSwitchoverAsync(null, bound.Token),
            () => coordinator.GetSwitchoverAsync(bound.Token),
            async () =>
            {
                await foreach (ClusterChange change in coordinator.WatchAsync(bound.Token))
                {
                    Assert.Fail($"a watch of an unreachable etcd reported {change}");
                }
            },
        ];
        foreach (Func<Task> call in calls)
        {
            await Assert.ThrowsAsync<CoordinatorUnavailableException>(call);
        }

        Assert.False(bound.IsCancellationRequested);
    }
}

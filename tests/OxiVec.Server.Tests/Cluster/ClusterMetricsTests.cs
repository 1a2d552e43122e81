using System.Net;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>A member's role, epoch, leader changes and lease renewal failures on <c>/metrics</c>.</summary>
public sealed class ClusterMetricsTests
{
    [Fact]
    public async Task Primary_ExportsItsRoleEpochAndLeaderChange_AndCountsRenewalsThatFailWhileTheCoordinatorIsUnreachable()
    {
        var cluster = new FakeCluster();
        await using ClusterMember a = await ClusterMember.StartAsync(cluster, "a");
        await a.WaitUntilPrimaryAsync();
        await a.WaitUntilAsync(() => a.Node.Status.Self.Role == OxiVec.Cluster.MemberRole.Primary, "publishing the primary role");
        string scrape = await ScrapeAsync(a);
        Assert.Contains("oxivec_cluster_role{", scrape, StringComparison.Ordinal);
        Assert.Contains("role=\"primary\"", scrape, StringComparison.Ordinal);
        Assert.Matches(@"oxivec_cluster_epoch\{[^}]*\} [1-9]", scrape);
        Assert.Matches(@"oxivec_cluster_leader_changes_total\{[^}]*\} 1(\.0)?\b", scrape);
        Assert.DoesNotContain("oxivec_cluster_lease_renewal_failures_total{", scrape, StringComparison.Ordinal);

        a.Coordinator.Unreachable = true;
        for (int i = 0; i < 600 && !scrape.Contains("oxivec_cluster_lease_renewal_failures_total{", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
            scrape = await ScrapeAsync(a);
        }

        Assert.Matches(@"oxivec_cluster_lease_renewal_failures_total\{[^}]*\} [1-9]", scrape);
        a.Coordinator.Unreachable = false;
    }

    private static async Task<string> ScrapeAsync(ClusterMember member)
    {
        (HttpStatusCode status, string body, _) = await member.SendAsync(HttpMethod.Get, "/metrics");
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }
}

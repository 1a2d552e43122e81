using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

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

        // A renewal may already have failed (timed out on a loaded machine): count from what is exported now.
        double before = RenewalFailures(scrape);
        a.Coordinator.Unreachable = true;
        for (int i = 0; i < 600 && RenewalFailures(scrape) <= before; i++)
        {
            await Task.Delay(50);
            scrape = await ScrapeAsync(a);
        }

        Assert.True(RenewalFailures(scrape) > before, $"no renewal failure counted beyond the {before} before the coordinator became unreachable");
        a.Coordinator.Unreachable = false;
    }

    /// <summary>The exported renewal failure count (0 while the counter has not been exported).</summary>
    private static double RenewalFailures(string scrape)
    {
        Match match = Regex.Match(scrape, @"^oxivec_cluster_lease_renewal_failures_total\{[^}]*\} (\S+)", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    private static async Task<string> ScrapeAsync(ClusterMember member)
    {
        (HttpStatusCode status, string body, _) = await member.SendAsync(HttpMethod.Get, "/metrics");
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }
}

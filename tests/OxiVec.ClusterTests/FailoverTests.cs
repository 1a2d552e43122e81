using OxiVec.ClusterTests.History;
using OxiVec.ClusterTests.Infrastructure;
using Xunit.Abstractions;

namespace OxiVec.ClusterTests;

/// <summary>Real cluster nodes on one etcd: the primary SIGKILLed or SIGSTOPped under a write load, standbys killed; the client history checked after each run.</summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(AckMode.Sync, 2)]
    public async Task PrimaryKilledUnderWriteLoad_Repeatedly_KeepsEveryAcknowledgedWrite_AndNeverTwoPrimaries(AckMode mode, int kills)
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(mode);
        cluster.StartWriters(3);
        for (int kill = 0; kill < kills; kill++)
        {
            (ClusterNodeProcess primary, long epoch) = await cluster.WaitForLeaderAsync();
            TimeSpan since = cluster.Clock.Elapsed;
            await cluster.WaitForAckAsync(a => a.Node == primary.NodeId && a.StartedAt > since, $"by primary {primary.NodeId} (epoch {epoch})");
            TimeSpan killedAt = cluster.Clock.Elapsed;
            await primary.KillAsync();
            WriteAck first = await cluster.WaitForAckAsync(a => a.Node != primary.NodeId && a.StartedAt > killedAt, $"by a new primary after {primary.NodeId} was killed");
            output.WriteLine($"kill {kill + 1}: {primary.NodeId} (epoch {epoch}) killed; {first.Node} acknowledged {(first.AckedAt - killedAt).TotalMilliseconds:0} ms later");
            await primary.RestartAsync(FailoverCluster.Patience);
        }

        HistoryVerdict verdict = await cluster.CheckAsync();
        output.WriteLine(verdict.ToString());
        Assert.True(verdict.Violations.Count == 0, $"{verdict}\n{cluster.Output}");
        Assert.Empty(verdict.Lost);
    }
}

using System.Globalization;
using System.Net;
using OxiVec.Cluster;
using OxiVec.ClusterTests.History;
using OxiVec.ClusterTests.Infrastructure;
using Xunit.Abstractions;

namespace OxiVec.ClusterTests;

/// <summary>
/// Three real cluster nodes (<c>oxivec serve --cluster</c>, lease TTL 2 s, every commit fsynced) on one etcd member:
/// the primary SIGKILLed or SIGSTOPped under a write load, standbys killed and restarted; after each run the client
/// history is checked against the final primary (<see cref="HistoryChecker"/>). 20 primary kills per run in sync and quorum modes
/// (<c>OXIVEC_FAILOVER_KILLS</c> multiplies them).
/// </summary>
[Collection(ProcessHeavyGroup.Name)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Writers = 3;

    private static int Scale => int.TryParse(Environment.GetEnvironmentVariable("OXIVEC_FAILOVER_KILLS"), CultureInfo.InvariantCulture, out int scale) && scale > 1 ? scale : 1;

    [Theory]
    [InlineData(AckMode.Sync, 10)]
    [InlineData(AckMode.Quorum, 10)]
    [InlineData(AckMode.Async, 6)]
    public async Task PrimaryKilledUnderWriteLoad_Repeatedly_KeepsEveryAcknowledgedWrite_AndNeverTwoPrimaries(AckMode mode, int kills)
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(mode);
        cluster.StartWriters(Writers);
        long killedEpoch = 0;
        for (int kill = 0; kill < kills * Scale; kill++)
        {
            (ClusterNodeProcess primary, long epoch) = await cluster.WaitForLeaderAsync(minEpoch: killedEpoch + 1);
            TimeSpan since = cluster.Clock.Elapsed;
            await cluster.WaitForAckAsync(a => a.Node == primary.NodeId && a.StartedAt > since, $"by primary {primary.NodeId} (epoch {epoch})");
            await primary.KillAsync();
            TimeSpan killedAt = cluster.Clock.Elapsed; // the process has exited: any later acknowledgement is another term's
            killedEpoch = epoch;
            await primary.RestartAsync(FailoverCluster.Patience); // it rejoins (as a standby, or leads again when it is the newest eligible member)
            WriteAck first = await cluster.WaitForAckAsync(a => a.StartedAt > killedAt, $"after primary {primary.NodeId} (epoch {epoch}) was killed");
            output.WriteLine($"kill {kill + 1}: {primary.NodeId} (epoch {epoch}) killed; {first.Node} acknowledged {(first.AckedAt - killedAt).TotalMilliseconds:0} ms later");
        }

        HistoryVerdict verdict = await cluster.CheckAsync();
        output.WriteLine($"{mode}: {verdict}; terms: {string.Join(", ", cluster.Leaders.Terms.Select(t => $"{t.NodeId}@{t.Epoch}"))}");
        Assert.True(verdict.Violations.Count == 0, $"{verdict}\n{cluster.Output}");
        if (mode != AckMode.Async)
        {
            Assert.Empty(verdict.Lost);
        }
        else
        {
            // Async: what a deposed term lost (a tail, the checker says) spans no more than the maximum lag on failover
            // (4096 records, the default) plus the writes of the leader's last step before it died.
            foreach (IGrouping<(string Node, long Epoch), WriteAck> term in verdict.Lost.GroupBy(a => (a.Node, a.Epoch)))
            {
                long span = term.Max(a => a.Lsn) - term.Min(a => a.Lsn) + 1;
                Assert.True(span <= 4096, $"node {term.Key.Node} lost LSNs spanning {span} records of epoch {term.Key.Epoch}, more than the maximum lag on failover\n{verdict}");
            }
        }
    }

    [Fact]
    public async Task PrimaryPausedPastItsLease_AcknowledgesNothingAfterResuming_AndRejoinsAsAStandbyOfTheNewEpoch()
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(AckMode.Sync);
        cluster.StartWriters(Writers);
        (ClusterNodeProcess primary, long epoch) = await cluster.WaitForLeaderAsync();
        TimeSpan since = cluster.Clock.Elapsed;
        await cluster.WaitForAckAsync(a => a.Node == primary.NodeId && a.StartedAt > since, $"by primary {primary.NodeId}");

        await primary.PauseAsync();
        TimeSpan pausedAt = cluster.Clock.Elapsed;
        // Writes sent to the frozen primary itself wait in its socket; whatever it answers once resumed must not be an acknowledgement.
        Task<HttpStatusCode?>[] direct = [.. Enumerable.Range(0, 3).Select(_ => cluster.Writer.SendDirectAsync(primary.HttpUrl, TimeSpan.FromSeconds(60)))];
        (ClusterNodeProcess successor, long newEpoch) = await cluster.WaitForLeaderAsync(except: primary.NodeId);
        WriteAck taken = await cluster.WaitForAckAsync(a => a.Node == successor.NodeId && a.StartedAt > pausedAt, $"by the successor {successor.NodeId}");
        TimeSpan resumedAt = cluster.Clock.Elapsed;
        await primary.ResumeAsync();

        HttpStatusCode?[] answers = await Task.WhenAll(direct);
        MemberState rejoined = await cluster.WaitForStandbyAsync(primary.NodeId, newEpoch);
        TimeSpan after = cluster.Clock.Elapsed;
        await cluster.WaitForAckAsync(a => a.StartedAt > after, "after the deposed primary rejoined");
        HistoryVerdict verdict = await cluster.CheckAsync();

        output.WriteLine($"{primary.NodeId} (epoch {epoch}) paused {(resumedAt - pausedAt).TotalMilliseconds:0} ms; {successor.NodeId} leads epoch {newEpoch}, first ack {(taken.AckedAt - pausedAt).TotalMilliseconds:0} ms after the pause; direct writes answered {string.Join(", ", answers.Select(a => a?.ToString() ?? "nothing"))}; rejoined as {rejoined}; {verdict}");
        Assert.DoesNotContain(HttpStatusCode.OK, answers.OfType<HttpStatusCode>());
        Assert.DoesNotContain(cluster.History.Snapshot().Acks, a => a.Node == primary.NodeId && a.AckedAt > resumedAt);
        Assert.True(verdict.Violations.Count == 0, $"{verdict}\n{cluster.Output}");
        Assert.Empty(verdict.Lost);
    }

    [Fact]
    public async Task StandbysKilledAndRestarted_UnderWriteLoad_LoseNoAcknowledgedWrite_AndRejoin()
    {
        await using FailoverCluster cluster = await FailoverCluster.StartAsync(AckMode.Sync);
        cluster.StartWriters(Writers);
        (ClusterNodeProcess primary, long epoch) = await cluster.WaitForLeaderAsync();
        foreach (ClusterNodeProcess standby in cluster.Nodes.Where(n => n != primary).ToArray())
        {
            await cluster.WaitForStandbyAsync(standby.NodeId, epoch);
            await standby.KillAsync();
            TimeSpan killedAt = cluster.Clock.Elapsed;
            await cluster.WaitForAckAsync(a => a.StartedAt > killedAt, $"with standby {standby.NodeId} killed");
            await standby.RestartAsync(FailoverCluster.Patience);
            await cluster.WaitForStandbyAsync(standby.NodeId, epoch);
            TimeSpan back = cluster.Clock.Elapsed;
            await cluster.WaitForAckAsync(a => a.StartedAt > back, $"after standby {standby.NodeId} rejoined");
        }

        (ClusterNodeProcess leader, long finalEpoch) = await cluster.WaitForLeaderAsync();
        HistoryVerdict verdict = await cluster.CheckAsync();
        output.WriteLine(verdict.ToString());
        Assert.Equal((primary.NodeId, epoch), (leader.NodeId, finalEpoch));
        Assert.True(verdict.Violations.Count == 0, $"{verdict}\n{cluster.Output}");
        Assert.Empty(verdict.Lost);
    }
}

/// <summary>The multi-process failover classes run one after the other: each runs four or more processes on 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessHeavyGroup
{
    public const string Name = "failover";
}

using System.Collections.Concurrent;
using System.Globalization;
using OxiVec.CrashTests.Infrastructure;
using Xunit.Abstractions;

namespace OxiVec.CrashTests;

// The test cluster, not the namespace OxiVec.Cluster (the failover coordinator, referenced through OxiVec.Hosting).
using Cluster = OxiVec.CrashTests.Infrastructure.Cluster;

/// <summary>
/// Replication under SIGKILL, on real processes: a primary and two standbys (each behind a fault-injecting proxy),
/// writers upserting with <c>wait=true</c>; the primary is killed at random moments and restarted on its directory.
/// After each kill every acknowledged write is on as many standbys as the synchronous set requires; at the end every
/// standby's log is a prefix of the primary's and its export equals the primary's at the same LSN.
/// </summary>
public sealed class ReplicationKillTests(ITestOutputHelper output)
{
    /// <summary>Primary kills per mode; <c>OXIVEC_REPLICATION_KILLS</c> raises it for a soak run.</summary>
    private static readonly int Kills = int.TryParse(Environment.GetEnvironmentVariable("OXIVEC_REPLICATION_KILLS"), CultureInfo.InvariantCulture, out int kills) ? kills : 10;

    private static readonly int Seed = Random.Shared.Next();

    [Theory]
    [InlineData("FIRST 1 (a, b)", 1)]
    [InlineData("ANY 2 (a, b)", 2)]
    public async Task PrimaryKilledUnderWriteLoad_EveryAcknowledgedWriteIsOnTheRequiredStandbys_AndTheirLogsArePrefixes(string set, int required)
    {
        output.WriteLine($"seed {Seed}, {Kills} kills, synchronous standbys {set} at remote-flush");
        var random = new Random(Seed);
        await using Cluster cluster = await Cluster.StartAsync(["a", "b"], "--synchronous-standbys", set, "--ack-level", "remote-flush");
        using (HttpClient http = ClusterHttp.Client(cluster.Primary.Address))
        {
            await ClusterHttp.CreateCollectionAsync(http);
        }

        long nextId = 1;
        long totalAcked = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int kill = 0; kill < Kills; kill++)
        {
            var acked = new ConcurrentDictionary<long, long>();
            int killAfter = random.Next(5, 30);
            using var writersDone = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using HttpClient http = ClusterHttp.Client(cluster.Primary.Address);
            long firstId = nextId;
            nextId += 10_000;
            Task[] writers = [.. Enumerable.Range(0, 3).Select(w => WriteAsync(http, firstId + w * 3_000, 3_000, acked, writersDone.Token))];
            while (acked.Count < killAfter && !writers.All(t => t.IsCompleted))
            {
                await Task.WhenAny(Task.WhenAll(writers), Task.Delay(5));
            }

            await cluster.KillPrimaryAsync();
            await writersDone.CancelAsync();
            await Task.WhenAll(writers); // they end on the first failed request
            Assert.True(acked.Count >= killAfter || kill > 0, $"kill {kill}: only {acked.Count} writes were acknowledged before the kill");
            totalAcked += acked.Count;

            if (!acked.IsEmpty)
            {
                long maxLsn = acked.Values.Max();
                var holders = new Dictionary<long, int>();
                foreach (string standby in new[] { "a", "b" })
                {
                    using HttpClient standbyHttp = ClusterHttp.Client(cluster.Standby(standby).Address);
                    long flushed = (await ClusterHttp.ReplicationAsync(standbyHttp)).GetProperty("standby").GetProperty("flushed_lsn").GetInt64();
                    foreach (long id in await ClusterHttp.PresentAsync(standbyHttp, [.. acked.Keys], Math.Min(maxLsn, flushed)))
                    {
                        holders[id] = holders.GetValueOrDefault(id) + 1;
                    }
                }

                long[] short_ = [.. acked.Keys.Where(id => holders.GetValueOrDefault(id) < required).Order()];
                Assert.True(short_.Length == 0,
                    $"seed {Seed}, kill {kill}: {short_.Length} acknowledged writes are on fewer than {required} standbys, e.g. ids {string.Join(", ", short_.Take(10))} (LSNs {string.Join(", ", short_.Take(10).Select(id => acked[id]))})");
            }

            TimeSpan checkedAt = clock.Elapsed;
            await cluster.RestartPrimaryAsync();
            output.WriteLine($"kill {kill}: {acked.Count} acknowledged writes checked at {checkedAt.TotalSeconds:0.0} s, primary back at {clock.Elapsed.TotalSeconds:0.0} s");
        }

        output.WriteLine($"{Kills} kills, {totalAcked} acknowledged writes checked on the standbys");
        await AssertConvergedAsync(cluster, ["a", "b"]);
    }

    /// <summary>Writes one more point on the primary and waits until every standby exports exactly what the primary does at that LSN; then stops all and compares logs.</summary>
    internal static async Task AssertConvergedAsync(Cluster cluster, string[] standbys)
    {
        List<string> primaryExport;
        long lsn;
        using (HttpClient http = ClusterHttp.Client(cluster.Primary.Address))
        {
            lsn = await ClusterHttp.UpsertAsync(http, 1_000_000_000, CancellationToken.None);
            primaryExport = await ClusterHttp.ExportAsync(http, lsn);
        }

        foreach (string standby in standbys)
        {
            using HttpClient http = ClusterHttp.Client(cluster.Standby(standby).Address);
            List<string> export = await ClusterHttp.ExportAsync(http, lsn);
            Assert.True(primaryExport.SequenceEqual(export),
                $"standby {standby} at LSN >= {lsn} exports {export.Count} points, the primary {primaryExport.Count}; first difference: " +
                $"{primaryExport.Except(export).Concat(export.Except(primaryExport)).FirstOrDefault()}");
        }

        await cluster.StopAllAsync();
        foreach (string standby in standbys)
        {
            Assert.True(cluster.AssertStandbyLogIsPrefixOfPrimary(standby) >= lsn, $"standby {standby}'s log ends before LSN {lsn}");
        }
    }

    /// <summary>Upserts ids from <paramref name="firstId"/> one at a time, recording each acknowledged one with its LSN, until a request fails or <paramref name="count"/> are done.</summary>
    internal static async Task WriteAsync(HttpClient http, long firstId, int count, ConcurrentDictionary<long, long> acked, CancellationToken cancellationToken)
    {
        for (long id = firstId; id < firstId + count; id++)
        {
            try
            {
                acked[id] = await ClusterHttp.UpsertAsync(http, id, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
                return;
            }
        }
    }
}

using System.Collections.Concurrent;
using OxiVec.CrashTests.Infrastructure;
using Xunit.Abstractions;

namespace OxiVec.CrashTests;

// The test cluster, not the namespace OxiVec.Cluster (the failover coordinator, referenced through OxiVec.Hosting).
using Cluster = OxiVec.CrashTests.Infrastructure.Cluster;

/// <summary>
/// Catch-up on real processes: asynchronous standbys killed and restarted, their links cut mid-stream, stalled and
/// delayed, the process paused with SIGSTOP, while a writer runs; each one catches up with nothing missing or
/// duplicated (its log a gapless prefix of the primary's, its export the primary's). One cut off past the slot cap
/// gets a base backup and converges too.
/// </summary>
public sealed class ReplicationCatchUpTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StandbysKilledCutStalledAndPaused_UnderWriteLoad_CatchUpWithNothingMissingOrDuplicated()
    {
        await using Cluster cluster = await Cluster.StartAsync(["a", "b"]);
        using HttpClient http = ClusterHttp.Client(cluster.Primary.Address);
        await ClusterHttp.CreateCollectionAsync(http);
        var acked = new ConcurrentDictionary<long, long>();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        Task writer = ReplicationKillTests.WriteAsync(http, 1, 1_000_000, acked, stop.Token);
        async Task WaitForAcks(int more)
        {
            int target = acked.Count + more;
            while (acked.Count < target && !writer.IsCompleted)
            {
                await Task.WhenAny(writer, Task.Delay(5));
            }
        }

        for (int round = 0; round < 3; round++)
        {
            await WaitForAcks(50);
            await cluster.KillStandbyAsync("a");           // SIGKILL a standby mid-stream
            cluster.Link("b").CutAll();                     // reset b's stream mid-batch
            await WaitForAcks(50);
            await cluster.StartStandbyAsync("a");
            cluster.Link("b").Stall();                      // b's link holds bytes without closing
            cluster.Link("a").Delay(TimeSpan.FromMilliseconds(2));
            await WaitForAcks(50);
            cluster.Link("b").Flow();
            cluster.Link("a").Delay(TimeSpan.Zero);
            await cluster.Standby("b").SignalAsync("STOP"); // b stalls as a process
            await WaitForAcks(50);
            await cluster.Standby("b").SignalAsync("CONT");
        }

        await stop.CancelAsync();
        await writer;
        output.WriteLine($"{acked.Count} acknowledged writes; links cut {cluster.Link("a").Cuts + cluster.Link("b").Cuts} times");
        await ReplicationKillTests.AssertConvergedAsync(cluster, ["a", "b"]);
    }

    [Fact]
    public async Task StandbyCutOffPastTheSlotCap_GetsABaseBackup_AndConverges()
    {
        // 64 KiB segments: retention frees WAL in small steps, so the lost slot's WAL is really gone.
        string config = Cluster.ConfigFile("segments", """{"OxiVec": {"SegmentSizeBytes": 65536}}""");
        await using Cluster cluster = await Cluster.StartAsync(["a"], "--max-slot-wal-keep-size", "256KiB", "--config", config);
        using HttpClient http = ClusterHttp.Client(cluster.Primary.Address);
        await ClusterHttp.CreateCollectionAsync(http);
        var acked = new ConcurrentDictionary<long, long>();
        await ReplicationKillTests.WriteAsync(http, 1, 200, acked, CancellationToken.None);

        cluster.Link("a").Refuse(true);
        cluster.Link("a").CutAll();
        await ReplicationKillTests.WriteAsync(http, 1_000, 3_000, acked, CancellationToken.None); // far more than 256 KiB of WAL
        for (int i = 0; i < 8; i++)
        {
            await ClusterHttp.CheckpointAsync(http); // retention keeps the newest 7 checkpoints, then drops the WAL before them: the slot past the cap is invalidated
        }

        using (System.Text.Json.JsonDocument status = System.Text.Json.JsonDocument.Parse((await ClusterHttp.ReplicationAsync(http)).GetRawText()))
        {
            System.Text.Json.JsonElement a = status.RootElement.GetProperty("primary").GetProperty("standbys").EnumerateArray().Single();
            Assert.False(a.GetProperty("connected").GetBoolean());
            Assert.Equal(0, a.GetProperty("slot_retain_from_lsn").GetInt64()); // the slot was lost
        }

        cluster.Link("a").Refuse(false);

        // Once a write after the cut-off is readable on the standby, it has caught up: by a second base backup (its slot was lost).
        long lsn = await ClusterHttp.UpsertAsync(http, 999_999, CancellationToken.None);
        using (HttpClient standby = ClusterHttp.Client(cluster.Standby("a").Address))
        {
            Assert.Contains(999_999L, await ClusterHttp.PresentAsync(standby, [999_999L], lsn));
            Assert.Equal(2, (await ClusterHttp.ReplicationAsync(standby)).GetProperty("base_backups").GetInt32());
        }

        await ReplicationKillTests.AssertConvergedAsync(cluster, ["a"]);
    }
}

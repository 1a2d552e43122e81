using System.Net;
using OxiVec.ClusterTests.Infrastructure;
using OxiVec.Hosting;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>In-process cluster members on a real single-member etcd (started by the test on a free loopback port, stopped by process id).</summary>
public sealed class ClusterOnEtcdTests : IAsyncLifetime
{
    private EtcdCluster? _etcd;

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync(1);

    public async Task DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }

    [Fact]
    public async Task OnEtcd_OneMemberLeadsTheOtherFollowsAndRedirects_ClusterStatusShowsThem_AndWhenTheLeaderStopsTheStandbyTakesOverWithEveryAcknowledgedWrite()
    {
        string name = "t" + Guid.NewGuid().ToString("n")[..10];
        await using ClusterMember a = await ClusterMember.StartAsync(null, "a", mode: "sync", etcd: _etcd!.Endpoints, name: name);
        await using ClusterMember b = await ClusterMember.StartAsync(null, "b", mode: "sync", etcd: _etcd.Endpoints, name: name);
        await a.WaitUntilAsync(() => a.Host.Role == NodeRole.Primary || b.Host.Role == NodeRole.Primary, "an election");
        (ClusterMember primary, ClusterMember standby) = a.Host.Role == NodeRole.Primary ? (a, b) : (b, a);
        await primary.WaitUntilPrimaryAsync();
        await standby.WaitUntilFollowingAsync(primary);
        long epoch = primary.Node.Status.Leader!.Epoch;

        (HttpStatusCode redirected, _, HttpResponseMessage redirect) = await standby.SendAsync(HttpMethod.Put, "/collections/docs", ClusterMember.Collection);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirected);
        Assert.Equal(new Uri(primary.Address, "/collections/docs"), redirect.Headers.Location);

        await primary.WaitUntilAsync(() => primary.Host.Replicator?.GetStatus().Standbys.Any(s => s.Name == standby.NodeId && s.Connected) == true, "the standby connecting");
        (HttpStatusCode created, string error, _) = await primary.SendAsync(HttpMethod.Put, "/collections/docs", ClusterMember.Collection);
        Assert.True(created == HttpStatusCode.OK, error);
        for (int i = 1; i <= 5; i++)
        {
            (HttpStatusCode status, string body, _) = await primary.UpsertAsync(i); // sync: acknowledged once the standby flushed it
            Assert.True(status == HttpStatusCode.OK, body);
        }

        // oxivec cluster status reads the same from etcd directly.
        await primary.WaitUntilAsync(() => primary.Node.Status.Members.Count == 2, "both members published");
        (int exit, string output) = await RunCliAsync("cluster", "status", "--etcd", _etcd.Endpoints, "--cluster", name, "--json");
        Assert.True(exit == 0, output);
        using (var status = System.Text.Json.JsonDocument.Parse(output))
        {
            Assert.Equal(primary.NodeId, status.RootElement.GetProperty("leader").GetString());
            Assert.Equal(epoch, status.RootElement.GetProperty("epoch").GetInt64());
            Assert.Equal(["a", "b"], status.RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("node_id").GetString()));
        }

        await primary.StopAsync(); // a graceful stop resigns: the standby takes over without waiting for the TTL
        await standby.WaitUntilPrimaryAsync();
        Assert.True(standby.Node.Status.Leader!.Epoch > epoch);
        Assert.Equal(5, await standby.CountAsync());
    }

    /// <summary>Runs the real <c>oxivec</c> (the CLI's dll next to the tests) with <paramref name="arguments"/>, bounded to 60 s; its exit code and stdout (stderr after it).</summary>
    private static async Task<(int Exit, string Output)> RunCliAsync(params string[] arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "OxiVec.Cli.dll"));
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using System.Diagnostics.Process process = System.Diagnostics.Process.Start(info)!;
        try
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
    }
}

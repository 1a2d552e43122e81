namespace OxiVec.ClusterTests.Infrastructure;

/// <summary>
/// 1 or 3 real etcd members on free loopback ports, each with its own temp data directory, started by the test and
/// stopped by process id (SIGTERM, then SIGKILL after a bound: a member without quorum can ignore SIGTERM).
/// </summary>
public sealed class EtcdCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(3);
    private readonly TempDirectory _directory = new();
    private readonly string _etcd;
    private readonly string _initialCluster;
    private readonly string _token = "oxivec-" + Guid.NewGuid().ToString("n")[..12];

    private EtcdCluster(string etcd, int size)
    {
        _etcd = etcd;
        int[] ports = Os.FreePorts(2 * size);
        Members = Enumerable.Range(0, size).Select(i => new EtcdMember($"m{i}", ports[2 * i], ports[(2 * i) + 1], _directory.Sub($"m{i}"))).ToArray();
        _initialCluster = string.Join(',', Members.Select(m => $"{m.Name}={EtcdMember.Url(m.PeerUrl)}"));
    }

    public IReadOnlyList<EtcdMember> Members { get; }

    /// <summary>The members' client URLs.</summary>
    public IReadOnlyList<Uri> ClientUrls => Members.Select(m => m.ClientUrl).ToArray();

    /// <summary>The client URLs as <c>--etcd</c> takes them (comma-separated).</summary>
    public string Endpoints => string.Join(',', Members.Select(m => EtcdMember.Url(m.ClientUrl)));

    /// <summary>Everything the members printed last, for failure messages.</summary>
    public string Output => string.Join('\n', Members.Select(m => m.Output));

    /// <summary>Starts <paramref name="size"/> members (installing etcd first when missing) and waits until each is healthy.</summary>
    public static async Task<EtcdCluster> StartAsync(int size = 1)
    {
        string etcd = await InstalledTool.Etcd.EnsureAsync();
        var cluster = new EtcdCluster(etcd, size);
        try
        {
            foreach (EtcdMember member in cluster.Members)
            {
                member.Start(etcd, cluster._initialCluster, cluster._token);
            }

            foreach (EtcdMember member in cluster.Members)
            {
                await cluster.WaitHealthyAsync(member);
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILLs member <paramref name="index"/>.</summary>
    public Task KillMemberAsync(int index) => Members[index].KillAsync();

    /// <summary>Stops member <paramref name="index"/> (SIGTERM, SIGKILL after a bound).</summary>
    public Task StopMemberAsync(int index) => Members[index].StopAsync(StopGrace);

    /// <summary>Starts member <paramref name="index"/> again on its data directory and ports (it rejoins; it is not awaited healthy: alone it has no quorum).</summary>
    public void RestartMember(int index) => Members[index].Start(_etcd, _initialCluster, _token);

    /// <summary>Waits (bounded) until <paramref name="member"/> answers <c>/health</c> with a raft leader.</summary>
    public async Task WaitHealthyAsync(EtcdMember member)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var deadline = new CancellationTokenSource(StartPatience);
        string last = "";
        for (int attempt = 0; attempt < 600 && !deadline.IsCancellationRequested; attempt++)
        {
            if (!member.IsRunning)
            {
                throw new InvalidOperationException($"etcd member {member.Name} exited while starting:\n{member.Output}");
            }

            try
            {
                last = await http.GetStringAsync(new Uri(member.ClientUrl, "/health"), deadline.Token);
                if (last.Contains("\"health\":\"true\"", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }

            await Task.Delay(50, CancellationToken.None); // polling an external process's readiness: there is no event to wait on
        }

        throw new TimeoutException($"etcd member {member.Name} was not healthy within {StartPatience.TotalSeconds} s (last answer: {last}):\n{Output}");
    }

    /// <summary>Stops every member (SIGTERM, SIGKILL after a bound).</summary>
    public async Task StopAsync()
    {
        await Task.WhenAll(Members.Select(m => m.StopAsync(StopGrace)));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            foreach (EtcdMember member in Members)
            {
                member.DisposeProcess();
            }

            _directory.Dispose();
        }
    }
}

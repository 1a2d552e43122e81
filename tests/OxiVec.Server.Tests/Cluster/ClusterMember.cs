using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OxiVec.Hosting;
using OxiVec.Hosting.Cluster;
using OxiVec.Hosting.Server;

namespace OxiVec.Server.Tests.Cluster;

/// <summary>
/// One cluster member in this process: <c>oxivec serve --cluster</c>'s server (Kestrel on 127.0.0.1, free REST and gRPC
/// ports) over a temporary directory, with its own client of a <see cref="FakeCluster"/>. Disposing stops it and
/// deletes the directory.
/// </summary>
internal sealed class ClusterMember : IAsyncDisposable
{
    public const string Collection = """{"vectors": {"size": 3, "distance": "Dot"}}""";

    private readonly WebApplication _app;
    private bool _stopped;

    private readonly FakeCoordinator? _coordinator;

    private ClusterMember(WebApplication app, string nodeId, string directory, FakeCoordinator? coordinator)
    {
        _app = app;
        NodeId = nodeId;
        Directory = directory;
        _coordinator = coordinator;
        Address = new Uri(OxiVecServer.Addresses(app)[0]);
        Client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string NodeId { get; }

    public string Directory { get; }

    public Uri Address { get; }

    /// <summary>A client that does not follow redirects.</summary>
    public HttpClient Client { get; }

    /// <summary>This member's coordinator client (make it unreachable to partition the member from etcd).</summary>
    public FakeCoordinator Coordinator => _coordinator ?? throw new InvalidOperationException($"{NodeId} runs on a real etcd.");

    public ClusterNode Node => _app.Services.GetRequiredService<ClusterNode>();

    public OxiVecDatabaseHost Host => _app.Services.GetRequiredService<OxiVecDatabaseHost>();

    /// <summary>
    /// Starts member <paramref name="nodeId"/> of <paramref name="cluster"/> (lease TTL 3 s, fsync per commit); with
    /// <paramref name="etcd"/> (and a null cluster), of cluster <paramref name="name"/> on that real etcd instead.
    /// With <paramref name="coordinatorUnreachable"/>, its fake coordinator is unreachable before the node starts.
    /// </summary>
    public static async Task<ClusterMember> StartAsync(
        FakeCluster? cluster, string nodeId, string mode = "async", IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? clock = null,
        string? etcd = null, string name = "test", bool coordinatorUnreachable = false)
    {
        string directory = Path.Combine(Path.GetTempPath(), "oxivec-cluster-" + nodeId + "-" + Guid.NewGuid().ToString("N"));
        var overrides = new Dictionary<string, string?>
        {
            ["OxiVec:DataDirectory"] = directory,
            ["OxiVec:SyncIntervalMs"] = "0",
            ["OxiVec:Server:Http"] = "127.0.0.1:0",
            ["OxiVec:Server:Grpc"] = "127.0.0.1:0",
            ["OxiVec:Cluster:Name"] = name,
            ["OxiVec:Cluster:NodeId"] = nodeId,
            ["OxiVec:Cluster:Etcd"] = etcd ?? "http://127.0.0.1:9", // without etcd never dialed: the fake coordinator stands in
            ["OxiVec:Cluster:Replication"] = mode,
            ["OxiVec:Cluster:LeaseTtlSeconds"] = "3",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (KeyValuePair<string, string?> pair in settings ?? new Dictionary<string, string?>())
        {
            overrides[pair.Key] = pair.Value;
        }

        FakeCoordinator? coordinator = cluster?.Client();
        if (coordinator is not null && coordinatorUnreachable)
        {
            coordinator.Unreachable = true; // before the node starts: it never reaches the coordinator, so never leads
        }

        WebApplication app = OxiVecServer.Build([], null, overrides, services =>
        {
            if (coordinator is not null)
            {
                services.AddSingleton<ICoordinatorFactory>(coordinator);
            }

            if (clock is not null)
            {
                services.AddSingleton(clock);
            }
        });
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new ClusterMember(app, nodeId, directory, coordinator);
    }

    /// <summary>Waits (bounded, 30 s) until <paramref name="condition"/> holds; fails naming <paramref name="what"/> and this member's last decision.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (int i = 0; i < 600; i++)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"{NodeId}: {what} did not happen within 30 s; last decision: {Node.Status.LastDecision}; last error: {Node.Status.LastError}");
    }

    /// <summary>Waits until this member is the primary and takes writes.</summary>
    public Task WaitUntilPrimaryAsync() =>
        WaitUntilAsync(() => Host.Role == NodeRole.Primary && Node.Status.Leader?.NodeId == NodeId && Node.WritesRefused is null, "becoming the primary");

    /// <summary>Waits until this member follows <paramref name="primary"/> as a standby.</summary>
    public Task WaitUntilFollowingAsync(ClusterMember primary) =>
        WaitUntilAsync(() => Host.Role == NodeRole.Standby && Node.Status.Leader?.NodeId == primary.NodeId, $"following {primary.NodeId}");

    /// <summary>Sends <paramref name="method"/> <paramref name="path"/> with <paramref name="json"/>; the status, the error message and the response.</summary>
    public async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        HttpResponseMessage response = await Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
    }

    /// <summary>Upserts point <paramref name="id"/>; the answer's status and body.</summary>
    public Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> UpsertAsync(int id) =>
        SendAsync(HttpMethod.Put, "/collections/docs/points", $$"""{"points": [{"id": {{id.ToString(CultureInfo.InvariantCulture)}}, "vector": [{{id.ToString(CultureInfo.InvariantCulture)}}, 0, 1]}]}""");

    /// <summary>The number of points in <c>docs</c> on this member (read locally).</summary>
    public async Task<int> CountAsync()
    {
        (HttpStatusCode status, string body, _) = await SendAsync(HttpMethod.Post, "/collections/docs/points/count", "{}");
        Assert.True(status == HttpStatusCode.OK, $"{NodeId} count: {status} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("result").GetProperty("count").GetInt32();
    }

    /// <summary>Stops the member (a graceful stop: it resigns if it leads) and keeps its directory.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

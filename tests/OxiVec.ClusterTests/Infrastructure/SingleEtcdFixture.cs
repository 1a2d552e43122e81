using OxiVec.Cluster;

namespace OxiVec.ClusterTests.Infrastructure;

/// <summary>One etcd member shared by a test class; each test isolates itself under its own cluster name.</summary>
public sealed class SingleEtcdFixture : IAsyncLifetime
{
    private EtcdCluster? _etcd;

    public EtcdCluster Etcd => _etcd ?? throw new InvalidOperationException("etcd has not started.");

    public async Task InitializeAsync() => _etcd = await EtcdCluster.StartAsync(1);

    public async Task DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }

    /// <summary>A coordinator for <paramref name="cluster"/> on this etcd.</summary>
    public EtcdCoordinator Coordinator(string cluster, TimeSpan? callTimeout = null) => Coordinators.Create(Etcd.ClientUrls, cluster, callTimeout);
}

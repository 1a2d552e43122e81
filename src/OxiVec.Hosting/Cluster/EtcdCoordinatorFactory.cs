using Microsoft.Extensions.Logging;
using OxiVec.Cluster;

namespace OxiVec.Hosting.Cluster;

/// <summary>The default coordinator: etcd v3 at <see cref="ClusterOptions.Etcd"/>, keys under <c>/oxivec/{cluster}</c>, each call bounded by min(2 s, TTL / 3).</summary>
internal sealed class EtcdCoordinatorFactory(ILoggerFactory loggers) : ICoordinatorFactory
{
    public ICoordinator Create(ClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new EtcdCoordinator(new EtcdCoordinatorOptions
        {
            Endpoints = EtcdCoordinatorOptions.ParseEndpoints(options.Etcd ?? ""),
            ClusterName = options.Name ?? "",
            CallTimeout = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(2).Ticks, options.LeaseTtl.Ticks / 3)),
            Logger = loggers.CreateLogger<EtcdCoordinator>(),
        });
    }
}

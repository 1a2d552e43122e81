using OxiVec.Cluster;

namespace OxiVec.Hosting.Cluster;

/// <summary>Creates the coordinator a cluster member talks to (etcd by default; tests put an in-memory one here).</summary>
public interface ICoordinatorFactory
{
    /// <summary>A coordinator for <paramref name="options"/>' cluster; the caller disposes it.</summary>
    ICoordinator Create(ClusterOptions options);
}

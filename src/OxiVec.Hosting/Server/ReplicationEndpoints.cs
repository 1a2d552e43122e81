using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OxiVec.Hosting.Qdrant;
using OxiVec.Replication;

namespace OxiVec.Hosting.Server;

/// <summary>
/// <c>GET /oxivec/replication</c>: this node's replication as one consistent value, in Qdrant's envelope with
/// snake_case names. On a primary <c>{"role": "primary", "primary": ReplicationStatus}</c> (every standby's LSNs and
/// lag in bytes and milliseconds); on a standby <c>{"role": "standby", "standby": StandbyReceiverStatus}</c>; on a
/// primary without replication <c>{"role": "primary"}</c>. 503 until the database is open.
/// </summary>
public static class ReplicationStatusEndpoint
{
    /// <summary>The path.</summary>
    public const string Path = "/oxivec/replication";

    /// <summary>Maps the endpoint.</summary>
    public static IEndpointRouteBuilder MapOxiVecReplicationStatus(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(Path, (OxiVecDatabaseHost host) =>
        {
            long started = Stopwatch.GetTimestamp();
            _ = host.Database; // 503 until open
            return QdrantResponse.Ok(Describe(host), started);
        });
        return endpoints;
    }

    /// <summary>The node's replication state.</summary>
    public static NodeReplication Describe(OxiVecDatabaseHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return host.Standby is { } standby ? new NodeReplication("standby", null, standby.Status, host.Options.Replication.StandbyOf, standby.BaseBackups)
            : new NodeReplication("primary", host.Replicator?.GetStatus(), null, null, 0);
    }
}

/// <summary>The answer of <c>GET /oxivec/replication</c>.</summary>
/// <param name="Role"><c>primary</c> or <c>standby</c>.</param>
/// <param name="Primary">A replicating primary's status (null otherwise).</param>
/// <param name="Standby">A standby's status (null otherwise).</param>
/// <param name="StandbyOf">A standby's primary (null otherwise).</param>
/// <param name="BaseBackups">On a standby, base backups installed since it started (0 on a primary).</param>
public sealed record NodeReplication(string Role, ReplicationStatus? Primary, StandbyReceiverStatus? Standby, string? StandbyOf, int BaseBackups);

using System.Text.Json;

namespace OxiVec.Client;

public sealed partial class OxiVecClient
{
    /// <summary>Writes a checkpoint now (<c>POST /oxivec/checkpoint</c>; needs the read-write key). Never retried: each attempt writes one.</summary>
    public async Task<CheckpointResult> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Post, "oxivec/checkpoint", null, retrySafe: false, cancellationToken).ConfigureAwait(false);
        return result.Deserialize(ClientJsonContext.Default.CheckpointResult)!;
    }

    /// <summary>The WAL's figures (<c>GET /oxivec/wal/metrics</c>). Retried on transient failures.</summary>
    public async Task<WalMetricsReport> GetWalMetricsAsync(CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Get, "oxivec/wal/metrics", null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return result.Deserialize(ClientJsonContext.Default.WalMetricsReport)!;
    }

    /// <summary>The WAL's health check (<c>GET /oxivec/wal/health</c>). Retried on transient failures.</summary>
    public async Task<WalHealthResult> GetWalHealthAsync(CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Get, "oxivec/wal/health", null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return result.Deserialize(ClientJsonContext.Default.WalHealthResult)!;
    }

    /// <summary>What the server's open replayed and repaired (<c>GET /oxivec/recovery</c>). Retried on transient failures.</summary>
    public async Task<RecoveryReport> GetRecoveryAsync(CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Get, "oxivec/recovery", null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return result.Deserialize(ClientJsonContext.Default.RecoveryReport)!;
    }
}

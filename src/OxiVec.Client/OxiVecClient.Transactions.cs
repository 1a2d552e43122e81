using System.Globalization;
using System.Text.Json;

namespace OxiVec.Client;

/// <summary>
/// The participant calls of two-phase commit (<c>/oxivec/transactions</c>, see docs/transactions.md). Commit and
/// rollback are idempotent, so they are retried on transient failures; prepare is not (a lost answer may hide a
/// prepare that happened: ask <see cref="GetTransactionStateAsync"/>).
/// </summary>
public sealed partial class OxiVecClient
{
    /// <summary>
    /// Prepares the global transaction <paramref name="gid"/> (<c>POST /oxivec/transactions/{gid}/prepare</c>): the
    /// server validates the writes, makes the prepare durable (and confirmed by synchronous standbys), and reserves
    /// the points until commit or rollback. Never retried.
    /// </summary>
    /// <param name="gid">The global transaction id: 1 to 200 UTF-8 bytes, printable, without '/'; never reused on a server.</param>
    /// <param name="operations">The writes, at least one.</param>
    /// <param name="coordinatorId">Who decides the outcome, recorded with the prepare (shown to operators); null for none.</param>
    /// <param name="cancellationToken">Cancels the call (the prepare may still happen on the server).</param>
    /// <exception cref="OxiVecClientException">Refused: 400 bad input, 404 unknown collection or point, 409 a reserved point or a gid already known.</exception>
    public async Task<TransactionStatus> PrepareTransactionAsync(
        string gid, IEnumerable<TransactionWrite> operations, string? coordinatorId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        TransactionWrite[] list = [.. operations];
        if (list.Length == 0)
        {
            throw new ArgumentException("A transaction has at least one write.", nameof(operations));
        }

        JsonElement result = await SendAsync(HttpMethod.Post, TransactionPath(gid, "/prepare"), w =>
        {
            w.WriteStartObject();
            if (coordinatorId is not null)
            {
                w.WriteString("coordinator", coordinatorId);
            }

            w.WriteStartArray("operations");
            foreach (TransactionWrite operation in list)
            {
                ArgumentNullException.ThrowIfNull(operation, nameof(operations));
                operation.Write(w);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }, retrySafe: false, cancellationToken).ConfigureAwait(false);
        return ReadStatus(result);
    }

    /// <summary>
    /// Commits the prepared transaction <paramref name="gid"/> (<c>POST .../commit</c>). Idempotent, so retried on
    /// transient failures: committing a committed gid answers <see cref="TransactionState.Committed"/>.
    /// </summary>
    /// <exception cref="OxiVecClientException">404 the gid was never prepared there; 409 it was rolled back.</exception>
    public async Task<TransactionState> CommitPreparedAsync(string gid, CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Post, TransactionPath(gid, "/commit"), null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return ReadStatus(result).State;
    }

    /// <summary>
    /// Rolls back <paramref name="gid"/> (<c>POST .../rollback</c>). Idempotent, so retried on transient failures; a
    /// gid the server never prepared is recorded as rolled back (a late prepare of it then fails).
    /// </summary>
    /// <exception cref="OxiVecClientException">409 the gid is committed.</exception>
    public async Task<TransactionState> RollbackPreparedAsync(string gid, CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Post, TransactionPath(gid, "/rollback"), null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return ReadStatus(result).State;
    }

    /// <summary>The prepared (in-doubt) transactions, oldest first (<c>GET /oxivec/transactions</c>). Retried on transient failures.</summary>
    public async Task<IReadOnlyList<TransactionStatus>> ListPreparedAsync(CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Get, "oxivec/transactions", null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return [.. result.EnumerateArray().Select(ReadStatus)];
    }

    /// <summary>Where <paramref name="gid"/> stands on the server (<c>GET /oxivec/transactions/{gid}</c>). Retried on transient failures.</summary>
    public async Task<TransactionState> GetTransactionStateAsync(string gid, CancellationToken cancellationToken = default)
    {
        JsonElement result = await SendAsync(HttpMethod.Get, TransactionPath(gid, ""), null, retrySafe: true, cancellationToken).ConfigureAwait(false);
        return ReadStatus(result).State;
    }

    private static string TransactionPath(string gid, string action)
    {
        ArgumentException.ThrowIfNullOrEmpty(gid);
        if (gid.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException("A gid sent over HTTP cannot contain '/'.", nameof(gid));
        }

        return $"oxivec/transactions/{Uri.EscapeDataString(gid)}{action}";
    }

    private static TransactionStatus ReadStatus(JsonElement result)
    {
        string gid = result.GetProperty("gid").GetString() ?? "";
        TransactionState state = result.GetProperty("state").GetString() switch
        {
            "prepared" => TransactionState.Prepared,
            "committed" => TransactionState.Committed,
            "rolled_back" => TransactionState.RolledBack,
            "unknown" => TransactionState.Unknown,
            string other => throw new JsonException($"unknown transaction state '{other}'"),
            null => throw new JsonException("the transaction state is null"),
        };
        return new TransactionStatus(
            gid,
            state,
            Long(result, "prepare_lsn"),
            result.TryGetProperty("prepared_at", out JsonElement at) && at.ValueKind == JsonValueKind.String
                ? DateTimeOffset.Parse(at.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind)
                : null,
            Number(result, "age_seconds") is { } age ? TimeSpan.FromSeconds(age) : null,
            result.TryGetProperty("coordinator", out JsonElement c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null,
            Long(result, "operation_count") is { } count ? (int)count : null);
    }

    private static long? Long(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    private static double? Number(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
}

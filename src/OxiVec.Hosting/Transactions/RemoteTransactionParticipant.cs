using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using OxiVec.Client;
using OxiVec.Storage;

namespace OxiVec.Transactions;

/// <summary>
/// An <c>oxivec serve</c> node as a participant of a <see cref="TwoPhaseCommit"/>, over <see cref="OxiVecClient"/>
/// (<c>/oxivec/transactions/{gid}/prepare|commit|rollback</c>). It lives here rather than in OxiVec.Client because it
/// translates the engine's <see cref="TransactionOperation"/>s, and the client library does not depend on the engine.
/// </summary>
/// <remarks>
/// Record ids travel as Qdrant point ids, so they must be unsigned integers or UUIDs (a prepare with another id fails
/// before anything is sent: a "no" vote). Metadata travels as the JSON payload. A 404 or 409 to a commit, or a 409 to
/// a rollback, is the server's refusal (<see cref="PreparedTransactionException"/>, not resent); any other failure is
/// "no answer" and the coordinator resends. The client is not owned.
/// </remarks>
public sealed class RemoteTransactionParticipant : ITransactionParticipant
{
    private readonly OxiVecClient _client;

    /// <summary>The server behind <paramref name="client"/>, under <paramref name="name"/> (stable across restarts).</summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public RemoteTransactionParticipant(string name, OxiVecClient client)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(client);
        Name = name;
        _client = client;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public async ValueTask<PreparedTransaction> PrepareAsync(string gid, IReadOnlyList<TransactionOperation> operations, PrepareOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(options);
        TransactionWrite[] writes = [.. operations.Select((o, i) => ToWrite(o, i))];
        TransactionStatus status = await _client.PrepareTransactionAsync(gid, writes, options.CoordinatorId, cancellationToken).ConfigureAwait(false);
        return ToPrepared(status, operations);
    }

    /// <inheritdoc/>
    public async ValueTask<PreparedTransactionState> CommitPreparedAsync(string gid, CancellationToken cancellationToken)
    {
        try
        {
            return ToState(await _client.CommitPreparedAsync(gid, cancellationToken).ConfigureAwait(false));
        }
        catch (OxiVecClientException ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            PreparedTransactionState state = ex.StatusCode == HttpStatusCode.NotFound ? PreparedTransactionState.Unknown : PreparedTransactionState.RolledBack;
            throw new PreparedTransactionException(gid, state, $"Participant '{Name}' refused to commit '{gid}': {ex.Message}");
        }
    }

    /// <inheritdoc/>
    public async ValueTask<PreparedTransactionState> RollbackPreparedAsync(string gid, CancellationToken cancellationToken)
    {
        try
        {
            return ToState(await _client.RollbackPreparedAsync(gid, cancellationToken).ConfigureAwait(false));
        }
        catch (OxiVecClientException ex) when (ex.StatusCode is HttpStatusCode.Conflict)
        {
            throw new PreparedTransactionException(gid, PreparedTransactionState.Committed, $"Participant '{Name}' refused to roll back '{gid}': {ex.Message}");
        }
    }

    /// <inheritdoc/>
    /// <remarks>The server lists no operations: <see cref="PreparedTransaction.Operations"/> is empty.</remarks>
    public async ValueTask<IReadOnlyList<PreparedTransaction>> ListPreparedAsync(CancellationToken cancellationToken) =>
        [.. (await _client.ListPreparedAsync(cancellationToken).ConfigureAwait(false)).Select(s => ToPrepared(s, []))];

    /// <inheritdoc/>
    public async ValueTask<PreparedTransactionState> GetStateAsync(string gid, CancellationToken cancellationToken) =>
        ToState(await _client.GetTransactionStateAsync(gid, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static PreparedTransaction ToPrepared(TransactionStatus status, IReadOnlyList<TransactionOperation> operations) => new(
        status.Gid, ToState(status.State), status.PrepareLsn ?? 0, status.PreparedAt ?? DateTimeOffset.MinValue,
        status.OperationCount ?? operations.Count, status.Coordinator, operations);

    private static PreparedTransactionState ToState(TransactionState state) => state switch
    {
        TransactionState.Prepared => PreparedTransactionState.Prepared,
        TransactionState.Committed => PreparedTransactionState.Committed,
        TransactionState.RolledBack => PreparedTransactionState.RolledBack,
        _ => PreparedTransactionState.Unknown,
    };

    private static TransactionWrite ToWrite(TransactionOperation operation, int index)
    {
        PointId id;
        try
        {
            id = PointId.Parse(operation.Id);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"Operation {index}: record id '{operation.Id}' is neither an unsigned integer nor a UUID, so it cannot be a point id of a remote participant.", nameof(operation), ex);
        }

        if (operation.Kind == TransactionOperationKind.Delete)
        {
            return TransactionWrite.Delete(operation.Collection, id);
        }

        var point = new PointStruct(id, operation.Vector, Payload(operation.Metadata));
        return operation.Kind switch
        {
            TransactionOperationKind.Insert => TransactionWrite.Insert(operation.Collection, point),
            TransactionOperationKind.Update => TransactionWrite.Update(operation.Collection, point),
            _ => TransactionWrite.Upsert(operation.Collection, point),
        };
    }

    private static JsonObject? Payload(IReadOnlyDictionary<string, MetadataValue>? metadata)
    {
        if (metadata is null || metadata.Count == 0)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach ((string key, MetadataValue value) in metadata)
            {
                writer.WritePropertyName(key);
                MetadataJsonWriter.WriteValue(writer, value);
            }

            writer.WriteEndObject();
        }

        return JsonNode.Parse(buffer.ToArray())!.AsObject();
    }
}

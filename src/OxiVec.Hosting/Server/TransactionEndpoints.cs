using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OxiVec.Hosting.Qdrant;
using OxiVec.Storage;
using OxiVec.Transactions;

namespace OxiVec.Hosting.Server;

/// <summary>
/// The participant side of two-phase commit over HTTP (see docs/transactions.md):
/// <c>POST /oxivec/transactions/{gid}/prepare</c>, <c>POST .../commit</c>, <c>POST .../rollback</c>,
/// <c>GET /oxivec/transactions</c> (the prepared ones) and <c>GET /oxivec/transactions/{gid}</c> (one gid's state).
/// The POSTs are writes: a read-only API key may not call them, and a standby refuses them (421) like any write.
/// Errors: 400 bad input, 404 an unknown collection or point, or a commit of a gid never prepared, 409 a reserved
/// record, a gid already known, an inserted id that exists, or a commit after a rollback (and the reverse).
/// </summary>
public static class TransactionEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapTransactionEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        RouteGroupBuilder group = endpoints.MapGroup("/oxivec/transactions");
        group.MapPost("/{gid}/prepare", PrepareAsync);
        group.MapPost("/{gid}/commit", async (string gid, OxiVecDatabaseHost host, CancellationToken cancellationToken) =>
        {
            long started = Stopwatch.GetTimestamp();
            PreparedTransactionState state = await host.Database.CommitPreparedAsync(gid, cancellationToken).ConfigureAwait(false);
            return QdrantResponse.Ok(new TransactionResult(gid, TransactionResult.StateName(state)), started);
        });
        group.MapPost("/{gid}/rollback", async (string gid, OxiVecDatabaseHost host, CancellationToken cancellationToken) =>
        {
            long started = Stopwatch.GetTimestamp();
            PreparedTransactionState state = await host.Database.RollbackPreparedAsync(gid, cancellationToken).ConfigureAwait(false);
            return QdrantResponse.Ok(new TransactionResult(gid, TransactionResult.StateName(state)), started);
        });
        group.MapGet("/", (OxiVecDatabaseHost host) =>
        {
            long started = Stopwatch.GetTimestamp();
            return QdrantResponse.Ok(host.Database.ListPrepared().Select(p => TransactionResult.From(p, TimeProvider.System)).ToList(), started);
        });
        group.MapGet("/{gid}", (string gid, OxiVecDatabaseHost host) =>
        {
            long started = Stopwatch.GetTimestamp();
            VectorDatabase database = host.Database;
            PreparedTransactionState state = database.GetTransactionState(gid);
            PreparedTransaction? prepared = state == PreparedTransactionState.Prepared ? database.ListPrepared().FirstOrDefault(p => p.Gid == gid) : null;
            return QdrantResponse.Ok(prepared is null ? new TransactionResult(gid, TransactionResult.StateName(state)) : TransactionResult.From(prepared, TimeProvider.System), started);
        });
        return endpoints;
    }

    private static async Task<IResult> PrepareAsync(string gid, HttpRequest request, OxiVecDatabaseHost host, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        TransactionRequest parsed;
        using (JsonDocument body = await QdrantJson.ReadBodyAsync(request, cancellationToken).ConfigureAwait(false))
        {
            parsed = TransactionRequest.Parse(body.RootElement);
        }

        var options = new PrepareOptions { CoordinatorId = parsed.Coordinator, ConflictWait = parsed.ConflictWait };
        try
        {
            PreparedTransaction prepared = await host.Database.PrepareTransactionAsync(gid, parsed.Operations, options, cancellationToken).ConfigureAwait(false);
            return QdrantResponse.Ok(TransactionResult.From(prepared, TimeProvider.System), started);
        }
        catch (InvalidOperationException ex) when (ex.GetType() == typeof(InvalidOperationException))
        {
            return QdrantResponse.Error(StatusCodes.Status409Conflict, ex.Message, started); // an inserted id exists
        }
    }
}

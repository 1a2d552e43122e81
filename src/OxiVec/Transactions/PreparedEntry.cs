using OxiVec.Storage;

namespace OxiVec.Transactions;

/// <summary>
/// A prepared transaction inside the store: its writes as the caller gave them and as resolved when it was prepared
/// (insert or replace, remove), and the prepare payload that the WAL record and checkpoints carry.
/// </summary>
/// <param name="Gid">The global transaction id.</param>
/// <param name="Lsn">The prepare record's LSN (0 until it is appended).</param>
/// <param name="PreparedAt">When it was prepared.</param>
/// <param name="CoordinatorId">Who decides it, or null.</param>
/// <param name="Operations">The writes as given.</param>
/// <param name="Resolved">The writes resolved against the state at prepare (what commit applies).</param>
/// <param name="Payload">The encoded prepare payload (<see cref="PreparedTransactionCodec"/>).</param>
internal sealed record PreparedEntry(
    string Gid, long Lsn, DateTimeOffset PreparedAt, string? CoordinatorId,
    IReadOnlyList<TransactionOperation> Operations, IReadOnlyList<StoreOperation> Resolved, byte[] Payload)
{
    /// <summary>The public view of it, in <paramref name="state"/>.</summary>
    public PreparedTransaction ToPublic(PreparedTransactionState state) =>
        new(Gid, state, Lsn, PreparedAt, Operations.Count, CoordinatorId, Operations);
}

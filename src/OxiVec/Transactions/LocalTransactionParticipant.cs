using OxiVec.Storage;

namespace OxiVec.Transactions;

/// <summary>A <see cref="VectorDatabase"/> in this process as a participant of a <see cref="TwoPhaseCommit"/>.</summary>
/// <remarks>The database is not owned: disposing it stays the caller's job.</remarks>
public sealed class LocalTransactionParticipant : ITransactionParticipant
{
    private readonly VectorDatabase _database;

    /// <summary>Wraps <paramref name="database"/> under <paramref name="name"/> (stable across restarts; see <see cref="ITransactionParticipant.Name"/>).</summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public LocalTransactionParticipant(string name, VectorDatabase database)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(database);
        Name = name;
        _database = database;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public ValueTask<PreparedTransaction> PrepareAsync(string gid, IReadOnlyList<TransactionOperation> operations, PrepareOptions options, CancellationToken cancellationToken) =>
        _database.PrepareTransactionAsync(gid, operations, options, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<PreparedTransactionState> CommitPreparedAsync(string gid, CancellationToken cancellationToken) =>
        _database.CommitPreparedAsync(gid, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<PreparedTransactionState> RollbackPreparedAsync(string gid, CancellationToken cancellationToken) =>
        _database.RollbackPreparedAsync(gid, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<PreparedTransaction>> ListPreparedAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_database.ListPrepared());
    }

    /// <inheritdoc/>
    public ValueTask<PreparedTransactionState> GetStateAsync(string gid, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_database.GetTransactionState(gid));
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

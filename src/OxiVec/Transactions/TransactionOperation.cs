using OxiVec.Storage;

namespace OxiVec.Transactions;

/// <summary>
/// One write of a prepared transaction (see <see cref="VectorDatabase.PrepareTransaction"/>). It is validated like a
/// <see cref="VectorTransaction"/>'s writes when the transaction is prepared: collection name, id, the vector's
/// dimension and finiteness, metadata, whether the collection and (for update and delete) the record exist.
/// </summary>
/// <param name="Kind">What the write does.</param>
/// <param name="Collection">The collection it writes to.</param>
/// <param name="Id">The record id.</param>
/// <param name="Vector">The vector (empty for a delete).</param>
/// <param name="Metadata">The metadata (null for none, and for a delete).</param>
public sealed record TransactionOperation(
    TransactionOperationKind Kind, string Collection, string Id, ReadOnlyMemory<float> Vector = default, IReadOnlyDictionary<string, MetadataValue>? Metadata = null)
{
    /// <summary>An insert: the id must be new in the collection.</summary>
    public static TransactionOperation Insert(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        new(TransactionOperationKind.Insert, collection, id, vector, metadata);

    /// <summary>An insert-or-replace.</summary>
    public static TransactionOperation Upsert(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        new(TransactionOperationKind.Upsert, collection, id, vector, metadata);

    /// <summary>A replacement: the id must exist in the collection.</summary>
    public static TransactionOperation Update(string collection, string id, ReadOnlyMemory<float> vector, IReadOnlyDictionary<string, MetadataValue>? metadata = null) =>
        new(TransactionOperationKind.Update, collection, id, vector, metadata);

    /// <summary>A delete: the id must exist in the collection.</summary>
    public static TransactionOperation Delete(string collection, string id) => new(TransactionOperationKind.Delete, collection, id);
}

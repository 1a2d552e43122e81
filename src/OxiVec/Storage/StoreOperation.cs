namespace OxiVec.Storage;

/// <summary>One validated change to the store, as staged between its WAL append and its application.</summary>
internal abstract record StoreOperation
{
    /// <summary>Insert or replace a record.</summary>
    public sealed record Put(string Collection, string Id, float[] Vector, IReadOnlyDictionary<string, MetadataValue> Metadata, byte[] EncodedMetadata, bool IsNew)
        : StoreOperation;

    /// <summary>Remove a record.</summary>
    public sealed record Remove(string Collection, string Id) : StoreOperation;

    /// <summary>Create a collection.</summary>
    public sealed record Create(string Collection, CollectionOptions Options) : StoreOperation;

    /// <summary>Drop a collection and its records.</summary>
    public sealed record Drop(string Collection) : StoreOperation;

    /// <summary>Prepare a global transaction: reserve its records; nothing visible.</summary>
    public sealed record Prepare(OxiVec.Transactions.PreparedEntry Entry) : StoreOperation;

    /// <summary>Commit a prepared transaction: apply its resolved writes together.</summary>
    public sealed record CommitPrepared(string Gid, IReadOnlyList<StoreOperation> Operations) : StoreOperation;

    /// <summary>Roll back a global transaction (prepared or not known): release its reservations.</summary>
    public sealed record RollbackPrepared(string Gid) : StoreOperation;
}

/// <summary>
/// Operations appended to the WAL at <see cref="Lsn"/>, waiting to be applied in LSN order: a commit's
/// <see cref="Operations"/>, or, when that is null, a single write as it was accepted (<see cref="Single"/>: a put or
/// a remove, with no operation object made for it). <see cref="LentVector"/> goes back to the database's pool once applied.
/// <see cref="Store"/>: the applied collection a single write goes to, when it was known as it was logged (it stays the
/// collection of that name until a drop logged after the write is applied); null: looked up by name at the apply.
/// </summary>
internal readonly record struct PendingApply(
    long Lsn, IReadOnlyList<StoreOperation>? Operations, float[]? LentVector = null, PendingWrite Single = default, Collection? Store = null);

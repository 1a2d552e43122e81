namespace OxiVec.Transactions;

/// <summary>
/// A write or a prepare touched a record that a prepared transaction has reserved (it may write it when it commits).
/// Nothing was written. Retry after that transaction is committed or rolled back.
/// </summary>
public sealed class TransactionConflictException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="id"/> in <paramref name="collection"/>, reserved by <paramref name="gid"/>.</summary>
    public TransactionConflictException(string collection, string id, string gid)
        : base($"Record '{id}' in collection '{collection}' is reserved by prepared transaction '{gid}'; nothing was written. Retry once '{gid}' is committed or rolled back.")
    {
        Collection = collection;
        Id = id;
        Gid = gid;
    }

    /// <summary>Creates the exception for a collection that a prepared transaction writes to (it cannot be dropped).</summary>
    public TransactionConflictException(string collection, string gid)
        : base($"Collection '{collection}' has records reserved by prepared transaction '{gid}'; it cannot be dropped until '{gid}' is committed or rolled back.")
    {
        Collection = collection;
        Gid = gid;
    }

    /// <summary>The collection.</summary>
    public string Collection { get; }

    /// <summary>The reserved record id, or null when the conflict is about the whole collection.</summary>
    public string? Id { get; }

    /// <summary>The prepared transaction holding the reservation.</summary>
    public string Gid { get; }
}

namespace OxiVec.Transactions;

/// <summary>What one write of a prepared transaction does (the same kinds as <see cref="OxiVec.Storage.VectorTransaction"/>'s writes).</summary>
public enum TransactionOperationKind
{
    /// <summary>Adds a record; the id must not exist when the transaction is prepared.</summary>
    Insert,

    /// <summary>Adds a record or replaces the one with the same id.</summary>
    Upsert,

    /// <summary>Replaces a record; the id must exist when the transaction is prepared.</summary>
    Update,

    /// <summary>Removes a record; the id must exist when the transaction is prepared.</summary>
    Delete,
}

namespace OxiVec.Transactions;

/// <summary>
/// A prepared-transaction call that the gid's state does not allow: preparing a gid already known, committing one
/// that is rolled back or was never prepared, rolling back one that is committed. Nothing was written.
/// </summary>
public sealed class PreparedTransactionException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="gid"/> in <paramref name="state"/>.</summary>
    public PreparedTransactionException(string gid, PreparedTransactionState state, string message)
        : base(message)
    {
        Gid = gid;
        State = state;
    }

    /// <summary>The global transaction id.</summary>
    public string Gid { get; }

    /// <summary>The gid's state when the call was refused.</summary>
    public PreparedTransactionState State { get; }
}

namespace OxiVec.Transactions;

/// <summary>A prepared transaction as a participant knows it.</summary>
/// <param name="Gid">The global transaction id.</param>
/// <param name="State">Where it stands.</param>
/// <param name="PrepareLsn">The LSN of its prepare record.</param>
/// <param name="PreparedAt">When it was prepared (the participant's clock).</param>
/// <param name="OperationCount">How many writes it holds.</param>
/// <param name="CoordinatorId">Who decides its outcome, as given to the prepare (null when not given).</param>
/// <param name="Operations">Its writes, in order.</param>
public sealed record PreparedTransaction(
    string Gid, PreparedTransactionState State, long PrepareLsn, DateTimeOffset PreparedAt,
    int OperationCount, string? CoordinatorId, IReadOnlyList<TransactionOperation> Operations)
{
    /// <summary>How long ago it was prepared by <paramref name="time"/>'s clock (zero when the clock is behind).</summary>
    public TimeSpan Age(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        TimeSpan age = time.GetUtcNow() - PreparedAt;
        return age < TimeSpan.Zero ? TimeSpan.Zero : age;
    }
}

using OxiVec.Storage;

namespace OxiVec.Transactions;

/// <summary>Settings of one <see cref="VectorDatabase.PrepareTransaction"/> call.</summary>
public sealed record PrepareOptions
{
    private readonly string? _coordinatorId;
    private readonly TimeSpan _conflictWait = TimeSpan.Zero;

    /// <summary>
    /// Who decides the transaction's outcome (a coordinator's name or address), recorded with the prepare and shown
    /// by <see cref="VectorDatabase.ListPrepared"/> so an operator knows whom to ask. At most 200 UTF-8 bytes. The default is null.
    /// </summary>
    public string? CoordinatorId
    {
        get => _coordinatorId;
        init
        {
            if (value is not null && System.Text.Encoding.UTF8.GetByteCount(value) > PreparedTransactionGid.MaxBytes)
            {
                throw new ArgumentException($"A coordinator id must be at most {PreparedTransactionGid.MaxBytes} UTF-8 bytes.", nameof(CoordinatorId));
            }

            _coordinatorId = value;
        }
    }

    /// <summary>
    /// How long the prepare waits when a record it writes is reserved by another prepared transaction, before it
    /// fails with <see cref="TransactionConflictException"/>. The default is zero: it fails at once.
    /// </summary>
    public TimeSpan ConflictWait
    {
        get => _conflictWait;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero, nameof(ConflictWait));
            _conflictWait = value;
        }
    }
}

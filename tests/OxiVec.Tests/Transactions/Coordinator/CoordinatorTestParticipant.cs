using OxiVec.Storage;
using OxiVec.Transactions;

namespace OxiVec.Tests.Transactions.Coordinator;

/// <summary>
/// A <see cref="LocalTransactionParticipant"/> behind a misbehaving network, for the coordinator tests: calls that get
/// no answer (an <see cref="IOException"/> before or after the call reached the database), duplicated deliveries, and
/// a prepare delivered again late (after the decision: a reordered message). Echoed deliveries are the network's, so
/// their errors go nowhere.
/// </summary>
internal sealed class CoordinatorTestParticipant(string name, VectorDatabase database) : ITransactionParticipant
{
    private readonly LocalTransactionParticipant _inner = new(name, database);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (IReadOnlyList<TransactionOperation> Operations, PrepareOptions Options)> _sentPrepares = new(StringComparer.Ordinal);
    private int _unansweredBefore; // the next calls of commit/rollback fail before reaching the database
    private int _unansweredAfter;  // the next calls of commit/rollback reach the database, and the answer is lost

    public string Name => name;

    public VectorDatabase Database => database;

    /// <summary>Every commit and rollback (and prepare) is delivered twice.</summary>
    public bool Duplicate { get; init; }

    /// <summary>After each commit or rollback, the transaction's prepare is delivered again.</summary>
    public bool LatePrepare { get; init; }

    /// <summary>Every call fails before reaching the database (the participant is unreachable).</summary>
    public bool Down { get; set; }

    /// <summary>Runs when a call finds the participant down, just before that call fails (to act between the two).</summary>
    public Action? WhenUnreachable { get; set; }

    public int Calls { get; private set; }

    /// <summary>The next <paramref name="before"/> commits/rollbacks are lost on the way, then <paramref name="after"/> lose their answer.</summary>
    public void LoseAnswers(int before, int after)
    {
        lock (_lock)
        {
            _unansweredBefore = before;
            _unansweredAfter = after;
        }
    }

    public async ValueTask<PreparedTransaction> PrepareAsync(string gid, IReadOnlyList<TransactionOperation> operations, PrepareOptions options, CancellationToken cancellationToken)
    {
        Reach();
        lock (_lock)
        {
            _sentPrepares[gid] = (operations, options);
        }

        PreparedTransaction prepared = await _inner.PrepareAsync(gid, operations, options, cancellationToken);
        if (Duplicate)
        {
            await EchoAsync(() => _inner.PrepareAsync(gid, operations, options, cancellationToken).AsTask());
        }

        return prepared;
    }

    public ValueTask<PreparedTransactionState> CommitPreparedAsync(string gid, CancellationToken cancellationToken) =>
        ResolveAsync(gid, () => _inner.CommitPreparedAsync(gid, cancellationToken));

    public ValueTask<PreparedTransactionState> RollbackPreparedAsync(string gid, CancellationToken cancellationToken) =>
        ResolveAsync(gid, () => _inner.RollbackPreparedAsync(gid, cancellationToken));

    public ValueTask<IReadOnlyList<PreparedTransaction>> ListPreparedAsync(CancellationToken cancellationToken)
    {
        Reach();
        return _inner.ListPreparedAsync(cancellationToken);
    }

    public ValueTask<PreparedTransactionState> GetStateAsync(string gid, CancellationToken cancellationToken)
    {
        Reach();
        return _inner.GetStateAsync(gid, cancellationToken);
    }

    private async ValueTask<PreparedTransactionState> ResolveAsync(string gid, Func<ValueTask<PreparedTransactionState>> call)
    {
        Reach();
        bool loseBefore, loseAfter;
        lock (_lock)
        {
            loseBefore = _unansweredBefore > 0 && _unansweredBefore-- > 0;
            loseAfter = !loseBefore && _unansweredAfter > 0 && _unansweredAfter-- > 0;
        }

        if (loseBefore)
        {
            throw new IOException($"{name}: the request was lost.");
        }

        PreparedTransactionState state = await call();
        if (Duplicate)
        {
            await EchoAsync(async () => await call());
        }

        if (LatePrepare && TryGetSentPrepare(gid, out var sent))
        {
            await EchoAsync(() => _inner.PrepareAsync(gid, sent.Operations, sent.Options, CancellationToken.None).AsTask());
        }

        return loseAfter ? throw new IOException($"{name}: the answer was lost.") : state;
    }

    private bool TryGetSentPrepare(string gid, out (IReadOnlyList<TransactionOperation> Operations, PrepareOptions Options) sent)
    {
        lock (_lock)
        {
            return _sentPrepares.TryGetValue(gid, out sent);
        }
    }

    private void Reach()
    {
        lock (_lock)
        {
            Calls++;
        }

        if (Down)
        {
            WhenUnreachable?.Invoke();
            throw new IOException($"{name} is unreachable.");
        }
    }

    /// <summary>A copy of a message the network delivers again: the participant's answer to it reaches nobody.</summary>
    private static async Task EchoAsync(Func<Task> deliver)
    {
        try
        {
            await deliver();
        }
        catch (PreparedTransactionException)
        {
        }
        catch (TransactionConflictException)
        {
        }
        catch (ArgumentException)
        {
        }
        catch (KeyNotFoundException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }
}

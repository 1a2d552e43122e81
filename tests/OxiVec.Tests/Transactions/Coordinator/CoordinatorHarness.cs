using OxiVec.Storage;
using OxiVec.Transactions;
using OxiVec.Wal;

namespace OxiVec.Tests.Transactions.Coordinator;

/// <summary>
/// Databases (collection <c>c</c>, dimension 2) and a coordinator in one temporary directory, each closable and
/// reopenable on its own to play a crash in this process.
/// </summary>
internal sealed class CoordinatorHarness : IDisposable
{
    public const string Collection = "c";
    public const string CoordinatorId = "coordinator-1";

    private readonly TempDirectory _dir = new();
    private readonly VectorDatabase?[] _databases;

    public CoordinatorHarness(int participants)
    {
        _databases = new VectorDatabase?[participants];
        for (int i = 0; i < participants; i++)
        {
            VectorDatabase database = OpenDatabase(i);
            database.CreateCollection(Collection, new CollectionOptions(2));
        }
    }

    public TwoPhaseCommit? Coordinator { get; private set; }

    public int Count => _databases.Length;

    public VectorDatabase Database(int i) => _databases[i] ?? throw new InvalidOperationException($"Database {i} is closed.");

    public static string Name(int i) => "p" + i;

    public VectorDatabase OpenDatabase(int i)
    {
        _databases[i]?.Dispose();
        return _databases[i] = VectorDatabase.Open(_dir.Sub(Name(i)), new VectorDatabaseOptions { Wal = WalConfig.Default with { SyncIntervalMs = 0 } });
    }

    public void CloseDatabase(int i)
    {
        _databases[i]?.Dispose();
        _databases[i] = null;
    }

    public TwoPhaseCommit OpenCoordinator(TwoPhaseCommitOptions? options = null)
    {
        Coordinator?.Dispose();
        return Coordinator = TwoPhaseCommit.Open(_dir.Sub("coordinator"), CoordinatorId, options ?? Fast);
    }

    public void CloseCoordinator()
    {
        Coordinator?.Dispose();
        Coordinator = null;
    }

    /// <summary>Short resend delays: the tests' lost answers are resent at once.</summary>
    public static TwoPhaseCommitOptions Fast { get; } = new() { RetryDelay = TimeSpan.FromMilliseconds(1), MaxRetryDelay = TimeSpan.FromMilliseconds(5) };

    public LocalTransactionParticipant Local(int i) => new(Name(i), Database(i));

    public IReadOnlyList<LocalTransactionParticipant> Locals() => [.. Enumerable.Range(0, Count).Select(Local)];

    public static TransactionOperation Upsert(string id, float value, long tx) =>
        TransactionOperation.Upsert(Collection, id, new float[] { value, 1 }, new Dictionary<string, MetadataValue> { ["tx"] = MetadataValue.From(tx) });

    public void Dispose()
    {
        CloseCoordinator();
        for (int i = 0; i < _databases.Length; i++)
        {
            CloseDatabase(i);
        }

        _dir.Dispose();
    }
}

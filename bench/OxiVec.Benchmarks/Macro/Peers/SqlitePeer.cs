using System.Reflection;
using Microsoft.Data.Sqlite;

namespace OxiVec.Benchmarks.Macro.Peers;

/// <summary>
/// SQLite (Microsoft.Data.Sqlite with its bundled e_sqlite3) in WAL mode: one table
/// <c>records(id INTEGER PRIMARY KEY, payload BLOB)</c>, one connection per writer, one row per record with the
/// id assigned by SQLite (an append at the end of the table's b-tree, its cheapest insert). A single record is an
/// autocommit INSERT (one row per transaction); a batch is <c>BEGIN IMMEDIATE</c>, one INSERT per record,
/// <c>COMMIT</c>. <c>synchronous=FULL</c>: every commit fsyncs the -wal file before it returns (durable, like
/// OxiVec at SyncIntervalMs = 0); <c>synchronous=NORMAL</c>: commits only write the -wal file, which is fsynced
/// at checkpoints (a process crash loses nothing, a power loss may lose recent commits, like OxiVec with a
/// positive interval).
/// </summary>
internal sealed class SqlitePeer : IPeerLog
{
    /// <summary>How long a writer waits for the database's write lock before SQLite reports it busy.</summary>
    public const int BusyTimeoutMs = 60_000;

    /// <summary>The Microsoft.Data.Sqlite package and the SQLite library it loads, as measured.</summary>
    public static string Version
    {
        get
        {
            using var connection = new SqliteConnection("Data Source=:memory:");
            connection.Open();
            string package = typeof(SqliteConnection).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";
            return $"Microsoft.Data.Sqlite {package}, SQLite {connection.ServerVersion}";
        }
    }

    private readonly SqliteConnection[] _connections;
    private readonly SqliteCommand[] _inserts;

    /// <param name="dir">An empty directory for the database and its -wal and -shm files.</param>
    /// <param name="writers">Connections to open, one per writer.</param>
    /// <param name="fullSync">True: <c>synchronous=FULL</c>; false: <c>synchronous=NORMAL</c>.</param>
    public SqlitePeer(string dir, int writers, bool fullSync)
    {
        // No pooling: disposing the connections closes the files, so the directory can be deleted.
        string connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(dir, "records.sqlite"),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();

        _connections = new SqliteConnection[writers];
        _inserts = new SqliteCommand[writers];
        for (int w = 0; w < writers; w++)
        {
            var connection = new SqliteConnection(connectionString);
            _connections[w] = connection;
            connection.Open();

            // journal_mode is a property of the database file (set once); synchronous and busy_timeout are per connection.
            Execute(connection, w == 0
                ? "PRAGMA journal_mode=WAL; CREATE TABLE records(id INTEGER PRIMARY KEY, payload BLOB NOT NULL);"
                : "SELECT 1;");
            Execute(connection, $"PRAGMA synchronous={(fullSync ? "FULL" : "NORMAL")}; PRAGMA busy_timeout={BusyTimeoutMs};");

            SqliteCommand insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO records(payload) VALUES ($payload);";
            _ = insert.Parameters.Add("$payload", SqliteType.Blob);
            insert.Prepare();
            _inserts[w] = insert;
        }
    }

    public void Commit(int writer, byte[] record)
    {
        SqliteCommand insert = _inserts[writer];
        insert.Transaction = null;
        insert.Parameters[0].Value = record;
        _ = insert.ExecuteNonQuery();
    }

    public void CommitBatch(int writer, IReadOnlyList<byte[]> records)
    {
        SqliteCommand insert = _inserts[writer];
        using SqliteTransaction transaction = _connections[writer].BeginTransaction(deferred: false);
        insert.Transaction = transaction;
        foreach (byte[] record in records)
        {
            insert.Parameters[0].Value = record;
            _ = insert.ExecuteNonQuery();
        }

        transaction.Commit();
        insert.Transaction = null;
    }

    /// <summary>
    /// Inserts every record of every group in one transaction on connection 0 (the group committer's): one commit,
    /// one fsync with <c>synchronous=FULL</c>.
    /// </summary>
    public void CommitGroup(IReadOnlyList<IReadOnlyList<byte[]>> groups)
    {
        SqliteCommand insert = _inserts[0];
        using SqliteTransaction transaction = _connections[0].BeginTransaction(deferred: false);
        insert.Transaction = transaction;
        foreach (IReadOnlyList<byte[]> group in groups)
        {
            foreach (byte[] record in group)
            {
                insert.Parameters[0].Value = record;
                _ = insert.ExecuteNonQuery();
            }
        }

        transaction.Commit();
        insert.Transaction = null;
    }

    public void Dispose()
    {
        foreach (SqliteCommand insert in _inserts)
        {
            insert?.Dispose();
        }

        foreach (SqliteConnection connection in _connections)
        {
            connection?.Dispose();
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        _ = command.ExecuteNonQuery();
    }
}

namespace OxiVec.Hosting;

/// <summary>The hosted database cannot serve yet (still recovering), or any more (failed to open, or stopping).</summary>
public sealed class DatabaseUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception for a database in <paramref name="state"/>.</summary>
    public DatabaseUnavailableException(DatabaseState state, Exception? failure = null)
        : base(Describe(state, failure), failure) => State = state;

    /// <summary>The state the database was in.</summary>
    public DatabaseState State { get; }

    private static string Describe(DatabaseState state, Exception? failure) => state switch
    {
        DatabaseState.NotStarted => "The database has not been started: the host is not running.",
        DatabaseState.Recovering => "The database is recovering (loading its checkpoint and replaying its WAL); retry when /readyz answers 200.",
        DatabaseState.Failed => $"The database failed to open: {failure?.Message}",
        DatabaseState.Stopped => "The database is closed: the host is stopping.",
        DatabaseState.SwitchingRole => "This cluster member is changing its role (an election, a failover or a switchover); retry shortly.",
        _ => $"The database is {state}.",
    };
}

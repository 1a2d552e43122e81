namespace OxiVec.Hosting;

/// <summary>Where the hosted database is in its life.</summary>
public enum DatabaseState
{
    /// <summary>The host has not started it yet.</summary>
    NotStarted,

    /// <summary>Opening: recovery (checkpoint load and WAL replay) is running.</summary>
    Recovering,

    /// <summary>Open and serving.</summary>
    Ready,

    /// <summary>Opening failed (see <see cref="OxiVecDatabaseHost.Failure"/>).</summary>
    Failed,

    /// <summary>Closing or closed: the host is stopping.</summary>
    Stopped,

    /// <summary>A cluster member between roles: electing, promoting, demoting or (re)connecting to a new primary (docs/failover.md).</summary>
    SwitchingRole,
}

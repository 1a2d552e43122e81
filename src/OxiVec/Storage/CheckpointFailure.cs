namespace OxiVec.Storage;

/// <summary>A checkpoint that failed (see <see cref="VectorDatabase.LastCheckpointFailure"/>); the WAL keeps every record, so nothing is lost.</summary>
/// <param name="Time">When it failed.</param>
/// <param name="Error">The exception's type name.</param>
/// <param name="Message">What failed.</param>
/// <param name="ConsecutiveFailures">Checkpoints failed in a row since the last that succeeded.</param>
/// <param name="RetryAfter">How long automatic checkpoints (the interval and WAL-size triggers) now wait; a manual one may run at any time.</param>
public sealed record CheckpointFailure(DateTimeOffset Time, string Error, string Message, int ConsecutiveFailures, TimeSpan RetryAfter);

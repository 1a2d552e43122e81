namespace OxiVec.Benchmarks.Macro.Peers;

/// <summary>
/// A log or database measured against the OxiVec WAL on the same records: one instance per run, in its own
/// directory, shared by all writer threads of the run. Writer <c>w</c> only ever calls with its own index, from
/// one thread, so per-writer state (a connection) needs no locking.
/// </summary>
internal interface IPeerLog : IDisposable
{
    /// <summary>Commits one record; returns when the peer's variant acknowledges it (durable, or per its interval policy).</summary>
    /// <param name="writer">The calling writer, 0 to writers − 1.</param>
    /// <param name="record">The record's bytes; the peer copies what it keeps before returning.</param>
    void Commit(int writer, byte[] record);

    /// <summary>Commits <paramref name="records"/> as one atomic unit (one transaction or one atomic batch).</summary>
    void CommitBatch(int writer, IReadOnlyList<byte[]> records);
}

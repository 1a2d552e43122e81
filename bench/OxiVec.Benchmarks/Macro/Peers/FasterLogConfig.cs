using FASTER.core;

namespace OxiVec.Benchmarks.Macro.Peers;

/// <summary>
/// One FasterLog configuration from its documentation's knobs: fast-commit mode, segment preallocation,
/// <c>AutoCommit</c> and the commit policy. The WAL benchmark measures every candidate in the same run and compares
/// OxiVec with the best (<see cref="Candidates"/>).
/// </summary>
/// <param name="Name">How the report names it.</param>
/// <param name="FastCommit"><c>FastCommitMode</c> with per-entry checksums (commit metadata in the log itself).</param>
/// <param name="Preallocate">
/// <c>Devices.CreateLogDevice(preallocateFile: true)</c>. On Linux its <c>ManagedLocalStorageDevice</c> then calls
/// <c>FileStream.SetLength(segmentSize)</c> on each new segment (ftruncate: a sparse file, no blocks allocated).
/// </param>
/// <param name="AutoCommit">
/// <c>FasterLogSettings.AutoCommit</c>: FasterLog commits by itself as records are enqueued; a writer enqueues and
/// waits for the commit (<c>WaitForCommitAsync</c>) instead of calling <c>CommitAsync</c>.
/// </param>
/// <param name="Policy">"default", or a <see cref="LogCommitPolicy"/> factory's name and argument.</param>
internal sealed record FasterLogConfig(string Name, bool FastCommit, bool Preallocate, bool AutoCommit, string Policy)
{
    /// <summary>The configurations tried, FASTER's recommended one first.</summary>
    public static IReadOnlyList<FasterLogConfig> Candidates { get; } =
    [
        new("fast-commit mode", true, false, false, "default"),
        new("FASTER's defaults (no fast-commit mode)", false, false, false, "default"),
        new("fast-commit mode, preallocated segments", true, true, false, "default"),
        new("fast-commit mode, AutoCommit", true, false, true, "default"),
        new("fast-commit mode, LogCommitPolicy.MaxParallel(4)", true, false, false, "MaxParallel(4)"),
        new("fast-commit mode, LogCommitPolicy.RateLimit(1 ms, 64 KiB)", true, false, false, "RateLimit(1, 65536)"),
    ];

    /// <summary>The first candidate: what the benchmark uses when no sweep ran.</summary>
    public static FasterLogConfig Recommended => Candidates[0];

    /// <summary>A fresh policy object (FasterLog attaches it to one log), or null for FasterLog's default.</summary>
    public LogCommitPolicy? CreatePolicy() => Policy switch
    {
        "default" => null,
        "MaxParallel(4)" => LogCommitPolicy.MaxParallel(4),
        "RateLimit(1, 65536)" => LogCommitPolicy.RateLimit(1, 65_536),
        _ => throw new InvalidOperationException($"unknown FasterLog commit policy '{Policy}'"),
    };
}

using OxiVec.Benchmarks.Macro;
using OxiVec.Indexing;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Benchmarks.Profiles;

/// <summary>
/// One row of the guide's Quick Reference table (a <see cref="WalConfig"/> preset with the write overhead the guide
/// claims for it and the issue's target, if any), or the WAL-off baseline (<see cref="Wal"/> is null).
/// </summary>
/// <param name="Name">The preset's name (<c>WalConfig.Balanced</c> is "Balanced").</param>
/// <param name="GuideName">The row's name in the guide.</param>
/// <param name="Wal">The preset, or null for the baseline.</param>
/// <param name="GuideClaim">The guide's "Expected Impact" as written.</param>
/// <param name="ClaimLow">Lower end of the claimed slowdown, as a fraction (0.20 for "20-30%").</param>
/// <param name="ClaimHigh">Upper end of the claimed slowdown, as a fraction.</param>
/// <param name="TargetMax">The issue's ceiling for the overhead (a fraction), or null when it sets none.</param>
/// <param name="TargetWriters">The writer count the target applies to, or null for every writer count.</param>
internal sealed record Profile(
    string Name, string GuideName, WalConfig? Wal, string GuideClaim, double ClaimLow, double ClaimHigh, double? TargetMax, int? TargetWriters)
{
    public static Profile Baseline { get; } = new("Baseline", "WAL off", null, "–", 0, 0, null, null);

    /// <summary>The four rows of the guide's table, in its order.</summary>
    public static IReadOnlyList<Profile> GuideRows { get; } =
    [
        new("MaximumDurability", "Maximum Durability", WalConfig.MaximumDurability, "20-30% slower writes", 0.20, 0.30, 0.10, 32),
        new("Balanced", "Production (Balanced)", WalConfig.Balanced, "5-10% slower writes", 0.05, 0.10, 0.03, null),
        new("HighThroughput", "High Throughput", WalConfig.HighThroughput, "1-2% slower writes", 0.01, 0.02, 0.01, null),
        new("Development", "Development", WalConfig.Development, "Negligible impact", 0, 0.01, null, null),
    ];

    /// <summary>
    /// Not a row of the guide: <see cref="WalConfig.MaximumDurability"/> with automatic checkpoints off, so that the
    /// report can tell the cost of an fsync per commit from the cost of a checkpoint every 1,000 operations.
    /// </summary>
    public static Profile MaximumDurabilityWithoutCheckpoints { get; } =
        new("MaximumDurabilityNoCheckpoints", "Maximum Durability, automatic checkpoints off", WalConfig.MaximumDurability with { CheckpointInterval = int.MaxValue }, "–", 0, 0, null, null)
        {
            IsDiagnostic = true,
        };

    /// <summary>
    /// Not a row of the guide: the WAL-off baseline run again in a profile's place, paired with the baseline like every
    /// profile. Its "overhead" is the pairing's noise on this machine (an A/A test): a target narrower than its
    /// interval cannot be shown met here, whatever the code does.
    /// </summary>
    public static Profile Control { get; } =
        new("Control", "WAL off, run again (A/A control)", null, "–", 0, 0, null, null)
        {
            IsDiagnostic = true,
            IsControl = true,
        };

    /// <summary>A variant measured to explain a guide row, not a row itself: no claim, no target.</summary>
    public bool IsDiagnostic { get; init; }

    /// <summary>The A/A control (<see cref="Control"/>): runs as the baseline, reported as a profile.</summary>
    public bool IsControl { get; init; }

    /// <summary>The baseline itself (the control, which also runs without the WAL, is not).</summary>
    public bool IsBaseline => Wal is null && !IsControl;

    /// <summary>Whether the issue sets a target for this profile at <paramref name="writers"/> writers.</summary>
    public bool HasTarget(int writers) => TargetMax is not null && (TargetWriters is null || TargetWriters == writers);
}

/// <summary>
/// The vectors one dataset ingests (from <see cref="Store.BenchCommon.Clustered"/>), their ids, the collection
/// they go into, and the time budget after which a cell stops early.
/// </summary>
internal sealed class ProfileDataset(string name, IndexKind index, float[][] vectors, double budgetSeconds)
{
    public string Name { get; } = name;

    public IndexKind Index { get; } = index;

    public IReadOnlyList<float[]> Vectors { get; } = vectors;

    /// <summary>Record ids, built once so that no cell pays for formatting them.</summary>
    public IReadOnlyList<string> Ids { get; } = [.. Enumerable.Range(0, vectors.Length).Select(i => "v" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    public int Count => Vectors.Count;

    public int Dimension => Vectors[0].Length;

    /// <summary>A cell stops after this many seconds (and reports inserts/s over what it did).</summary>
    public double BudgetSeconds { get; } = budgetSeconds;

    public CollectionOptions CollectionOptions => new(Dimension) { Metric = DistanceMetric.Euclidean, Index = Index };

    public string Description => $"{Count:N0} x {Dimension} {(Index == IndexKind.Flat ? "flat" : "HNSW")}";
}

/// <summary>Identifies a cell: dataset, profile (or baseline), writer count.</summary>
internal readonly record struct CellKey(string Dataset, string Profile, int Writers);

/// <summary>One run of a cell.</summary>
/// <param name="Inserted">Records inserted before the end (all of the dataset unless <paramref name="TimeBoxed"/>).</param>
/// <param name="Seconds">From the first insert to the last acknowledgement (closing the database is not timed).</param>
/// <param name="TimeBoxed">The run stopped at the dataset's time budget.</param>
/// <param name="Checkpoints">Checkpoints completed while inserting (<c>LastCheckpoint.Sequence</c>); 0 for the baseline.</param>
/// <param name="Fsyncs">WAL fsyncs while inserting (<c>GetWalMetrics().SyncCount</c>); 0 for the baseline.</param>
/// <param name="Latency">Per-insert latency over every writer.</param>
/// <param name="CpuUsPerInsert">
/// CPU time of the whole process (every thread: writers, WAL flusher, background checkpoints, GC) over the timed
/// part, per insert: less sensitive to a shared machine than the rate.
/// </param>
/// <param name="CheckpointStallMs">The last checkpoint's write stall (<c>CheckpointInfo.WriteStallMs</c>: writes excluded while it captured); 0 when none ran.</param>
internal sealed record CellRun(
    int Inserted, double Seconds, bool TimeBoxed, long Checkpoints, long Fsyncs, LatencySummary Latency, double CpuUsPerInsert, double CheckpointStallMs = 0)
{
    public double PerSecond => Inserted / Seconds;
}

/// <summary>A profile's run and the baseline run of the same round, dataset and writer count, run back to back.</summary>
internal sealed record PairedRun(CellRun Run, CellRun Baseline);

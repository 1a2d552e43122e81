using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using OxiVec.Internal;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;

namespace OxiVec.Replication;

/// <summary>
/// Rewinds a closed standby's data directory to an LSN its new primary named (<see cref="WalDiverged"/>): what it
/// holds past that LSN diverged and is moved into <c>quarantine/rewind-{epoch}-{lsn}/</c> in the data directory, kept,
/// never destroyed. Checkpoints covering an LSN past the cut are moved there first (so no state past the cut can be
/// loaded again), then the WAL is cut (<see cref="WalTruncation"/>: its discarded records are copied to
/// <c>wal/quarantine/rewind-{epoch}-{lsn}.frames</c> before anything changes), then <c>manifest.json</c> says what and why.
/// </summary>
/// <remarks>
/// Crash safety: <c>replication/rewind.json</c> is written (durably) before the first change and removed after the
/// last; a standby opening with it present finishes the rewind first (<see cref="FinishPending"/>), so a restart sees
/// the directory before the rewind or after it.
/// </remarks>
internal static class StandbyRewind
{
    public const string QuarantineDirectory = "quarantine";
    public const string PendingFile = "rewind.json";
    public const string ManifestFile = "manifest.json";

    /// <summary>The quarantine directory of the rewind to <paramref name="keepThroughLsn"/> for <paramref name="epoch"/>.</summary>
    public static string QuarantineOf(string dataDirectory, long epoch, long keepThroughLsn) =>
        Path.Combine(dataDirectory, QuarantineDirectory, NameOf(epoch, keepThroughLsn));

    /// <summary>Whether the directory can be rewound to <paramref name="keepThroughLsn"/>; null when it can, else why not (a base backup is then needed).</summary>
    public static string? CannotRewind(string dataDirectory, long keepThroughLsn)
    {
        long firstLsn = FirstWalLsn(dataDirectory);
        if (keepThroughLsn + 1 < firstLsn)
        {
            return $"its WAL starts at LSN {firstLsn}, after the divergence point LSN {keepThroughLsn}";
        }

        CheckpointEntry? older = Checkpoints(dataDirectory).FirstOrDefault(c => c.CoveredLsn <= keepThroughLsn);
        if (older is null ? firstLsn > 1 : firstLsn > older.CoveredLsn + 1)
        {
            return older is null
                ? $"no checkpoint at or before LSN {keepThroughLsn} remains and its WAL starts at LSN {firstLsn}: nothing rebuilds the state at the divergence point"
                : $"its newest checkpoint at or before LSN {keepThroughLsn} covers LSN {older.CoveredLsn}, but its WAL starts at LSN {firstLsn}";
        }

        return null;
    }

    /// <summary>
    /// Rewinds the closed standby in <paramref name="dataDirectory"/> to <paramref name="keepThroughLsn"/>. Returns how many
    /// records were quarantined.
    /// </summary>
    /// <exception cref="InvalidOperationException">It cannot be rewound that far (<see cref="CannotRewind"/>); nothing changed.</exception>
    public static long Run(string dataDirectory, VectorDatabaseOptions options, long epoch, long keepThroughLsn, string reason, ILogger logger)
    {
        if (CannotRewind(dataDirectory, keepThroughLsn) is { } why)
        {
            throw new InvalidOperationException($"The standby in '{dataDirectory}' cannot be rewound to LSN {keepThroughLsn}: {why}.");
        }

        WritePending(dataDirectory, new PendingRewind(epoch, keepThroughLsn, reason));
        return Finish(dataDirectory, options, new PendingRewind(epoch, keepThroughLsn, reason), logger);
    }

    /// <summary>Finishes a rewind a crash interrupted (when <c>replication/rewind.json</c> exists); returns the records it quarantined.</summary>
    public static long FinishPending(string dataDirectory, VectorDatabaseOptions options, ILogger logger)
    {
        string path = ReplicationFiles.PathOf(dataDirectory, PendingFile);
        if (!File.Exists(path))
        {
            return 0;
        }

        PendingRewind pending;
        try
        {
            pending = JsonSerializer.Deserialize(File.ReadAllBytes(path), RewindJsonContext.Default.PendingRewind)
                ?? throw new InvalidDataException("it holds null");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Replication state file '{path}' is damaged: {ex.Message}", ex);
        }

        logger.LogWarning("Standby in '{Directory}': finishing a rewind to LSN {Lsn} that was interrupted.", dataDirectory, pending.KeepThroughLsn);
        return Finish(dataDirectory, options, pending, logger);
    }

    private static long Finish(string dataDirectory, VectorDatabaseOptions options, PendingRewind pending, ILogger logger)
    {
        string quarantine = QuarantineOf(dataDirectory, pending.Epoch, pending.KeepThroughLsn);
        string checkpointsAside = Path.Combine(quarantine, CheckpointFiles.DirectoryName);
        DurableFiles.CreateDirectoryDurably(checkpointsAside);
        string root = Path.Combine(dataDirectory, CheckpointFiles.DirectoryName);
        foreach (CheckpointEntry checkpoint in Checkpoints(dataDirectory).Where(c => c.CoveredLsn > pending.KeepThroughLsn))
        {
            Directory.Move(checkpoint.Path, Path.Combine(checkpointsAside, Path.GetFileName(checkpoint.Path)));
            DurableFiles.SyncDirectory(checkpointsAside); // the checkpoint is in the quarantine...
            DurableFiles.SyncDirectory(root);             // ...and no longer loadable, across a power loss
            logger.LogError(
                "Standby rewind: checkpoint '{Checkpoint}' covers LSN {Covered}, past the divergence point LSN {Keep}: moved to '{Aside}'.",
                checkpoint.Path, checkpoint.CoveredLsn, pending.KeepThroughLsn, checkpointsAside);
        }

        string walDirectory = Path.Combine(dataDirectory, "wal");
        WalConfig config = options.Wal with { WalDir = walDirectory };
        long? covered = Checkpoints(dataDirectory).FirstOrDefault()?.CoveredLsn;
        WalTruncationResult result = WalTruncation.TruncateAfter(
            new FileSystemWalStorage(walDirectory, config.MemoryMappedSegments), config, pending.KeepThroughLsn, NameOf(pending.Epoch, pending.KeepThroughLsn), covered, logger);
        string manifestPath = Path.Combine(quarantine, ManifestFile);
        string framesFile = Path.Combine(walDirectory, $"{WalQuarantine.DirectoryName}/{NameOf(pending.Epoch, pending.KeepThroughLsn)}{WalTruncation.FramesSuffix}");
        if (!File.Exists(manifestPath))
        {
            // The first run that got here knows the records cut; a re-run after a crash cuts what a torn first run left.
            List<WalReplicatedRecord> records = File.Exists(framesFile)
                ? WalTruncation.ReadQuarantined(new FileSystemWalStorage(walDirectory), $"{WalQuarantine.DirectoryName}/{NameOf(pending.Epoch, pending.KeepThroughLsn)}{WalTruncation.FramesSuffix}")
                : [];
            var manifest = new RewindManifest(
                pending.Epoch, pending.KeepThroughLsn, records.Count > 0 ? records[0].Lsn : 0, records.Count > 0 ? records[^1].Lsn : 0, records.Count,
                File.Exists(framesFile) ? framesFile : null,
                [.. Directory.EnumerateDirectories(checkpointsAside).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)],
                pending.Reason, DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            DurableFiles.WriteAtomically(manifestPath, s => s.Write(JsonSerializer.SerializeToUtf8Bytes(manifest, RewindJsonContext.Default.RewindManifest)));
        }

        ReplicationFiles.Delete(dataDirectory, PendingFile); // done: a restart opens the rewound directory
        logger.LogError(
            "Standby rewind: DISCARDED records {From}-{To} ({Records} records; never acknowledged by a primary of epoch {Epoch}) from '{Directory}'; they are kept in '{Frames}', described in '{Manifest}'.",
            result.FirstDiscardedLsn, result.LastDiscardedLsn, result.Records, pending.Epoch, dataDirectory, framesFile, manifestPath);
        return result.Records;
    }

    private static void WritePending(string dataDirectory, PendingRewind pending)
    {
        DurableFiles.CreateDirectoryDurably(Path.Combine(dataDirectory, ReplicationFiles.DirectoryName));
        DurableFiles.WriteAtomically(
            ReplicationFiles.PathOf(dataDirectory, PendingFile), s => s.Write(JsonSerializer.SerializeToUtf8Bytes(pending, RewindJsonContext.Default.PendingRewind)));
    }

    private static string NameOf(long epoch, long keepThroughLsn) => string.Create(CultureInfo.InvariantCulture, $"rewind-{epoch}-{keepThroughLsn}");

    private static List<CheckpointEntry> Checkpoints(string dataDirectory) =>
        CheckpointFiles.List(Path.Combine(dataDirectory, CheckpointFiles.DirectoryName), removeHalfBuilt: false);

    /// <summary>The first LSN of the WAL's oldest segment (from the file names), or 1 when there is none.</summary>
    private static long FirstWalLsn(string dataDirectory)
    {
        IReadOnlyList<SegmentBound> segments = new WalReader(new FileSystemWalStorage(Path.Combine(dataDirectory, "wal")), null).Segments();
        return segments.Count > 0 ? segments[0].FirstLsn : 1;
    }
}

/// <summary>A rewind under way (<c>replication/rewind.json</c>).</summary>
internal sealed record PendingRewind(long Epoch, long KeepThroughLsn, string Reason);

/// <summary>What a rewind quarantined, and why (<c>quarantine/rewind-{epoch}-{lsn}/manifest.json</c>).</summary>
/// <param name="Epoch">The new primary's epoch whose history showed the divergence.</param>
/// <param name="KeptThroughLsn">The last LSN kept.</param>
/// <param name="FirstDiscardedLsn">The first record discarded (0: none).</param>
/// <param name="LastDiscardedLsn">The last record discarded (0: none).</param>
/// <param name="Records">How many records were discarded.</param>
/// <param name="RecordsFile">The discarded records as replication frames (docs/wal-format.md), or null when none.</param>
/// <param name="Checkpoints">Checkpoints moved beside this manifest (under <c>checkpoints/</c>) because they covered discarded records.</param>
/// <param name="Reason">Why.</param>
/// <param name="CreatedUtc">When (ISO 8601).</param>
internal sealed record RewindManifest(
    long Epoch, long KeptThroughLsn, long FirstDiscardedLsn, long LastDiscardedLsn, long Records, string? RecordsFile, List<string> Checkpoints, string Reason, string CreatedUtc);

/// <summary>Source-generated JSON for the rewind's files.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(PendingRewind))]
[System.Text.Json.Serialization.JsonSerializable(typeof(RewindManifest))]
internal sealed partial class RewindJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

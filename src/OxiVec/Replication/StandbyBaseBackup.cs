using System.Globalization;
using Microsoft.Extensions.Logging;
using OxiVec.Internal;
using OxiVec.Storage;
using OxiVec.Storage.Checkpoints;
using OxiVec.Wal;

namespace OxiVec.Replication;

/// <summary>
/// Installs a base backup as a standby's data directory: the checkpoint is written into a temporary sibling
/// directory and its checksums verified, an empty WAL starting at the covered LSN + 1 is created beside it, every
/// file and directory is fsynced, then the old directory (if any) is moved aside, the new one renamed into place,
/// the parent fsynced, and only then the old one deleted. A crash leaves the old directory, the new one, or both.
/// </summary>
internal static class StandbyBaseBackup
{
    public const string TempSuffix = ".basebackup";
    public const string AsideSuffix = ".replaced";

    /// <summary>Whether <paramref name="dataDirectory"/> holds a standby's database (its marker file and a WAL).</summary>
    public static bool IsStandbyDirectory(string dataDirectory) =>
        File.Exists(ReplicationFiles.PathOf(dataDirectory, ReplicationFiles.StandbyFile));

    /// <summary>Whether <paramref name="dataDirectory"/> is missing or empty.</summary>
    public static bool IsEmpty(string dataDirectory) =>
        !Directory.Exists(dataDirectory) || !Directory.EnumerateFileSystemEntries(dataDirectory).Any();

    public static async Task InstallAsync(
        string dataDirectory, VectorDatabaseOptions options, IBaseBackupSource source, long epoch, ILogger logger, CancellationToken cancellationToken,
        string? keepOldIn = null)
    {
        string data = Path.GetFullPath(dataDirectory).TrimEnd(Path.DirectorySeparatorChar);
        string parent = Path.GetDirectoryName(data) ?? throw new ArgumentException($"'{data}' has no parent directory.", nameof(dataDirectory));
        string temp = data + TempSuffix;
        DurableFiles.CreateDirectoryDurably(parent);
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true); // an earlier attempt that did not finish; never in use
        }

        (BaseBackupManifest manifest, IAsyncEnumerable<BaseBackupChunk> chunks) = await source.StartAsync(cancellationToken).ConfigureAwait(false);
        logger.LogInformation(
            "Standby: taking a base backup of checkpoint '{Name}' (LSN {Lsn}, {Files} files) into '{Temp}'.", manifest.CheckpointName, manifest.CoveredLsn, manifest.Files.Count, temp);
        (long sequence, long covered) = ParseName(manifest);
        string checkpointRoot = Path.Combine(temp, CheckpointFiles.DirectoryName);
        string checkpoint = Path.Combine(checkpointRoot, manifest.CheckpointName);
        Directory.CreateDirectory(checkpoint);
        await WriteFilesAsync(checkpoint, manifest, chunks, cancellationToken).ConfigureAwait(false);
        foreach (string directory in Directory.EnumerateDirectories(checkpoint, "*", SearchOption.AllDirectories).Prepend(checkpoint))
        {
            DurableFiles.SyncDirectory(directory);
        }

        DurableFiles.SyncDirectory(checkpointRoot);
        try
        {
            CheckpointFiles.Validate(new CheckpointEntry(sequence, covered, checkpoint));
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"The base backup of checkpoint '{manifest.CheckpointName}' failed its checksums; nothing was installed: {ex.Message}", ex);
        }

        // The standby's WAL starts right after the checkpoint; records from LSN covered + 1 stream into it.
        WalConfig walConfig = options.Wal with { WalDir = Path.Combine(temp, "wal") };
        using (WalManager.Open(new FileSystemWalStorage(walConfig.WalDir, walConfig.MemoryMappedSegments), walConfig, standby: true, firstLsn: covered + 1))
        {
        }

        ReplicationFiles.WriteEpoch(temp, ReplicationFiles.StandbyFile, Math.Max(epoch, manifest.Epoch));
        DurableFiles.SyncDirectory(temp);
        string? aside = null;
        if (Directory.Exists(data))
        {
            aside = data + AsideSuffix + "-" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
            Directory.Move(data, aside); // the old data stays whole until the new is in place
            DurableFiles.SyncDirectory(parent);
        }

        Directory.Move(temp, data);
        DurableFiles.SyncDirectory(parent);
        if (aside is not null && keepOldIn is not null)
        {
            // A rewind that could not be done: the old content is kept (quarantined) inside the new directory.
            string kept = Path.Combine(data, keepOldIn);
            DurableFiles.CreateDirectoryDurably(Path.GetDirectoryName(kept)!);
            Directory.Move(aside, kept);
            DurableFiles.SyncDirectory(Path.GetDirectoryName(kept)!);
            DurableFiles.SyncDirectory(parent);
            logger.LogError("Standby: the replaced data of '{Directory}' (with its divergent records) is kept in '{Kept}'.", data, kept);
        }
        else if (aside is not null)
        {
            Directory.Delete(aside, recursive: true);
            DurableFiles.SyncDirectory(parent);
        }

        logger.LogInformation("Standby: installed the base backup of checkpoint '{Name}'; streaming resumes at LSN {Lsn}.", manifest.CheckpointName, covered + 1);
    }

    private static (long Sequence, long Covered) ParseName(BaseBackupManifest manifest)
    {
        string[] parts = manifest.CheckpointName.Split('-');
        if (parts.Length != 2
            || !long.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long sequence)
            || !long.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long covered)
            || covered != manifest.CoveredLsn
            || CheckpointFiles.FormatName(sequence, covered) != manifest.CheckpointName)
        {
            throw new InvalidDataException(
                $"The base backup names checkpoint '{manifest.CheckpointName}' covering LSN {manifest.CoveredLsn}; a checkpoint is named <sequence>-<covered LSN> in hexadecimal.");
        }

        return (sequence, covered);
    }

    private static async Task WriteFilesAsync(string checkpoint, BaseBackupManifest manifest, IAsyncEnumerable<BaseBackupChunk> chunks, CancellationToken cancellationToken)
    {
        var expected = manifest.Files.ToDictionary(f => f.RelativePath, f => f.Length, StringComparer.Ordinal);
        var written = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (BaseBackupFile file in manifest.Files)
        {
            string path = Resolve(checkpoint, file.RelativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using FileStream created = new(path, FileMode.CreateNew, FileAccess.Write);
            written[file.RelativePath] = 0;
        }

        await foreach (BaseBackupChunk chunk in chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (!written.TryGetValue(chunk.RelativePath, out long at) || chunk.Offset != at || at + chunk.Data.Length > expected[chunk.RelativePath])
            {
                throw new InvalidDataException(
                    $"Base backup chunk of '{chunk.RelativePath}' at offset {chunk.Offset} ({chunk.Data.Length} bytes) does not follow the manifest (expected offset {at}).");
            }

            FileStream stream = new(Resolve(checkpoint, chunk.RelativePath), FileMode.Open, FileAccess.Write);
            await using (stream.ConfigureAwait(false))
            {
                stream.Position = chunk.Offset;
                await stream.WriteAsync(chunk.Data, cancellationToken).ConfigureAwait(false);
            }

            written[chunk.RelativePath] = at + chunk.Data.Length;
        }

        foreach ((string relative, long length) in expected)
        {
            if (written[relative] != length)
            {
                throw new InvalidDataException($"Base backup file '{relative}' ended at {written[relative]} bytes; the manifest says {length}.");
            }

            using var file = new FileStream(Resolve(checkpoint, relative), FileMode.Open, FileAccess.ReadWrite);
            file.Flush(flushToDisk: true); // durable before the directory is renamed into place
        }
    }

    private static string Resolve(string root, string relative)
    {
        string path = Path.GetFullPath(Path.Combine(root, relative));
        if (Path.IsPathRooted(relative) || !path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Base backup file '{relative}' lies outside the checkpoint directory.");
        }

        return path;
    }
}

using Microsoft.Extensions.Logging;

namespace OxiVec.Replication;

/// <summary>Serving base backups: the newest checkpoint's files, streamed while the checkpoint is pinned.</summary>
public sealed partial class WalReplicator
{
    /// <summary>The largest chunk of a base backup.</summary>
    public const int MaxBaseBackupChunkBytes = 1 << 20;

    /// <summary>
    /// Serves a base backup: the newest valid checkpoint (one is taken first when there is none, or when the WAL after
    /// the newest is no longer all retained), pinned so retention keeps it and the WAL after it while streamed;
    /// the manifest first, then every file in the manifest's order in chunks of at most
    /// <see cref="MaxBaseBackupChunkBytes"/>. The standby verifies the checkpoint's checksums before it uses it.
    /// </summary>
    /// <exception cref="IOException">A checkpoint could not be taken or read.</exception>
    public async Task ServeBaseBackupAsync(
        Func<BaseBackupManifest, CancellationToken, ValueTask> sendManifest, Func<BaseBackupChunk, CancellationToken, ValueTask> sendChunk,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sendManifest);
        ArgumentNullException.ThrowIfNull(sendChunk);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        (string path, long covered, IDisposable pin) = await Task.Run(
            () => _database.PinNewestCheckpoint(coveredLsn => coveredLsn + 1 < _wal.FirstLsn), cancellationToken).ConfigureAwait(false);
        using (pin)
        {
            List<BaseBackupFile> files = [.. Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Select(f => new BaseBackupFile(Path.GetRelativePath(path, f).Replace(Path.DirectorySeparatorChar, '/'), new FileInfo(f).Length))
                .OrderBy(f => f.RelativePath, StringComparer.Ordinal)];
            var manifest = new BaseBackupManifest(Path.GetFileName(path), covered, Epoch, files);
            _logger.LogInformation(
                "Replication: serving a base backup of checkpoint '{Name}' (LSN {Lsn}, {Files} files, {Bytes} bytes).",
                manifest.CheckpointName, covered, files.Count, files.Sum(f => f.Length));
            await sendManifest(manifest, cancellationToken).ConfigureAwait(false);
            foreach (BaseBackupFile file in files)
            {
                FileStream stream = new(Path.Combine(path, file.RelativePath), FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
                await using (stream.ConfigureAwait(false))
                {
                    long offset = 0;
                    while (offset < file.Length)
                    {
                        byte[] chunk = new byte[(int)Math.Min(MaxBaseBackupChunkBytes, file.Length - offset)];
                        await stream.ReadExactlyAsync(chunk, cancellationToken).ConfigureAwait(false);
                        await sendChunk(new BaseBackupChunk(file.RelativePath, offset, chunk), cancellationToken).ConfigureAwait(false);
                        offset += chunk.Length;
                    }
                }
            }
        }
    }
}

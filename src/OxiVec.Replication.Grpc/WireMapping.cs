using Google.Protobuf;
using Wire = OxiVec.Replication.Grpc.Protocol;

namespace OxiVec.Replication.Grpc;

/// <summary>
/// Converts the engine's replication records to the protocol's messages and back. Byte payloads (WAL frames, backup
/// chunks) are wrapped, never copied or re-encoded: the standby verifies the very bytes of the primary's log.
/// </summary>
internal static class WireMapping
{
    public static Wire.PrimaryFrame ToWire(PrimaryMessage message) => message switch
    {
        WalBatch b => new Wire.PrimaryFrame
        {
            Batch = new Wire.WalBatch
            {
                Epoch = b.Epoch, FirstLsn = b.FirstLsn, LastLsn = b.LastLsn, Frames = UnsafeByteOperations.UnsafeWrap(b.Frames),
                PrimaryFlushedLsn = b.PrimaryFlushedLsn, PrimaryLastLsn = b.PrimaryLastLsn, SentUnixMicros = b.SentUnixMicros,
                ApplyNotAwaited = !b.ApplyAwaited,
            },
        },
        PrimaryKeepalive k => new Wire.PrimaryFrame
        {
            Keepalive = new Wire.PrimaryKeepalive
            {
                Epoch = k.Epoch, PrimaryFlushedLsn = k.PrimaryFlushedLsn, PrimaryLastLsn = k.PrimaryLastLsn, SentUnixMicros = k.SentUnixMicros,
            },
        },
        BaseBackupRequired r => new Wire.PrimaryFrame { BaseBackupRequired = new Wire.BaseBackupRequired { Reason = r.Reason } },
        WalDiverged d => new Wire.PrimaryFrame { Diverged = new Wire.WalDiverged { Epoch = d.Epoch, KeepThroughLsn = d.KeepThroughLsn } },
        EpochHistory h => new Wire.PrimaryFrame { History = HistoryToWire(h) },
        _ => throw new ArgumentException($"No wire form for the primary message {message.GetType().Name}.", nameof(message)),
    };

    public static PrimaryMessage FromWire(Wire.PrimaryFrame frame) => frame.KindCase switch
    {
        Wire.PrimaryFrame.KindOneofCase.Batch => new WalBatch(
            frame.Batch.Epoch, frame.Batch.FirstLsn, frame.Batch.LastLsn, frame.Batch.Frames.Memory, frame.Batch.PrimaryFlushedLsn,
            frame.Batch.PrimaryLastLsn, frame.Batch.SentUnixMicros) { ApplyAwaited = !frame.Batch.ApplyNotAwaited },
        Wire.PrimaryFrame.KindOneofCase.Keepalive => new PrimaryKeepalive(
            frame.Keepalive.Epoch, frame.Keepalive.PrimaryFlushedLsn, frame.Keepalive.PrimaryLastLsn, frame.Keepalive.SentUnixMicros),
        Wire.PrimaryFrame.KindOneofCase.BaseBackupRequired => new BaseBackupRequired(frame.BaseBackupRequired.Reason),
        Wire.PrimaryFrame.KindOneofCase.Diverged => new WalDiverged(frame.Diverged.Epoch, frame.Diverged.KeepThroughLsn),
        Wire.PrimaryFrame.KindOneofCase.History => new EpochHistory(frame.History.Epoch, [.. frame.History.Branches.Select(b => new EpochBranch(b.Epoch, b.StartLsn))]),
        _ => throw new IOException($"The replication stream carried a primary frame of unknown kind ({frame.KindCase}); is the primary a newer version?"),
    };

    public static Wire.StandbyFrame ToWire(StandbyMessage message) => message switch
    {
        StandbyHello h => new Wire.StandbyFrame
        {
            Hello = new Wire.StandbyHello { Name = h.Name, LastLsn = h.LastLsn, LastRecordDigest = h.LastRecordDigest, Epoch = h.Epoch },
        },
        StandbyProgress p => new Wire.StandbyFrame
        {
            Progress = new Wire.StandbyProgress { WrittenLsn = p.WrittenLsn, FlushedLsn = p.FlushedLsn, AppliedLsn = p.AppliedLsn },
        },
        _ => throw new ArgumentException($"No wire form for the standby message {message.GetType().Name}.", nameof(message)),
    };

    public static StandbyMessage FromWire(Wire.StandbyFrame frame) => frame.KindCase switch
    {
        Wire.StandbyFrame.KindOneofCase.Hello => new StandbyHello(frame.Hello.Name, frame.Hello.LastLsn, frame.Hello.LastRecordDigest, frame.Hello.Epoch),
        Wire.StandbyFrame.KindOneofCase.Progress => new StandbyProgress(frame.Progress.WrittenLsn, frame.Progress.FlushedLsn, frame.Progress.AppliedLsn),
        _ => throw new IOException($"The replication stream carried a standby frame of unknown kind ({frame.KindCase}); is the standby a newer version?"),
    };

    public static Wire.BaseBackupFrame ToWire(BaseBackupManifest manifest)
    {
        var wire = new Wire.BaseBackupManifest { CheckpointName = manifest.CheckpointName, CoveredLsn = manifest.CoveredLsn, Epoch = manifest.Epoch };
        wire.Files.AddRange(manifest.Files.Select(f => new Wire.BaseBackupFile { RelativePath = f.RelativePath, Length = f.Length }));
        return new Wire.BaseBackupFrame { Manifest = wire };
    }

    public static Wire.BaseBackupFrame ToWire(BaseBackupChunk chunk) => new()
    {
        Chunk = new Wire.BaseBackupChunk { RelativePath = chunk.RelativePath, Offset = chunk.Offset, Data = UnsafeByteOperations.UnsafeWrap(chunk.Data) },
    };

    public static BaseBackupManifest FromWire(Wire.BaseBackupManifest manifest) =>
        new(manifest.CheckpointName, manifest.CoveredLsn, manifest.Epoch, [.. manifest.Files.Select(f => new BaseBackupFile(f.RelativePath, f.Length))]);

    public static BaseBackupChunk FromWire(Wire.BaseBackupChunk chunk) => new(chunk.RelativePath, chunk.Offset, chunk.Data.Memory);

    private static Wire.EpochHistory HistoryToWire(EpochHistory history)
    {
        var wire = new Wire.EpochHistory { Epoch = history.Epoch };
        wire.Branches.Add(history.Branches.Select(b => new Wire.EpochBranch { Epoch = b.Epoch, StartLsn = b.StartLsn }));
        return wire;
    }
}

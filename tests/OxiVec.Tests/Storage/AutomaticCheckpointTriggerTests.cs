using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>The "WAL nearly full" trigger measures the WAL not yet covered by a checkpoint, not all the WAL retained.</summary>
public sealed class AutomaticCheckpointTriggerTests
{
    private const long MaxWalSize = 256 << 10;

    public static TheoryData<int> Retentions() => [0, 4]; // 0: KeepAll

    [Theory]
    [MemberData(nameof(Retentions))]
    public void ManyWritesUnderASmallMaxWalSize_CheckpointOncePerBudgetNotOncePerWrite(int keepLast)
    {
        using var temp = new TempDirectory();
        var options = new VectorDatabaseOptions
        {
            // fsync per write: writes take long enough that a checkpoint triggered by each of them gets to run.
            Wal = WalConfig.MaximumDurability with
            {
                SegmentSizeBytes = 64 << 10,
                MaxWalSize = MaxWalSize,
                CheckpointInterval = int.MaxValue, // only the size trigger
                RetentionPolicy = keepLast == 0 ? RetentionPolicy.KeepAll : RetentionPolicy.KeepLast(keepLast),
            },
        };

        long bytes;
        long checkpoints;
        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            db.CreateCollection("docs", new CollectionOptions(64) { Index = IndexKind.Flat });
            var vector = new float[64];
            for (int i = 0; i < 3000; i++)
            {
                vector[0] = i + 1;
                db.Insert("docs", $"v{i}", vector);
            }

            db.Sync();
            bytes = db.GetWalMetrics().BytesWritten;
            db.Dispose(); // waits for a background checkpoint in progress
            checkpoints = db.LastCheckpoint?.Sequence ?? 0;
        }

        // Each trigger needs 80 % of MaxWalSize written since the checkpoint before it started.
        long bound = (long)(bytes / (0.8 * MaxWalSize)) + 1;
        Assert.True(bytes > 3 * MaxWalSize, $"the test writes several budgets of WAL ({bytes} bytes)");
        Assert.True(checkpoints >= 1 && checkpoints <= bound, $"{checkpoints} automatic checkpoints for {bytes} bytes of WAL; at most {bound} expected");
        if (keepLast == 0)
        {
            Assert.Equal(checkpoints, Directory.GetDirectories(Path.Combine(temp.Path, "checkpoints")).Length);
        }
    }
}

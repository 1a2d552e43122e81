using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>The "WAL nearly full" trigger measures the WAL not yet covered by a checkpoint, not all the WAL retained.</summary>
public sealed class AutomaticCheckpointTriggerTests
{
    private const long MaxWalSize = 256 << 10;

    public static TheoryData<int> Retentions() => [0, 2]; // 0: KeepAll

    [Theory]
    [MemberData(nameof(Retentions))]
    public void ManyWritesUnderASmallMaxWalSize_CheckpointOncePerBudgetNotOncePerWrite(int keepLast)
    {
        using var temp = new TempDirectory();
        var options = new VectorDatabaseOptions
        {
            Wal = WalConfig.Balanced with
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
            for (int i = 0; i < 4000; i++)
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
        Assert.InRange(checkpoints, 1, bound);
        if (keepLast == 0)
        {
            Assert.Equal(checkpoints, Directory.GetDirectories(Path.Combine(temp.Path, "checkpoints")).Length);
        }
    }
}

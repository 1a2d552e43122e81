using OxiVec.CrashTests.Infrastructure;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.CrashTests;

/// <summary>
/// The writing commands do not guess the application's retention (nothing is deleted without --keep-last), and
/// point-in-time recovery refuses a target inside the source.
/// </summary>
public sealed class RetentionAndTargetCliTests
{
    private const int ApplicationCheckpoints = 8; // more than WalConfig.Default's KeepLast(7)

    /// <summary>An application's database with KeepAll retention and eight checkpoints; returns their directories.</summary>
    private static string[] ApplicationDatabase(string data)
    {
        var options = new VectorDatabaseOptions { Wal = WalConfig.Default with { RetentionPolicy = RetentionPolicy.KeepAll } };
        using var db = VectorDatabase.Open(data, options);
        db.CreateCollection("c", new CollectionOptions(2) { Index = IndexKind.Flat });
        for (int i = 0; i < ApplicationCheckpoints; i++)
        {
            db.Insert("c", $"app{i}", new float[] { i + 1, 1 });
            db.Checkpoint();
        }

        return Directory.GetDirectories(Path.Combine(data, "checkpoints"));
    }

    private static async Task<CliResult> Ok(params string[] arguments)
    {
        CliResult result = await CliProcess.RunAsync(arguments);
        Assert.True(result.ExitCode == 0, $"oxivec {string.Join(' ', arguments)}: {result}");
        return result;
    }

    [Fact]
    public async Task Load_CheckpointsAsItGoes_ButDeletesNoneOfTheApplicationsCheckpointsWithoutKeepLast()
    {
        using var dir = new TempDirectory();
        string data = dir.Sub("data");
        string[] before = ApplicationDatabase(data);

        // --checkpoint-interval 1: the first write starts an automatic checkpoint, which closing waits for.
        await Ok("load", "--data", data, "--collection", "c", "--dim", "2", "--count", "5", "--checkpoint-interval", "1");

        string[] after = Directory.GetDirectories(Path.Combine(data, "checkpoints"));
        Assert.All(before, checkpoint => Assert.Contains(checkpoint, after));
        Assert.True(after.Length > before.Length, "load wrote a checkpoint of its own");
        Assert.Equal(1, new WalReader(Path.Combine(data, "wal")).ReadRecords().First().Lsn);

        // Asked for explicitly, retention applies.
        await Ok("load", "--data", data, "--collection", "c", "--dim", "2", "--count", "5", "--start", "5", "--checkpoint-interval", "1", "--keep-last", "2");
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(data, "checkpoints")).Length);
    }

    [Fact]
    public async Task Import_CheckpointsAsItGoes_ButDeletesNoneOfTheApplicationsCheckpointsWithoutKeepLast()
    {
        using var dir = new TempDirectory();
        string data = dir.Sub("data");
        string[] before = ApplicationDatabase(data);

        // 12 transactions of 1,000: past WalConfig.Default's CheckpointInterval (10,000 operations).
        string file = dir.Sub("rows.fvecs");
        VectorFiles.WriteFvecs(file, Enumerable.Range(0, 12_000).Select(i => new float[] { i + 1, 2 }));
        await Ok("import", "--data", data, "--collection", "c", "--file", file);

        string[] after = Directory.GetDirectories(Path.Combine(data, "checkpoints"));
        Assert.All(before, checkpoint => Assert.Contains(checkpoint, after));
        Assert.True(after.Length > before.Length, "import wrote a checkpoint of its own");
    }

    [Fact]
    public async Task Recover_ToLsnWithATargetInsideTheSource_ExitsOneAndWritesNothing()
    {
        using var dir = new TempDirectory();
        string data = dir.Sub("data");
        ApplicationDatabase(data);
        string[] before = [.. Directory.GetFileSystemEntries(data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

        foreach (string target in new[] { Path.Combine(data, "restored"), Path.Combine(data, "wal", "restored") })
        {
            CliResult result = await CliProcess.RunAsync("recover", "--data", data, "--to-lsn", "3", "--target", target);
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains("is inside the source's data directory", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(before, Directory.GetFileSystemEntries(data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        }
    }
}

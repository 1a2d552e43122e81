using System.Text.Json;
using OxiVec.CrashTests.Infrastructure;

namespace OxiVec.CrashTests;

/// <summary>The <c>oxivec</c> CLI driven as a child process, as a user or a script would: exit codes and output.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task WalVerify_HealthyWal_ExitsZeroAndCountsEveryRecord()
    {
        using var dir = new TempDirectory();
        long last = TestWal.Create(dir.Path);

        CliResult result = await CliProcess.RunAsync("wal", "verify", "--wal", dir.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"valid: {last:N0} valid records in {TestWal.Segments(dir.Path).Length} segments", result.Stdout);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task WalVerifyJson_HealthyWal_ReportsValidWithEverySegment()
    {
        using var dir = new TempDirectory();
        long last = TestWal.Create(dir.Path);

        CliResult result = await CliProcess.RunAsync("wal", "verify", "--wal", dir.Path, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        JsonElement root = json.RootElement;
        Assert.True(root.GetProperty("valid").GetBoolean());
        Assert.Equal(last, root.GetProperty("records").GetInt64());
        JsonElement[] segments = [.. root.GetProperty("segments").EnumerateArray()];
        Assert.Equal(TestWal.Segments(dir.Path).Select(Path.GetFileName), segments.Select(s => s.GetProperty("file").GetString()));
        Assert.Equal(1, segments[0].GetProperty("first_lsn").GetInt64());
        Assert.Equal(last, segments[^1].GetProperty("last_lsn").GetInt64());
        Assert.Equal(0, root.GetProperty("issues").GetArrayLength());
    }

    [Fact]
    public async Task WalVerify_FlippedByteInSealedSegment_ExitsTwoNamingSegmentAndOffset()
    {
        using var dir = new TempDirectory();
        TestWal.Create(dir.Path);
        Assert.True(TestWal.Segments(dir.Path).Length >= 3, "The WAL must have segments after the damaged one.");
        (string segment, long offset) = TestWal.FlipByteInFirstSegment(dir.Path);

        CliResult result = await CliProcess.RunAsync("wal", "verify", "--wal", dir.Path);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"corruption: {segment} at byte offset {offset}: ", result.Stdout);
        Assert.Contains("CORRUPT", result.Stdout);
        string error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("oxivec: ", error);
        Assert.Contains($"{segment} at byte offset {offset}", error);
    }

    [Fact]
    public async Task WalVerifyJson_FlippedByteInSealedSegment_ListsCorruptionIssue()
    {
        using var dir = new TempDirectory();
        TestWal.Create(dir.Path);
        (string segment, long offset) = TestWal.FlipByteInFirstSegment(dir.Path);

        CliResult result = await CliProcess.RunAsync("wal", "verify", "--wal", dir.Path, "--json");

        Assert.True(result.ExitCode == 2, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.Stdout);
        Assert.False(json.RootElement.GetProperty("valid").GetBoolean());
        JsonElement issue = json.RootElement.GetProperty("issues").EnumerateArray().First();
        Assert.Equal("corruption", issue.GetProperty("kind").GetString());
        Assert.Equal(segment, issue.GetProperty("segment").GetString());
        Assert.Equal(offset, issue.GetProperty("offset").GetInt64());
        Assert.Contains("checksum", issue.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WalVerify_TornTail_ExitsZeroAndReportsIt()
    {
        using var dir = new TempDirectory();
        TestWal.Create(dir.Path);
        string last = TestWal.Segments(dir.Path)[^1];
        long end = new OxiVec.Wal.WalReader(dir.Path).Verify().Segments[^1].ValidBytes;
        using (var file = new FileStream(last, FileMode.Open, FileAccess.Write))
        {
            file.Position = end;
            file.Write(Enumerable.Repeat((byte)0xA7, 100).ToArray()); // half a record: a write the crash cut short
        }

        CliResult text = await CliProcess.RunAsync("wal", "verify", "--wal", dir.Path);
        CliResult json = await CliProcess.RunAsync("wal", "verify", "--wal", dir.Path, "--json");

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains($"torn_tail: {Path.GetFileName(last)} at byte offset {end}: ", text.Stdout);
        Assert.True(json.ExitCode == 0, json.ToString());
        using JsonDocument doc = JsonDocument.Parse(json.Stdout);
        Assert.True(doc.RootElement.GetProperty("valid").GetBoolean());
        JsonElement issue = Assert.Single(doc.RootElement.GetProperty("issues").EnumerateArray().ToArray());
        Assert.Equal("torn_tail", issue.GetProperty("kind").GetString());
        Assert.Equal(end, issue.GetProperty("offset").GetInt64());
        Assert.Equal(100, issue.GetProperty("bytes").GetInt64());
    }

    /// <summary>Issue 10's repro: an interval policy, a clean close, 8 bytes flipped at offset 100,000 of the segment.</summary>
    [Fact]
    public async Task WalVerify_DamageInFsyncedRecordsAfterCleanCloseWithIntervalPolicy_ExitsTwoNamingFileAndOffset()
    {
        using var dir = new TempDirectory();
        var config = new OxiVec.Wal.WalConfig { WalDir = dir.Path, SyncIntervalMs = 1000, SegmentSizeBytes = 64 << 20, MaxWalSize = 256 << 20 };
        using (var wal = OxiVec.Wal.WalManager.Open(config))
        {
            for (int i = 1; i <= 3000; i++)
            {
                wal.LogInsert("c", $"v{i}", new float[16]);
            }
        }

        string segment = TestWal.Segments(dir.Path)[^1];
        long recordOffset = new OxiVec.Wal.WalReader(dir.Path).ReadRecords().Last(r => r.Offset <= 100_000).Offset;
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = 100_000;
            file.Write(Enumerable.Repeat((byte)0x5A, 8).ToArray());
        }

        CliResult result = await CliProcess.RunAsync("wal", "verify", "--wal", dir.Path);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains($"{Path.GetFileName(segment)} at byte offset {recordOffset}", result.Stderr);
        Assert.Contains("known-durable", result.Stderr);
    }

    [Fact]
    public async Task WalVerify_MissingDirectory_ExitsOneWithOneLineError()
    {
        using var dir = new TempDirectory();
        string missing = dir.Sub("no-such-wal");

        CliResult result = await CliProcess.RunAsync("wal", "verify", "--wal", missing);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("", result.Stdout);
        string error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(missing, error);
        Assert.Contains("does not exist", error);
        Assert.False(Directory.Exists(missing), "verify must not create the directory.");
    }

    [Fact]
    public async Task WalVerify_DirectoryWithoutSegments_ExitsOne()
    {
        using var dir = new TempDirectory();

        CliResult result = await CliProcess.RunAsync("wal", "verify", "--wal", dir.Path);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("no WAL segment files", result.Stderr);
    }

    [Fact]
    public async Task WalVerify_WithoutWalOption_ExitsOneWithUsageHint()
    {
        CliResult result = await CliProcess.RunAsync("wal", "verify");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("--wal", result.Stderr);
        Assert.Contains("oxivec wal verify --help", result.Stderr);
    }

    [Fact]
    public async Task WalDumpJson_EveryLineParses_LsnsRunOneToN()
    {
        using var dir = new TempDirectory();
        long last = TestWal.Create(dir.Path);

        CliResult result = await CliProcess.RunAsync("wal", "dump", "--wal", dir.Path, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        string[] lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(last, lines.Length);
        var docs = lines.Select(line => JsonDocument.Parse(line)).ToList();
        try
        {
            Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), docs.Select(d => d.RootElement.GetProperty("lsn").GetInt64()));
            JsonElement first = docs[0].RootElement;
            Assert.Equal("insert", first.GetProperty("type").GetString());
            Assert.Equal("none", first.GetProperty("flags").GetString());
            Assert.Equal("docs", first.GetProperty("collection").GetString());
            Assert.Equal("doc-1", first.GetProperty("id").GetString());
            Assert.Equal(8, first.GetProperty("dimension").GetInt32());
            Assert.Equal(64, first.GetProperty("offset").GetInt64());
            Assert.Equal(Path.GetFileName(TestWal.Segments(dir.Path)[0]), first.GetProperty("segment").GetString());
            Assert.True(DateTimeOffset.TryParse(first.GetProperty("timestamp").GetString(), out _));

            // Insert 100 is followed by its transaction: begin, three members, commit.
            JsonElement[] tx = [.. docs.Skip(100).Take(5).Select(d => d.RootElement)];
            Assert.Equal(["transaction_begin", "insert", "update", "delete", "transaction_commit"], tx.Select(e => e.GetProperty("type").GetString()));
            Assert.Equal(3, tx[0].GetProperty("entry_count").GetInt32());
            Assert.All(tx[1..4], e => Assert.Equal("transaction_member", e.GetProperty("flags").GetString()));
            Assert.Equal(tx[0].GetProperty("lsn").GetInt64(), tx[4].GetProperty("begin_lsn").GetInt64());

            JsonElement checkpoint = docs[^2].RootElement;
            Assert.Equal("checkpoint", checkpoint.GetProperty("type").GetString());
            Assert.Equal(last - 2, checkpoint.GetProperty("covered_lsn").GetInt64());
            Assert.Equal(4, docs[^1].RootElement.GetProperty("payload_bytes").GetInt32());
            Assert.Equal("reindex", docs[^1].RootElement.GetProperty("operation").GetString());
        }
        finally
        {
            docs.ForEach(d => d.Dispose());
        }
    }

    [Fact]
    public async Task WalDump_FromLsn_ListsOneLinePerRecordFromThere()
    {
        using var dir = new TempDirectory();
        long last = TestWal.Create(dir.Path);

        CliResult result = await CliProcess.RunAsync("wal", "dump", "--wal", dir.Path, "--from-lsn", "101");

        Assert.True(result.ExitCode == 0, result.ToString());
        string[] lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(last - 100, lines.Length);
        string[] begin = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("101", begin[0]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", begin[1]);
        Assert.Equal(["transaction_begin", "-"], begin[2..4]);
        Assert.EndsWith("entry_count=3", lines[0]);
        Assert.Contains(" tx-member ", lines[1]);
        Assert.Contains("collection=docs id=tx-100 dimension=3 metadata_bytes=0", lines[1]);
    }

    [Fact]
    public async Task WalDump_CorruptSealedSegment_ExitsTwoAfterTheIntactRecords()
    {
        using var dir = new TempDirectory();
        TestWal.Create(dir.Path);
        (string segment, long offset) = TestWal.FlipByteInFirstSegment(dir.Path);

        CliResult result = await CliProcess.RunAsync("wal", "dump", "--wal", dir.Path, "--json");

        Assert.True(result.ExitCode == 2, result.ToString());
        string[] lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.Equal(segment, JsonDocument.Parse(line).RootElement.GetProperty("segment").GetString()));
        Assert.Contains($"at byte offset {offset}", result.Stderr);
    }

    [Fact]
    public async Task Demo_UnderTheDotnetMuxer_LoadsSearchesCrashesALoaderAndRecoversEveryAck()
    {
        CliResult result = await CliProcess.RunAsync("demo");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("OK: Loaded 20,000 articles in ", result.Stdout);
        Assert.Matches(@"an exact scan finds the same \d of 5\.", result.Stdout);
        Assert.Matches(@"OK: Killed loader process \d+ with SIGKILL \(exit code -?\d+\) after [\d,]+ acknowledged records\.", result.Stdout);
        Assert.Matches(@"OK: All [\d,]+ records the loader acknowledged are there, each with its exact vector and metadata\.", result.Stdout);
        Assert.Matches(@"OK: 'events' holds [\d,]+ records, v0\.\.v\d+: whole batches of 100 only", result.Stdout);
        Assert.Contains("OK: 'articles' still holds 20,000 articles, and the filtered search returns the same 5 results as before the crash.", result.Stdout);
        Assert.DoesNotContain("FAILED", result.Stdout);
        string removed = Assert.Single(result.Stdout.Split('\n'), l => l.StartsWith("Removed ", StringComparison.Ordinal));
        Assert.False(Directory.Exists(removed["Removed ".Length..].TrimEnd('.')), "The demo must remove its temporary directory.");
    }
}

using System.Globalization;
using System.Text.Json;
using OxiVec.CrashTests.Infrastructure;
using OxiVec.Storage;

namespace OxiVec.CrashTests;

/// <summary>
/// The database commands of the <c>oxivec</c> CLI (load, import, export, search, stats) driven as child processes, the
/// way a script drives them: output formats, round trips, and the exit code and one-line message of every bad input.
/// </summary>
public sealed class DatabaseCliTests
{
    [Fact]
    public async Task Load_ThenExport_IsDeterministic_AndFollowsTheDocumentedGenerator()
    {
        using var dir = new TempDirectory();
        string one = dir.Sub("one"), batched = dir.Sub("batched"), other = dir.Sub("other");

        CliResult load = await CliProcess.RunAsync("load", "--data", one, "--collection", "c", "--dim", "6", "--count", "50", "--seed", "9", "--metric", "l2", "--index", "flat");
        await Ok("load", "--data", batched, "--collection", "c", "--dim", "6", "--count", "50", "--seed", "9", "--metric", "l2", "--batch", "7");
        await Ok("load", "--data", other, "--collection", "c", "--dim", "6", "--count", "50", "--seed", "10", "--metric", "l2");

        Assert.True(load.ExitCode == 0, load.ToString());
        Assert.Matches(@"^loaded 50 records into 'c' in \d+\.\d\d s \(\d+ records/s\)\n$", load.Stdout);
        string export = (await Ok("export", "--data", one, "--collection", "c")).Stdout;
        Assert.Equal(export, (await Ok("export", "--data", batched, "--collection", "c")).Stdout); // batches and index change nothing
        Assert.NotEqual(export, (await Ok("export", "--data", other, "--collection", "c")).Stdout);

        List<ExportedRecord> records = ParseExport(export);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"v{i}").Order(StringComparer.Ordinal), records.Select(r => r.Id));
        foreach (ExportedRecord r in records)
        {
            long i = long.Parse(r.Id[1..], CultureInfo.InvariantCulture);
            Assert.Equal(DocumentedVectors.Vector(9, i, 6), r.Vector);
            Assert.Equal($$"""{"group":{{i % 10}},"i":{{i}}}""", r.MetadataJson);
        }
    }

    [Fact]
    public async Task Load_ExistingCollectionOfAnotherDimension_ExitsOneAndWritesNothing()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "6", "--count", "10");

        CliResult result = await CliProcess.RunAsync("load", "--data", dir.Path, "--collection", "c", "--dim", "7", "--count", "10", "--start", "10");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("", result.Stdout);
        string error = ErrorLine(result);
        Assert.Contains("collection 'c' has dimension 6", error);
        Assert.Contains("--dim is 7", error);
        Assert.Equal(10, Collection(await Stats(dir.Path), "c").GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Load_IdsThatExist_ExitsOneSayingWhichAndHowToContinue()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "4", "--count", "10");

        CliResult result = await CliProcess.RunAsync("load", "--data", dir.Path, "--collection", "c", "--dim", "4", "--count", "10", "--start", "5", "--batch", "3");

        Assert.True(result.ExitCode == 1, result.ToString());
        string error = ErrorLine(result);
        Assert.Contains("record 'v5' already exists", error);
        Assert.Contains("--start", error);
    }

    [Fact]
    public async Task ImportFvecs_RoundTripsThroughExport()
    {
        using var dir = new TempDirectory();
        float[][] vectors = [.. Enumerable.Range(0, 30).Select(i => DocumentedVectors.Vector(3, i, 5))];
        string file = dir.Sub("vectors.fvecs");
        VectorFiles.WriteFvecs(file, vectors);

        CliResult import = await Ok("import", "--data", dir.Path, "--collection", "f", "--file", file, "--metric", "dot", "--batch", "8");

        Assert.Matches(@"^imported 30 records from '.*vectors\.fvecs' into 'f' in ", import.Stdout);
        List<ExportedRecord> records = ParseExport((await Ok("export", "--data", dir.Path, "--collection", "f")).Stdout);
        Assert.Equal(30, records.Count);
        Assert.All(records, r => Assert.Equal(vectors[int.Parse(r.Id[1..], CultureInfo.InvariantCulture)], r.Vector));
        Assert.All(records, r => Assert.Equal("{}", r.MetadataJson));
        JsonElement stats = Collection(await Stats(dir.Path), "f");
        Assert.Equal(5, stats.GetProperty("dimension").GetInt32());
        Assert.Equal("dot", stats.GetProperty("metric").GetString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ImportNpy_RoundTripsThroughExport(byte version)
    {
        using var dir = new TempDirectory();
        float[][] vectors = [.. Enumerable.Range(0, 25).Select(i => DocumentedVectors.Vector(4, i, 7))];
        string file = dir.Sub("vectors.npy");
        VectorFiles.WriteNpyFloat32(file, vectors, version);

        await Ok("import", "--data", dir.Path, "--collection", "n", "--file", file, "--index", "flat");

        List<ExportedRecord> records = ParseExport((await Ok("export", "--data", dir.Path, "--collection", "n")).Stdout);
        Assert.Equal(25, records.Count);
        Assert.All(records, r => Assert.Equal(vectors[int.Parse(r.Id[1..], CultureInfo.InvariantCulture)], r.Vector));
    }

    [Fact]
    public async Task ImportJsonl_EveryMetadataType_RoundTripsThroughExportAndReimport()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("docs.jsonl");
        File.WriteAllLines(file,
        [
            """{"id": "doc-1", "vector": [0.5, -1.25, 3], "metadata": {"lang": "en", "year": 2024, "score": 0.75, "whole": 3.0, "big": 1e300, "draft": false, "tags": ["a", "b"], "none": [], "nothing": null, "mixed": [1, "a", 2.5, true, null], "nested": {"b": {"c": [1, 2]}, "a": "x"}}}""",
            "",
            """{"vector": [1e-7, 2, 0.1], "id": "doc-2"}""",
            """{"id": "ünïcode ✓", "vector": [0.1, 0.2, 0.30000001], "metadata": {"quote\"d": "line\nbreak", "neg": -9007199254740993}}""",
        ]);

        await Ok("import", "--data", dir.Path, "--collection", "j", "--file", file);
        string export = (await Ok("export", "--data", dir.Path, "--collection", "j")).Stdout;
        string exported = dir.Sub("exported.jsonl");
        File.WriteAllText(exported, export);
        await Ok("import", "--data", dir.Path, "--collection", "copy", "--file", exported);
        string copy = (await Ok("export", "--data", dir.Path, "--collection", "copy")).Stdout;

        Assert.Equal(export, copy);
        List<ExportedRecord> records = ParseExport(export);
        Assert.Equal(["doc-1", "doc-2", "ünïcode ✓"], records.Select(r => r.Id));
        Assert.Equal([0.5f, -1.25f, 3f], records[0].Vector);
        Assert.Equal([1e-7f, 2f, 0.1f], records[1].Vector);
        Assert.Equal(
            """{"big":1E+300,"draft":false,"lang":"en","mixed":[1,"a",2.5,true,null],"nested":{"b":{"c":[1,2]},"a":"x"},"none":[],"nothing":null,"score":0.75,"tags":["a","b"],"whole":3.0,"year":2024}""",
            records[0].MetadataJson);
        Assert.Equal("{}", records[1].MetadataJson);
        Assert.Equal("""{"neg":-9007199254740993,"quote\"d":"line\nbreak"}""", records[2].MetadataJson);

        // The types survived: a filter on the long and one on the double both match doc-1 only.
        string queries = dir.Sub("q.jsonl");
        File.WriteAllText(queries, """{"vector": [0.5, -1.25, 3]}""" + "\n");
        foreach (string filter in (string[])["year = 2024", "whole = 3 and draft = false", "tags = \"b\"", "big > 1e299"])
        {
            CliResult found = await Ok("search", "--data", dir.Path, "--collection", "copy", "--queries", queries, "-k", "3", "--filter", filter);
            using JsonDocument result = JsonDocument.Parse(found.Stdout);
            Assert.Equal(["doc-1"], result.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetString()));
        }
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48, "dtype '<f8' (float64) is not supported")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24, "Fortran (column-major) order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 24, "shape (6,) (1-D)")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20, "is it truncated?")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3) ", 24, "not a valid header dict")]
    public async Task ImportNpy_Unsupported_ExitsOneNamingTheProblem_AndCreatesNothing(string header, int dataBytes, string expected)
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("bad.npy");
        VectorFiles.WriteNpy(file, header, new byte[dataBytes]);
        await Ok("load", "--data", dir.Path, "--collection", "other", "--dim", "3", "--count", "1");

        CliResult result = await CliProcess.RunAsync("import", "--data", dir.Path, "--collection", "n", "--file", file);

        Assert.True(result.ExitCode == 1, result.ToString());
        string error = ErrorLine(result);
        Assert.Contains(file, error);
        Assert.Contains(expected, error);
        Assert.Equal(["other"], CollectionNames(await Stats(dir.Path)));
    }

    [Theory]
    [InlineData("""{"id": "c", "vector": [1, 2, 3], }""", "line 3: not valid JSON at column")]
    [InlineData("""{"id": "c", "vector": [1, 2]}""", "line 3: the vector has 2 components, but the first vector of the file has 3")]
    [InlineData("""{"id": "c", "vector": [1, 2, "3"]}""", "line 3: \"vector\" component 2 is a string, not a number")]
    [InlineData("""{"id": "a", "vector": [1, 2, 3]}""", "line 3: id 'a' appears twice in the file")]
    [InlineData("""{"id": "c", "vector": [1, 2, 3], "metadata": {"x": [1, {"y": 99999999999999999999}]}}""", "line 3: metadata field 'x' index 1 field 'y' is the integer 99999999999999999999, outside the 64-bit range")]
    [InlineData("""{"id": "c", "vector": [1, 2, 3], "metadata": {"x": {"y": 1, "y": 2}}}""", "line 3: metadata field 'x' has the field 'y' twice")]
    [InlineData("""{"id": "c", "vector": [1, 2, 3], "meta": {}}""", "line 3: unknown key \"meta\"")]
    [InlineData("""{"id": "c", "vector": [0, 0, 0]}""", "line 3: the vector's length is 0; a cosine collection cannot normalise it")]
    [InlineData("""{"vector": [1, 2, 3]}""", "line 3: no \"id\"")]
    [InlineData("""{"id": "c", "vector": [1, 2, 1e39]}""", "line 3: \"vector\" component 2 (1e39) is outside the float32 range")]
    public async Task ImportJsonl_BadLine_ExitsOneNamingTheLine_AndImportsNothing(string badLine, string expected)
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("docs.jsonl");
        File.WriteAllLines(file, ["""{"id": "a", "vector": [1, 2, 3]}""", """{"id": "b", "vector": [4, 5, 6]}""", badLine, """{"id": "d", "vector": [7, 8, 9]}"""]);

        CliResult result = await CliProcess.RunAsync("import", "--data", dir.Path, "--collection", "j", "--file", file, "--batch", "1");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"{file}: {expected}", ErrorLine(result));
        Assert.Empty(CollectionNames(await Stats(dir.Path)));
    }

    [Fact]
    public async Task ImportJsonl_ALineLongerThanTheLimit_ExitsOneNamingFileAndLine_AndImportsNothing()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("huge.jsonl");
        using (var writer = new StreamWriter(file))
        {
            writer.WriteLine("""{"id": "a", "vector": [1, 2, 3]}""");
            writer.Write("{\"id\": \"b\", \"vector\": [1, 2, 3], \"metadata\": {\"blob\": \"");
            writer.Write(new string('x', OxiVec.Cli.Data.JsonlReader.MaxLineChars)); // one enormous line, no end in sight
            writer.WriteLine("\"}}");
        }

        CliResult result = await CliProcess.RunAsync("import", "--data", dir.Path, "--collection", "j", "--file", file);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"{file}: line 2: is longer than 67,108,864 characters", ErrorLine(result));
        Assert.Empty(CollectionNames(await Stats(dir.Path)));
    }

    [Fact]
    public async Task Import_IntoAnExistingCollection_BadFileChangesNothing_ExistingIdNeedsUpsert()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "3", "--count", "5", "--metric", "l2");
        string before = (await Ok("export", "--data", dir.Path, "--collection", "c")).Stdout;
        string file = dir.Sub("more.jsonl");
        File.WriteAllLines(file, ["""{"id": "new-1", "vector": [1, 2, 3]}""", """{"id": "v2", "vector": [4, 5, 6], "metadata": {"replaced": true}}"""]);
        string wrongDimension = dir.Sub("wide.fvecs");
        VectorFiles.WriteFvecs(wrongDimension, [[1, 2, 3, 4]]);

        CliResult existing = await CliProcess.RunAsync("import", "--data", dir.Path, "--collection", "c", "--file", file);
        CliResult wide = await CliProcess.RunAsync("import", "--data", dir.Path, "--collection", "c", "--file", wrongDimension);

        Assert.True(existing.ExitCode == 1, existing.ToString());
        Assert.Contains("line 2: id 'v2' already exists in collection 'c'; pass --upsert", ErrorLine(existing));
        Assert.True(wide.ExitCode == 1, wide.ToString());
        Assert.Contains("collection 'c' has dimension 3, but", ErrorLine(wide));
        Assert.Equal(before, (await Ok("export", "--data", dir.Path, "--collection", "c")).Stdout);

        await Ok("import", "--data", dir.Path, "--collection", "c", "--file", file, "--upsert");
        List<ExportedRecord> after = ParseExport((await Ok("export", "--data", dir.Path, "--collection", "c")).Stdout);
        Assert.Equal(6, after.Count);
        Assert.Equal("""{"replaced":true}""", after.Single(r => r.Id == "v2").MetadataJson);
    }

    [Fact]
    public async Task ImportFvecs_Truncated_ExitsOneNamingTheRow()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("cut.fvecs");
        VectorFiles.WriteFvecs(file, [[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
        using (var stream = new FileStream(file, FileMode.Open))
        {
            stream.SetLength(stream.Length - 5);
        }

        CliResult result = await CliProcess.RunAsync("import", "--data", dir.Path, "--collection", "f", "--file", file);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"{file}: row 2 (byte offset 32): the file ends after 7 of the row's 12 bytes of float32 values", ErrorLine(result));
    }

    [Fact]
    public async Task Search_EachStoredVectorsNearestNeighbourIsItself_FilterRestrictsResults()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "8", "--count", "300", "--metric", "l2", "--seed", "5", "--batch", "50");
        string queries = dir.Sub("q.fvecs");
        VectorFiles.WriteFvecs(queries, [DocumentedVectors.Vector(5, 3, 8), DocumentedVectors.Vector(5, 150, 8)]);

        foreach (string[] mode in (string[][])[[], ["--exact"], ["--ef", "200"]])
        {
            CliResult result = await Ok(["search", "--data", dir.Path, "--collection", "c", "--queries", queries, "-k", "4", .. mode]);
            string[] lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            for (int q = 0; q < 2; q++)
            {
                using JsonDocument doc = JsonDocument.Parse(lines[q]);
                Assert.Equal(["ids", "scores"], doc.RootElement.EnumerateObject().Select(p => p.Name));
                string[] ids = [.. doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetString()!)];
                float[] scores = [.. doc.RootElement.GetProperty("scores").EnumerateArray().Select(e => e.GetSingle())];
                Assert.Equal(4, ids.Length);
                Assert.Equal(4, scores.Length);
                Assert.Equal(q == 0 ? "v3" : "v150", ids[0]);
                Assert.Equal(0f, scores[0]); // the Euclidean distance to itself
                Assert.Equal(scores.Order(), scores);
            }
        }

        CliResult filtered = await Ok("search", "--data", dir.Path, "--collection", "c", "--queries", queries, "-k", "5", "--filter", "group = 3 and i < 200");
        string[] filteredLines = filtered.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using JsonDocument first = JsonDocument.Parse(filteredLines[0]);
        using JsonDocument second = JsonDocument.Parse(filteredLines[1]);
        Assert.Equal("v3", first.RootElement.GetProperty("ids")[0].GetString());
        Assert.All(
            [.. first.RootElement.GetProperty("ids").EnumerateArray(), .. second.RootElement.GetProperty("ids").EnumerateArray()],
            id => Assert.True(int.Parse(id.GetString()![1..], CultureInfo.InvariantCulture) is var i && i % 10 == 3 && i < 200, id.GetString()));
    }

    [Fact]
    public async Task Search_InvalidFilter_ExitsOneWithTheParsersMessage()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "3", "--count", "5");
        string queries = dir.Sub("q.fvecs");
        VectorFiles.WriteFvecs(queries, [[1, 2, 3]]);
        string expected;
        try
        {
            MetadataFilter.Parse("group = ");
            throw new InvalidOperationException("the filter should not parse");
        }
        catch (FormatException ex)
        {
            expected = ex.Message;
        }

        CliResult result = await CliProcess.RunAsync("search", "--data", dir.Path, "--collection", "c", "--queries", queries, "--filter", "group = ");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("", result.Stdout);
        string error = ErrorLine(result);
        Assert.Contains("invalid --filter 'group = '", error);
        Assert.Contains(expected, error);
    }

    [Fact]
    public async Task Search_QueriesOfAnotherDimension_ExitsOne()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "3", "--count", "5");
        string queries = dir.Sub("q.jsonl");
        File.WriteAllText(queries, """{"vector": [1, 2, 3, 4]}""" + "\n");

        CliResult result = await CliProcess.RunAsync("search", "--data", dir.Path, "--collection", "c", "--queries", queries);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("the queries have dimension 4, but collection 'c' has dimension 3", ErrorLine(result));
    }

    [Fact]
    public async Task StatsJson_ListsCollectionsWalAndRecovery()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "h", "--dim", "4", "--count", "120", "--batch", "10", "--hnsw-m", "8", "--ef-construction", "40", "--checkpoint-interval", "50");
        await Ok("load", "--data", dir.Path, "--collection", "f", "--dim", "2", "--count", "3", "--index", "flat", "--metric", "dot");

        JsonElement stats = await Stats(dir.Path);
        CliResult plain = await Ok("stats", "--data", dir.Path);

        Assert.Equal(["f", "h"], CollectionNames(stats));
        JsonElement h = Collection(stats, "h");
        Assert.Equal(120, h.GetProperty("count").GetInt32());
        Assert.Equal(4, h.GetProperty("dimension").GetInt32());
        Assert.Equal("cosine", h.GetProperty("metric").GetString());
        Assert.Equal("hnsw", h.GetProperty("index").GetString());
        Assert.Equal(8, h.GetProperty("hnsw").GetProperty("m").GetInt32());
        Assert.Equal(40, h.GetProperty("hnsw").GetProperty("ef_construction").GetInt32());
        Assert.Equal(JsonValueKind.Null, Collection(stats, "f").GetProperty("hnsw").ValueKind);
        JsonElement wal = stats.GetProperty("wal");
        Assert.True(wal.GetProperty("size_bytes").GetInt64() > 0);
        Assert.True(wal.GetProperty("segment_count").GetInt32() >= 1);
        long lastLsn = wal.GetProperty("last_lsn").GetInt64();
        Assert.True(lastLsn > 12, $"last LSN {lastLsn}");
        Assert.Equal(lastLsn, wal.GetProperty("durable_lsn").GetInt64());
        Assert.Equal("healthy", wal.GetProperty("health").GetString());
        JsonElement recovery = stats.GetProperty("recovery");
        Assert.Equal(lastLsn, recovery.GetProperty("last_lsn").GetInt64());
        Assert.Equal(0, recovery.GetProperty("corrupted_entries").GetInt64());
        Assert.True(recovery.GetProperty("checkpoint_lsn").GetInt64() > 0, "120 operations at --checkpoint-interval 50 write a checkpoint.");
        Assert.Equal(recovery.GetProperty("checkpoint_lsn").GetInt64(), stats.GetProperty("checkpoint").GetProperty("covered_lsn").GetInt64());
        Assert.Equal(
            lastLsn - recovery.GetProperty("checkpoint_lsn").GetInt64(),
            recovery.GetProperty("total_entries").GetInt64());
        Assert.Contains("collection h: count 120, dimension 4, metric cosine, index hnsw (M 8, efConstruction 40, efSearch 64)", plain.Stdout);
    }

    [Fact]
    public async Task LockedDataDirectory_SecondProcess_ExitsOneWithOneLine()
    {
        using var dir = new TempDirectory();
        await Ok("load", "--data", dir.Path, "--collection", "c", "--dim", "3", "--count", "5");
        using VectorDatabase holder = VectorDatabase.Open(dir.Path);

        CliResult stats = await CliProcess.RunAsync("stats", "--data", dir.Path);
        CliResult load = await CliProcess.RunAsync("load", "--data", dir.Path, "--collection", "c", "--dim", "3", "--count", "5", "--start", "5");

        foreach (CliResult result in (CliResult[])[stats, load])
        {
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Equal("", result.Stdout);
            Assert.Contains("is in use by another process", ErrorLine(result));
        }

        Assert.Equal(5, holder.Count("c"));
    }

    [Fact]
    public async Task ReadCommands_MissingDirectoryOrCollection_ExitOneAndCreateNothing()
    {
        using var dir = new TempDirectory();
        string missing = dir.Sub("nothing-here");
        await Ok("load", "--data", dir.Sub("db"), "--collection", "c", "--dim", "3", "--count", "1");

        CliResult noDirectory = await CliProcess.RunAsync("export", "--data", missing, "--collection", "c");
        CliResult noCollection = await CliProcess.RunAsync("export", "--data", dir.Sub("db"), "--collection", "nope");
        File.WriteAllText(dir.Sub("x.csv"), "1,2,3\n");
        CliResult unknownFormat = await CliProcess.RunAsync("import", "--data", dir.Sub("db"), "--collection", "c", "--file", dir.Sub("x.csv"));
        CliResult noFile = await CliProcess.RunAsync("import", "--data", dir.Sub("db"), "--collection", "c", "--file", dir.Sub("x.npy"));

        Assert.True(noDirectory.ExitCode == 1, noDirectory.ToString());
        Assert.Contains($"data directory '{missing}' does not exist", ErrorLine(noDirectory));
        Assert.False(Directory.Exists(missing));
        Assert.True(noCollection.ExitCode == 1, noCollection.ToString());
        Assert.Contains("collection 'nope' does not exist", ErrorLine(noCollection));
        Assert.Contains("it has: c.", ErrorLine(noCollection));
        Assert.True(unknownFormat.ExitCode == 1, unknownFormat.ToString());
        Assert.Contains("unsupported file type '.csv'; use .fvecs, .npy or .jsonl", ErrorLine(unknownFormat));
        Assert.True(noFile.ExitCode == 1, noFile.ToString());
        Assert.Contains($"{dir.Sub("x.npy")}: no such file", ErrorLine(noFile));
    }

    [Fact]
    public async Task DatabaseWithItsWalElsewhere_OpenedWithoutWal_IsRefusedNotSilentlyRestarted()
    {
        using var dir = new TempDirectory();
        string data = dir.Sub("data"), wal = dir.Sub("fast-disk-wal");
        await Ok("load", "--data", data, "--wal", wal, "--collection", "c", "--dim", "3", "--count", "100", "--checkpoint-interval", "30");
        Assert.NotEmpty(Directory.GetFileSystemEntries(Path.Combine(data, "checkpoints")));

        CliResult load = await CliProcess.RunAsync("load", "--data", data, "--collection", "c", "--dim", "3", "--count", "10", "--start", "100");
        CliResult stats = await CliProcess.RunAsync("stats", "--data", data);

        foreach (CliResult result in (CliResult[])[load, stats])
        {
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains("holds checkpoints but", ErrorLine(result));
            Assert.Contains("pass --wal", ErrorLine(result));
        }

        Assert.Equal(100, Collection(await Stats(data, "--wal", wal), "c").GetProperty("count").GetInt32());
    }

    private sealed record ExportedRecord(string Id, float[] Vector, string MetadataJson);

    private static List<ExportedRecord> ParseExport(string stdout) =>
    [
        .. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement root = doc.RootElement;
            Assert.Equal(["id", "vector", "metadata"], root.EnumerateObject().Select(p => p.Name));
            return new ExportedRecord(
                root.GetProperty("id").GetString()!,
                [.. root.GetProperty("vector").EnumerateArray().Select(e => e.GetSingle())],
                root.GetProperty("metadata").GetRawText());
        }),
    ];

    private static async Task<CliResult> Ok(params string[] arguments)
    {
        CliResult result = await CliProcess.RunAsync(arguments);
        Assert.True(result.ExitCode == 0, $"oxivec {string.Join(' ', arguments)}: {result}");
        return result;
    }

    private static async Task<JsonElement> Stats(string data, params string[] more)
    {
        CliResult result = await Ok(["stats", "--data", data, "--json", .. more]);
        using JsonDocument doc = JsonDocument.Parse(result.Stdout);
        return doc.RootElement.Clone();
    }

    private static string[] CollectionNames(JsonElement stats) =>
        [.. stats.GetProperty("collections").EnumerateArray().Select(c => c.GetProperty("name").GetString()!)];

    private static JsonElement Collection(JsonElement stats, string name) =>
        stats.GetProperty("collections").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    /// <summary>The single stderr line of a failed run (it starts with "oxivec: ").</summary>
    private static string ErrorLine(CliResult result)
    {
        string line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("oxivec: ", line);
        return line;
    }
}

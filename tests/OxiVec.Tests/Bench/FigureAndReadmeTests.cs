using OxiVec.Benchmarks.Trust;

namespace OxiVec.Tests.Bench;

public class FigureAndReadmeTests
{
    private static readonly Figure Fasterlog = new(
        "p99 commit latency, fsync per commit", "641 µs", "FasterLog 3.26 ms", "0.20×", "–", "32 writers | SyncIntervalMs = 0, warm cache", 5);

    [Fact]
    public void FigureTable_RenderedThenParsed_GivesTheSameFigures_PipesIncluded()
    {
        Figure single = new("Replay", "3.4 s", "–", "–", "< 10 s: met", "flat index, warm cache", 1);
        string markdown = "# Report\n\n" + FigureTable.Render([Fasterlog, single]) + "## More\n";
        Assert.Equal([Fasterlog, single], FigureTable.Parse(markdown, "r.md"));
    }

    [Fact]
    public void FigureTable_ReportWithoutSection_HasNoFigures()
    {
        Assert.Empty(FigureTable.Parse("# Old report\n\n| a | b |\n", "old.md"));
    }

    [Fact]
    public void FigureTable_RowWithoutRunCount_ThrowsNamingTheFile()
    {
        string markdown = FigureTable.Begin + "\n| h |\n|---|\n| a | b |\n" + FigureTable.End;
        FormatException e = Assert.Throws<FormatException>(() => FigureTable.Parse(markdown, "bad.md"));
        Assert.Contains("bad.md", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReportStamp_RenderedThenParsed_KeepsVerbCommitTreeAndMode()
    {
        var code = new CodeState("0123456789abcdef0123456789abcdef01234567", true, "1 path(s) changed: src/a.cs");
        string text = "# T\n\n" + ReportStamp.Render("wal", code, quick: false);
        ReportStamp stamp = ReportStamp.Parse(text)!;
        Assert.Equal(("wal", code.Commit, "dirty", "full"), (stamp.Verb, stamp.Commit, stamp.Tree, stamp.Mode));
        Assert.Contains("DIRTY TREE", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Readme_GeneratedFromReports_QuotesTheirFiguresWithCommitAndMarksSingleRuns()
    {
        using var temp = new TempDirectory();
        string results = Directory.CreateDirectory(temp.Sub("bench/results")).FullName;
        var code = new CodeState("aaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbb", false, "no changes");
        File.WriteAllText(Path.Combine(results, "wal.md"), "# WAL\n\n" + ReportStamp.Render("wal", code, false) + FigureTable.Render([Fasterlog]));
        File.WriteAllText(Path.Combine(results, "recovery.md"), "# Recovery\n\n" + FigureTable.Render([new Figure("Replay", "3.4 s", "–", "–", "–", "flat index, warm cache", 1)]));
        File.WriteAllText(Path.Combine(results, "notes.md"), "# no figures\n");
        string readme = "# Title\n\nintro\n\n" + ReadmeSection.Begin + "\n| old | 1.87 ms |\n" + ReadmeSection.End + "\n\n## After\n";

        var reports = ReadmeSection.ReadReports(results, ["wal", "recovery"]);
        string updated = ReadmeSection.Replace(readme, ReadmeSection.Render(reports, temp.Path), "README.md");

        Assert.DoesNotContain("1.87 ms", updated, StringComparison.Ordinal);
        Assert.Contains("| p99 commit latency, fsync per commit | 641 µs | FasterLog 3.26 ms |", updated, StringComparison.Ordinal);
        Assert.Contains("32 writers \\| SyncIntervalMs = 0, warm cache", updated, StringComparison.Ordinal);
        Assert.Contains("[wal.md](bench/results/wal.md), `aaaaaaaaaaaa`", updated, StringComparison.Ordinal);
        Assert.Contains("1 (**single run**) | [recovery.md](bench/results/recovery.md), commit not recorded", updated, StringComparison.Ordinal);
        Assert.StartsWith("# Title\n\nintro\n\n" + ReadmeSection.Begin, updated, StringComparison.Ordinal);
        Assert.EndsWith(ReadmeSection.End + "\n\n## After\n", updated, StringComparison.Ordinal);
        Assert.True(updated.IndexOf("wal.md", StringComparison.Ordinal) < updated.IndexOf("recovery.md", StringComparison.Ordinal), "rows follow the verb order");
    }

    [Fact]
    public void Readme_WithoutMarkers_ThrowsAndChangesNothing()
    {
        Assert.Throws<FormatException>(() => ReadmeSection.Replace("# README without markers\n", ReadmeSection.Begin + ReadmeSection.End, "README.md"));
    }
}

using OxiVec.Samples.SemanticSearch.Corpus;

namespace OxiVec.Samples.Tests;

public sealed class DebianCorpusTests
{
    private const string TwoPackages = """
        Package: gzip
        Version: 1.12-1
        Section: utils
        Description: GNU compression utilities
         This package provides the standard GNU file compression utilities.
         .
         gzip is the usual compression program.
        Homepage: https://www.gnu.org/software/gzip/

        Package: 0ad
        Tag: game::strategy, interface::graphical,
         x11::application
        Description: Real-time strategy game of ancient warfare
        Section: games
        """;

    [Fact]
    public void ReadPackages_ContinuationAndDotLines_BecomeTheLongDescriptionWithParagraphs()
    {
        DebianPackage[] packages = [.. DebianControlReader.ReadPackages(new StringReader(TwoPackages), "test")];

        Assert.Equal(2, packages.Length);
        Assert.Equal(
            new DebianPackage("gzip", "utils", "GNU compression utilities",
                "This package provides the standard GNU file compression utilities.\n\ngzip is the usual compression program."),
            packages[0]);
        Assert.Equal(new DebianPackage("0ad", "games", "Real-time strategy game of ancient warfare", ""), packages[1]);
    }

    [Fact]
    public void ReadPackages_StanzaWithoutDescriptionOrSection_IsSkippedOrSectionUnknown()
    {
        const string text = "Package: nodesc\nSection: utils\n\nPackage: nosection\nDescription: has no section\n";

        DebianPackage[] packages = [.. DebianControlReader.ReadPackages(new StringReader(text), "test")];

        Assert.Equal([new DebianPackage("nosection", "unknown", "has no section", "")], packages);
    }

    [Fact]
    public void ReadPackages_ContinuationBeforeAnyField_ThrowsNamingSourceAndLine()
    {
        const string text = "Package: a\nDescription: x\n\n continuation without a field\n";

        var error = Assert.Throws<FormatException>(() => DebianControlReader.ReadPackages(new StringReader(text), "Packages.txt").ToList());

        Assert.Contains("Packages.txt, line 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadPackages_LineWithoutColon_ThrowsNamingSourceAndLine()
    {
        var error = Assert.Throws<FormatException>(
            () => DebianControlReader.ReadPackages(new StringReader("Package: a\nnot a field\n"), "status").ToList());

        Assert.Contains("status, line 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromReader_SameNameTwice_KeepsTheFirstStanzaAndSortsByName()
    {
        const string text = """
            Package: libc6
            Architecture: amd64
            Description: GNU C Library: Shared libraries (amd64)

            Package: bash
            Description: GNU Bourne Again SHell

            Package: libc6
            Architecture: i386
            Description: GNU C Library: Shared libraries (i386)
            """;

        DebianCorpus corpus = DebianCorpus.FromReader(new StringReader(text), "status");

        Assert.Equal(3, corpus.StanzasRead);
        Assert.Equal(["bash", "libc6"], corpus.Packages.Select(p => p.Name));
        Assert.Equal("GNU C Library: Shared libraries (amd64)", corpus.Packages[1].Synopsis);
    }

    [Fact]
    public void Split_HeldOutQueriesAreNeverIndexed_AndTheLimitSpreadsOverAllNames()
    {
        var packages = Enumerable.Range(0, 1_000).Select(i => new DebianPackage($"p{i:D4}", "utils", $"package {i}", "")).ToArray();
        var corpus = new DebianCorpus("test", packages.Length, packages);

        (IReadOnlyList<DebianPackage> indexed, IReadOnlyList<DebianPackage> queries) = corpus.Split(limit: 100, queryCount: 20);

        Assert.Equal(100, indexed.Count);
        Assert.Equal(20, queries.Count);
        Assert.Empty(indexed.Select(p => p.Name).Intersect(queries.Select(p => p.Name)));
        Assert.Equal(100, indexed.Select(p => p.Name).Distinct().Count());
        Assert.StartsWith("p00", indexed[0].Name, StringComparison.Ordinal);
        Assert.StartsWith("p09", indexed[^1].Name, StringComparison.Ordinal); // spread to the end, not the first 100 names
    }

    [Fact]
    public void Split_NoLimit_IndexesEverythingButTheQueries()
    {
        var packages = Enumerable.Range(0, 50).Select(i => new DebianPackage($"p{i:D2}", "utils", "x", "")).ToArray();

        (IReadOnlyList<DebianPackage> indexed, IReadOnlyList<DebianPackage> queries) =
            new DebianCorpus("test", 50, packages).Split(limit: null, queryCount: 5);

        Assert.Equal(45, indexed.Count);
        Assert.Equal(50, indexed.Concat(queries).Select(p => p.Name).Distinct().Count());
    }

    [Fact]
    public void EmbeddingText_LongDescription_IsCutAtTheLimit()
    {
        var package = new DebianPackage("gzip", "utils", "GNU compression utilities", new string('x', 5_000));

        Assert.Equal(1_000, package.EmbeddingText(1_000).Length);
        Assert.StartsWith("gzip: GNU compression utilities. xxx", package.EmbeddingText(1_000), StringComparison.Ordinal);
        Assert.Equal("gzip: GNU compression utilities", package with { LongDescription = "" } is var p ? p.EmbeddingText(1_000) : null);
    }

    [Fact]
    public async Task LoadAsync_CorpusFile_ReadsItAndNamesItAsTheSource()
    {
        string file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, TwoPackages);

            DebianCorpus corpus = await DebianCorpus.LoadAsync(file, CancellationToken.None);

            Assert.Equal(file, corpus.Source);
            Assert.Equal(["0ad", "gzip"], corpus.Packages.Select(p => p.Name));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task LoadAsync_CorpusFileWithoutPackages_ThrowsNamingTheFile()
    {
        string file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "Package: nodescription\n");

            var error = await Assert.ThrowsAsync<InvalidDataException>(() => DebianCorpus.LoadAsync(file, CancellationToken.None));

            Assert.Contains(file, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

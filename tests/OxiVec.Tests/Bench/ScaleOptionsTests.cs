using OxiVec.Benchmarks.Store;

namespace OxiVec.Tests.Bench;

/// <summary>The <c>scale</c> verb's <c>--synthetic N</c> (a reduced full run): taken by that verb only, refused when not a size.</summary>
public class ScaleOptionsTests
{
    [Fact]
    public void SyntheticCount_IsTakenByTheScaleVerb_AndRecordedInTheCommandLine()
    {
        VerbOptions options = VerbOptions.Parse("scale", ["--synthetic", "250000", "--allow-dirty", "--out", Path.GetTempPath()]);

        Assert.Equal(250_000, options.SyntheticCount);
        Assert.Contains("--synthetic 250000", options.CommandLine, StringComparison.Ordinal);
        Assert.Null(VerbOptions.Parse("scale", ["--allow-dirty", "--out", Path.GetTempPath()]).SyntheticCount);
    }

    [Theory]
    [InlineData("scale", "12")]
    [InlineData("scale", "1e6")]
    [InlineData("scale", "-5000")]
    [InlineData("concurrency", "250000")]
    public void SyntheticCount_NotASizeOrForAnotherVerb_IsRefused(string verb, string value)
    {
        Assert.Throws<ArgumentException>(() => VerbOptions.Parse(verb, ["--synthetic", value, "--allow-dirty", "--out", Path.GetTempPath()]));
    }
}

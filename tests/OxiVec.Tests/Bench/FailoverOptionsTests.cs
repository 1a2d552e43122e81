using OxiVec.Benchmarks.Store;

namespace OxiVec.Tests.Bench;

/// <summary>The <c>failover</c> verb's <c>--lease-ttl SECONDS</c>: taken by that verb only, refused when not whole seconds from 1 to 60.</summary>
public class FailoverOptionsTests
{
    [Fact]
    public void LeaseTtl_IsTakenByTheFailoverVerb_AndRecordedInTheCommandLine()
    {
        VerbOptions options = VerbOptions.Parse("failover", ["--lease-ttl", "5", "--allow-dirty", "--out", Path.GetTempPath()]);

        Assert.Equal(5, options.LeaseTtlSeconds);
        Assert.Contains("--lease-ttl 5", options.CommandLine, StringComparison.Ordinal);
        Assert.Null(VerbOptions.Parse("failover", ["--allow-dirty", "--out", Path.GetTempPath()]).LeaseTtlSeconds);
    }

    [Theory]
    [InlineData("failover", "0")]
    [InlineData("failover", "61")]
    [InlineData("failover", "2.5")]
    [InlineData("replication", "5")]
    public void LeaseTtl_OutOfRangeOrForAnotherVerb_IsRefused(string verb, string value)
    {
        Assert.Throws<ArgumentException>(() => VerbOptions.Parse(verb, ["--lease-ttl", value, "--allow-dirty", "--out", Path.GetTempPath()]));
    }
}

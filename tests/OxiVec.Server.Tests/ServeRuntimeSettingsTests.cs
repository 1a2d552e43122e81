using System.Text.Json;

namespace OxiVec.Server.Tests;

/// <summary>
/// The runtime settings `oxivec serve` ships with, as the build writes them into the tool's runtimeconfig.json (what the
/// .NET host reads at start): the server benchmark gives its server the same, so a setting lost here would make the
/// published figures describe another configuration than the tool's.
/// </summary>
public sealed class ServeRuntimeSettingsTests
{
    private static JsonElement ConfigProperties()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "OxiVec.Cli.runtimeconfig.json");
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }

    [Fact]
    public void ThreadPoolHillClimbing_IsDisabled()
    {
        Assert.True(ConfigProperties().GetProperty("System.Threading.ThreadPool.HillClimbing.Disable").GetBoolean());
    }

    [Fact]
    public void MethodsWithLoops_AreCompiledOptimisedAtOnce()
    {
        Assert.False(ConfigProperties().GetProperty("System.Runtime.TieredCompilation.QuickJitForLoops").GetBoolean());
    }
}

using System.Diagnostics;
using System.Text.RegularExpressions;

namespace OxiVec.Server.Tests;

public sealed partial class AlertRulesTests
{
    private static string RulesFile => Path.Combine(RepositoryRoot(), "docs", "monitoring", "alerts.yml");

    /// <summary>Whether the Prometheus text <paramref name="scrape"/> has samples of <paramref name="name"/>.</summary>
    internal static bool Exports(string scrape, string name) =>
        scrape.Split('\n').Any(line => line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal));

    [Fact]
    public async Task AlertRules_UseOnlyMetricNamesARunningServerExports()
    {
        string[] rules = await File.ReadAllLinesAsync(RulesFile);
        var names = rules.Where(line => !line.TrimStart().StartsWith('#'))
            .SelectMany(line => MetricName().Matches(line).Select(m => m.Value))
            .ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(names);

        await using ServerFixture server = await MetricsTests.StartWithWritesAsync();
        string scrape = await server.Client.GetStringAsync("/metrics");
        foreach (string name in names)
        {
            Assert.True(Exports(scrape, name), $"docs/monitoring/alerts.yml uses {name}, which /metrics does not export:\n{scrape}");
        }
    }

    [Fact]
    public async Task PromtoolCheckRules_AcceptsTheAlertRules()
    {
        var (exitCode, output) = await RunPromtoolAsync("check", "rules", RulesFile);
        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromtoolTestRules_TheAlertsFireAsTheirUnitTestsSay()
    {
        var (exitCode, output) = await RunPromtoolAsync("test", "rules", Path.Combine(RepositoryRoot(), "docs", "monitoring", "alerts.test.yml"));
        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunPromtoolAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo(await OxiVec.ClusterTests.Infrastructure.InstalledTool.Promtool.EnsureAsync()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        try
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }
        }
    }

    internal static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OxiVec.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No OxiVec.slnx above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"\boxivec_[a-z0-9_]+\b")]
    private static partial Regex MetricName();
}

namespace OxiVec.Server.Tests;

/// <summary>A fact that needs <c>promtool</c>: skipped, saying why, when it is not installed (CI installs it: .ci/install-tools.sh).</summary>
public sealed class PromtoolFactAttribute : FactAttribute
{
    public PromtoolFactAttribute()
    {
        if (Promtool.Path is null)
        {
            Skip = "promtool is not on the PATH; .ci/install-tools.sh installs it (Debian package prometheus).";
        }
    }
}

/// <summary>Where <c>promtool</c> is.</summary>
public static class Promtool
{
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => System.IO.Path.Combine(dir, "promtool"))
        .FirstOrDefault(File.Exists);
}

using System.Diagnostics;

namespace OxiVec.ClusterTests.Infrastructure;

/// <summary>
/// A tool the project's own script installs (.ci/install-tools.sh: Debian's <c>etcd-server</c> and <c>etcd-client</c>
/// 3.4, <c>prometheus</c> for promtool). A test that needs one calls <see cref="EnsureAsync"/>, which runs the script
/// when the tool is missing, so the README's test command passes on a fresh machine. Shared by ClusterTests and
/// Server.Tests (linked).
/// </summary>
public sealed class InstalledTool
{
    private readonly Lazy<Task<string>> _path; // found or installed once per process; concurrent callers share it

    private InstalledTool(string binary)
    {
        Binary = binary;
        _path = new Lazy<Task<string>>(FindOrInstallAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>etcd.</summary>
    public static InstalledTool Etcd { get; } = new("etcd");

    /// <summary>Prometheus' promtool.</summary>
    public static InstalledTool Promtool { get; } = new("promtool");

    /// <summary>The executable's file name.</summary>
    public string Binary { get; }

    /// <summary>The tool's path, installed first when missing.</summary>
    public Task<string> EnsureAsync() => _path.Value;

    private async Task<string> FindOrInstallAsync()
    {
        if (Find() is { } found)
        {
            return found;
        }

        string script = Path.Combine(Os.RepositoryRoot(), ".ci", "install-tools.sh");
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        using Process process = Process.Start(info)!;
        try
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
            await process.WaitForExitAsync(timeout.Token);
            string output = await stdout + await stderr;
            return process.ExitCode == 0 && Find() is { } installed
                ? installed
                : throw new InvalidOperationException($"{script} could not install {Binary} (exit code {process.ExitCode}):\n{output}");
        }
        finally
        {
            await Os.KillAsync(process);
        }
    }

    private string? Find() => (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Append("/usr/bin")
        .Select(dir => Path.Combine(dir, Binary))
        .FirstOrDefault(File.Exists);
}

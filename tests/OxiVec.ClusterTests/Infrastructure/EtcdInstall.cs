using System.Diagnostics;

namespace OxiVec.ClusterTests.Infrastructure;

/// <summary>
/// Where <c>etcd</c> is. A test that needs it calls <see cref="EnsureAsync"/>, which installs it with the project's own
/// script (.ci/install-tools.sh: Debian's <c>etcd-server</c> and <c>etcd-client</c>, 3.4) when it is missing, so the
/// README's test command passes on a fresh machine.
/// </summary>
public static class EtcdInstall
{
    private static readonly SemaphoreSlim Installing = new(1, 1);

    private static string? Find() => (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Append("/usr/bin")
        .Select(dir => Path.Combine(dir, "etcd"))
        .FirstOrDefault(File.Exists);

    /// <summary>The path of etcd, installed first when missing.</summary>
    public static async Task<string> EnsureAsync()
    {
        await Installing.WaitAsync();
        try
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
                    : throw new InvalidOperationException($"{script} could not install etcd (exit code {process.ExitCode}):\n{output}");
            }
            finally
            {
                await Os.KillAsync(process);
            }
        }
        finally
        {
            Installing.Release();
        }
    }
}

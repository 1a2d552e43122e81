using System.Diagnostics;

namespace OxiVec.Server.Tests.JsClient;

/// <summary>Runs node, npm or bash for the client tests, bounded in time, and finds this checkout's files.</summary>
internal static class ExternalProcess
{
    /// <summary>
    /// The xunit collection of the tests that use tests/qdrant-js: they run one after the other, so that two of them never
    /// run <c>npm ci</c> in the same directory at once.
    /// </summary>
    public const string JsPackageCollection = "tests/qdrant-js";

    /// <summary>The checkout's root: the first directory above the test assembly that holds tests/qdrant-js/package-lock.json.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>tests/qdrant-js, the npm package that pins Qdrant's JavaScript client.</summary>
    public static string JsPackage => Path.Combine(RepositoryRoot, "tests", "qdrant-js");

    /// <summary>Installs the pinned client with <c>npm ci</c> when tests/qdrant-js has no node_modules yet.</summary>
    public static async Task EnsureJsClientInstalledAsync()
    {
        if (!Directory.Exists(Path.Combine(JsPackage, "node_modules", "@qdrant", "js-client-rest")))
        {
            (int installed, string log) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], JsPackage, TimeSpan.FromMinutes(5));
            Assert.True(installed == 0, $"'npm ci' in {JsPackage} failed with exit code {installed}:{Environment.NewLine}{log}");
        }
    }

    /// <summary>
    /// Runs <paramref name="program"/> to its end and returns its exit code (-1 when it was killed after
    /// <paramref name="timeout"/>, with its children) and its stdout followed by its stderr.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments, string directory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"'{program}' did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"'{program}' could not be started ({e.Message}): the client tests need node 20 or later, npm and curl on the PATH (Debian: apt-get install nodejs npm curl).", e);
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(timeout);
            bool timedOut = false;
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }

            string text = $"{await stdout}{await stderr}{(timedOut ? $"{Environment.NewLine}(killed after {timeout.TotalSeconds} s)" : "")}";
            return (timedOut ? -1 : process.ExitCode, text);
        }
    }

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "tests", "qdrant-js", "package-lock.json")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"tests/qdrant-js/package-lock.json was not found above {AppContext.BaseDirectory}.");
    }
}

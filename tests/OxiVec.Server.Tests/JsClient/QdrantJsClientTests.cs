using System.Diagnostics;
using Xunit.Abstractions;

namespace OxiVec.Server.Tests.JsClient;

/// <summary>
/// Qdrant's official JavaScript client (<c>@qdrant/js-client-rest</c>, pinned in tests/qdrant-js/package-lock.json)
/// against a real server: tests/qdrant-js/qdrant-client-test.mjs runs every call OxiVec supports and asserts the
/// answers. Needs node (20 or later) and npm; the first run installs the client with <c>npm ci</c>.
/// </summary>
public sealed class QdrantJsClientTests(ITestOutputHelper output)
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task QdrantJsClient_EverySupportedCall_AnswersAsQdrantDocuments()
    {
        string package = PackageDirectory();
        if (!Directory.Exists(Path.Combine(package, "node_modules", "@qdrant", "js-client-rest")))
        {
            (int installed, string log) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], package, InstallTimeout);
            Assert.True(installed == 0, $"'npm ci' in {package} failed with exit code {installed}:{Environment.NewLine}{log}");
        }

        await using ServerFixture server = await ServerFixture.StartAsync();
        string url = server.Address.GetLeftPart(UriPartial.Authority);
        (int exitCode, string text) = await RunAsync("node", ["qdrant-client-test.mjs", url], package, RunTimeout);
        output.WriteLine(text);
        Assert.True(exitCode == 0, $"node qdrant-client-test.mjs {url} exited with {exitCode}:{Environment.NewLine}{text}");
    }

    /// <summary>tests/qdrant-js of this checkout, found by walking up from the test assembly.</summary>
    private static string PackageDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "qdrant-js");
            if (File.Exists(Path.Combine(candidate, "package-lock.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"tests/qdrant-js/package-lock.json was not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>Runs a program to its end (killed, with its children, when it takes longer than <paramref name="timeout"/>).</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments, string directory, TimeSpan timeout)
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
            throw new InvalidOperationException($"'{program}' could not be started ({e.Message}): this test needs node 20 or later and npm on the PATH (Debian: apt-get install nodejs npm).", e);
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
}

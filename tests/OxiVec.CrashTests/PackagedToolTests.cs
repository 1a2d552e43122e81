using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using OxiVec.CrashTests.Infrastructure;

namespace OxiVec.CrashTests;

/// <summary>
/// The packages as a user gets them: <c>dotnet pack</c> of the library, the hosting package and the tool into a
/// folder, the tool installed from that folder alone, and <c>oxivec serve</c> run from the installed tool.
/// </summary>
public sealed partial class PackagedToolTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan ServeTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The projects packed, relative to the repository root.</summary>
    private static readonly string[] Packable = ["src/OxiVec/OxiVec.csproj", "src/OxiVec.Hosting/OxiVec.Hosting.csproj", "src/OxiVec.Cli/OxiVec.Cli.csproj"];

    /// <summary>Parts of file names that belong to the benchmarks, their peers or the crash tests, never to the tool.</summary>
    private static readonly string[] Foreign =
        ["OxiVec.Benchmarks", "OxiVec.CrashWorker", "BenchmarkDotNet", "FASTER", "Sqlite", "USearch", "ScottPlot", "SkiaSharp"];

    [Fact]
    public async Task PackedTool_InstalledFromAFolder_ServesUntilSigtermAndCarriesNoBenchmarkOrCrashWorker()
    {
        using var dir = new TempDirectory();
        string feed = dir.Sub("feed");
        foreach (string project in Packable)
        {
            await PackAsync(project, feed);
        }

        string toolPackage = Assert.Single(Directory.GetFiles(feed, "OxiVec.Cli.*.nupkg"));
        string version = Path.GetFileNameWithoutExtension(toolPackage)["OxiVec.Cli.".Length..];
        Assert.True(File.Exists(Path.Combine(feed, $"OxiVec.{version}.nupkg")), "the library package OxiVec was not packed.");
        Assert.True(File.Exists(Path.Combine(feed, $"OxiVec.Hosting.{version}.nupkg")), "the package OxiVec.Hosting was not packed.");
        using (ZipArchive package = ZipFile.OpenRead(toolPackage))
        {
            string[] entries = [.. package.Entries.Select(e => e.FullName)];
            Assert.Contains("tools/net10.0/any/OxiVec.Cli.dll", entries);
            Assert.Contains("tools/net10.0/any/OxiVec.Hosting.dll", entries);
            AssertNothingForeign("the tool package", entries);
        }

        string tools = dir.Sub("tools");
        await InstallAsync(feed, version, tools, dir.Sub("packages"));
        AssertNothingForeign("the installed tool", Directory.GetFiles(tools, "*", SearchOption.AllDirectories));
        string oxivec = Path.Combine(tools, OperatingSystem.IsWindows() ? "oxivec.exe" : "oxivec");
        foreach (string gone in new[] { "bench", "crash-worker", "crash-store-worker", "crash-torture-worker" })
        {
            CliResult result = await ExternalCommand.RunAsync(Tool(oxivec, [gone, "--no-such-option"]), StepTimeout);
            Assert.True(
                result.ExitCode == 1 && result.Stderr.Contains($"Unrecognized command or argument '{gone}'", StringComparison.Ordinal),
                $"'oxivec {gone}' should be an unknown command: {result}");
        }

        await ServeUntilReadyAsync(oxivec, dir.Sub("data"));
    }

    private static async Task PackAsync(string project, string feed)
    {
        // The tests run after a build of the same configuration (the project references build these projects).
        string configuration = typeof(PackagedToolTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        CliResult pack = await ExternalCommand.RunAsync(
            ExternalCommand.StartInfo(DotNetProgram.DotNet, [
                "pack", Path.Combine(RepositoryRoot(), project), "-c", configuration, "--no-build", "-o", feed, "--disable-build-servers", "-nodeReuse:false"]),
            StepTimeout);
        Assert.True(pack.ExitCode == 0, $"dotnet pack {project}: {pack}");
        Assert.DoesNotContain(": warning ", pack.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Installs the tool from <paramref name="feed"/> alone (a NuGet configuration that clears every other source) into
    /// <paramref name="tools"/>, through a packages folder of its own, so that neither the network nor a package cached
    /// by an earlier run takes part.
    /// </summary>
    private static async Task InstallAsync(string feed, string version, string tools, string packages)
    {
        string config = Path.Combine(Path.GetDirectoryName(feed)!, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        var info = ExternalCommand.StartInfo(DotNetProgram.DotNet, [
            "tool", "install", "OxiVec.Cli", "--tool-path", tools, "--version", version, "--configfile", config]);
        info.Environment["NUGET_PACKAGES"] = packages;
        CliResult install = await ExternalCommand.RunAsync(info, StepTimeout);
        Assert.True(install.ExitCode == 0, $"dotnet tool install: {install}");
    }

    private static async Task ServeUntilReadyAsync(string oxivec, string data)
    {
        using var process = new Process { StartInfo = Tool(oxivec, ["serve", "--data", data, "--http", "127.0.0.1:0"]) };
        var output = new ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue(line);
                if (ListeningLine().Match(line) is { Success: true } match)
                {
                    listening.TrySetResult(new Uri(match.Groups[1].Value));
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue("stderr: " + line);
            }
        };
        Assert.True(process.Start(), "oxivec serve did not start.");
        try
        {
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await Task.WhenAny(listening.Task, process.WaitForExitAsync(), Task.Delay(ServeTimeout));
            Assert.True(listening.Task.IsCompletedSuccessfully, $"oxivec serve printed no 'listening on' line: {Describe(process, output)}");
            Uri address = await listening.Task;
            Assert.True(IPAddress.IsLoopback(IPAddress.Parse(address.Host)), $"oxivec serve listens on {address}, not on loopback.");

            HttpStatusCode? status = await ReadyzAsync(address);
            Assert.True(status == HttpStatusCode.OK, $"/readyz answered {status?.ToString() ?? "nothing"} within {ServeTimeout.TotalSeconds} s: {Describe(process, output)}");

            if (!OperatingSystem.IsWindows())
            {
                CliResult term = await ExternalCommand.RunAsync(ExternalCommand.StartInfo("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]), StepTimeout);
                Assert.True(term.ExitCode == 0, $"kill -TERM: {term}");
                await Task.WhenAny(process.WaitForExitAsync(), Task.Delay(ServeTimeout));
                Assert.True(process.HasExited, $"oxivec serve did not stop within {ServeTimeout.TotalSeconds} s of SIGTERM: {Describe(process, output)}");
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }
    }

    /// <summary>Probes <c>/readyz</c> until it answers 200, at most every 100 ms for <see cref="ServeTimeout"/>; returns the last status.</summary>
    private static async Task<HttpStatusCode?> ReadyzAsync(Uri address)
    {
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        HttpStatusCode? status = null;
        var elapsed = Stopwatch.StartNew();
        for (int attempt = 0; attempt < 600 && elapsed.Elapsed < ServeTimeout && status != HttpStatusCode.OK; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(100);
            }

            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
                status = response.StatusCode;
            }
            catch (HttpRequestException)
            {
                status = null;
            }
        }

        return status;
    }

    /// <summary>The installed tool's command, with the dotnet that runs the tests as its runtime.</summary>
    private static ProcessStartInfo Tool(string oxivec, IEnumerable<string> arguments)
    {
        ProcessStartInfo info = ExternalCommand.StartInfo(oxivec, arguments);
        if (Path.IsPathRooted(DotNetProgram.DotNet))
        {
            info.Environment["DOTNET_ROOT"] = Path.GetDirectoryName(DotNetProgram.DotNet);
        }

        return info;
    }

    private static void AssertNothingForeign(string what, IEnumerable<string> files)
    {
        string[] foreign = [.. files.Where(f => Foreign.Any(name => Path.GetFileName(f).Contains(name, StringComparison.OrdinalIgnoreCase)))];
        Assert.True(foreign.Length == 0, $"{what} carries {string.Join(", ", foreign)}.");
    }

    private static string Describe(Process process, IEnumerable<string> output) =>
        $"{(process.HasExited ? $"exited with {process.ExitCode}" : "running")}; output:{Environment.NewLine}{string.Join(Environment.NewLine, output)}";

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OxiVec.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No OxiVec.slnx above '{AppContext.BaseDirectory}': the packaging test runs from a build inside the repository.");
    }

    [GeneratedRegex(@"listening on (https?://\S+)")]
    private static partial Regex ListeningLine();
}

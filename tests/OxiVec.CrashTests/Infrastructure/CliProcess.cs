using System.Diagnostics;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>The output of one CLI run.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit code {ExitCode}{Environment.NewLine}stdout:{Environment.NewLine}{Stdout}{Environment.NewLine}stderr:{Environment.NewLine}{Stderr}";
}

/// <summary>
/// Runs the <c>oxivec</c> CLI as a child process: <c>dotnet OxiVec.Cli.dll ...</c>, with the dll the project reference
/// copies next to the test assembly (with its runtimeconfig and deps files).
/// </summary>
public static class CliProcess
{
    /// <summary>How long a CLI run that should end may take before the test fails.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The CLI's dll in the test output directory.</summary>
    public static string DllPath { get; } = Locate();

    /// <summary>The dotnet muxer: the one running the tests when the SDK says so, else the one on the PATH.</summary>
    public static string DotNet { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";

    /// <summary>A start info for <c>dotnet OxiVec.Cli.dll arguments...</c> with stdout and stderr redirected.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(DotNet)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(DllPath);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    /// <summary>Runs the CLI to its end; fails the test when it takes longer than <see cref="RunTimeout"/>.</summary>
    public static async Task<CliResult> RunAsync(params string[] arguments)
    {
        using Process process = Process.Start(StartInfo(arguments)) ?? throw new InvalidOperationException("The CLI process did not start.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(RunTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"'oxivec {string.Join(' ', arguments)}' did not end within {RunTimeout.TotalSeconds} s; stderr: {await stderr}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    private static string Locate()
    {
        string path = System.IO.Path.Combine(AppContext.BaseDirectory, "OxiVec.Cli.dll");
        string runtimeConfig = System.IO.Path.ChangeExtension(path, ".runtimeconfig.json");
        if (!File.Exists(path) || !File.Exists(runtimeConfig))
        {
            throw new FileNotFoundException(
                $"OxiVec.Cli.dll and its runtimeconfig.json must be next to the tests in '{AppContext.BaseDirectory}' (the project reference copies them); rebuild the tests.",
                path);
        }

        return path;
    }
}

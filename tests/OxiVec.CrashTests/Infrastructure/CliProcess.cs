using System.Diagnostics;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>The output of one CLI run.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit code {ExitCode}{Environment.NewLine}stdout:{Environment.NewLine}{Stdout}{Environment.NewLine}stderr:{Environment.NewLine}{Stderr}";
}

/// <summary>Runs the <c>oxivec</c> CLI as a child process (<see cref="DotNetProgram.Cli"/>: <c>dotnet OxiVec.Cli.dll ...</c>).</summary>
public static class CliProcess
{
    /// <summary>How long a CLI run that should end may take before the test fails.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A start info for <c>dotnet OxiVec.Cli.dll arguments...</c> with stdout and stderr redirected.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments) => DotNetProgram.Cli.StartInfo(arguments);

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
}

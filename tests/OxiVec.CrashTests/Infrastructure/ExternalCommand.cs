using System.Diagnostics;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>Runs a program other than the ones the tests build (<c>dotnet pack</c>, <c>dotnet tool install</c>) to its end.</summary>
public static class ExternalCommand
{
    /// <summary>
    /// A start info for <paramref name="fileName"/> with <paramref name="arguments"/>, stdout and stderr redirected, and
    /// without the MSBuild variables the test host inherits from <c>dotnet test</c> (a nested build must not use them).
    /// </summary>
    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (string name in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        return info;
    }

    /// <summary>Runs <paramref name="info"/> to its end; kills it and fails the test when it takes longer than <paramref name="timeout"/>.</summary>
    public static async Task<CliResult> RunAsync(ProcessStartInfo info, TimeSpan timeout)
    {
        string commandLine = $"{info.FileName} {string.Join(' ', info.ArgumentList)}";
        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"'{commandLine}' did not start.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"'{commandLine}' did not end within {timeout.TotalSeconds} s; stdout: {await stdout}; stderr: {await stderr}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}

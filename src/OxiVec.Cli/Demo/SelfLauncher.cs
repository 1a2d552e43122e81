using System.Diagnostics;

namespace OxiVec.Cli.Demo;

/// <summary>Starts this same CLI as a child process, however it was started itself.</summary>
internal static class SelfLauncher
{
    /// <summary>
    /// A start info running this CLI with <paramref name="arguments"/>, stdout and stderr redirected. Under an apphost
    /// (<c>dotnet run</c>, a published executable, a <c>dotnet tool</c> shim) the process path is the CLI itself; under
    /// the muxer (<c>dotnet OxiVec.Cli.dll</c>) it is <c>dotnet</c>, and the dll path goes first.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        string processPath = Environment.ProcessPath
            ?? throw new InvalidOperationException("The path of the running executable is unknown; cannot start a child process of it.");
        var info = new ProcessStartInfo(processPath)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
        };
        if (IsMuxer(processPath))
        {
            info.ArgumentList.Add(EntryAssemblyPath());
        }

        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    private static bool IsMuxer(string processPath) =>
        Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase);

    /// <summary>The CLI's dll: the first command-line argument under the muxer, else the assembly next to the app base.</summary>
    private static string EntryAssemblyPath()
    {
        string[] commandLine = Environment.GetCommandLineArgs();
        if (commandLine.Length > 0 && commandLine[0].EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && File.Exists(commandLine[0]))
        {
            return Path.GetFullPath(commandLine[0]);
        }

        string name = typeof(SelfLauncher).Assembly.GetName().Name ?? "OxiVec.Cli";
        string path = Path.Combine(AppContext.BaseDirectory, name + ".dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"Cannot find '{path}' to start a child process of this CLI.", path);
    }
}

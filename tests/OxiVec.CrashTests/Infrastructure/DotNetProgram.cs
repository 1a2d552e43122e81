using System.Diagnostics;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>
/// A framework-dependent program that a project reference copies next to the test assembly (with its runtimeconfig and
/// deps files), run as <c>dotnet NAME.dll ...</c>: the <c>oxivec</c> CLI, or the crash tests' worker.
/// </summary>
public sealed class DotNetProgram
{
    private readonly Lazy<string> _dllPath;

    private DotNetProgram(string assemblyName, string displayName)
    {
        DisplayName = displayName;
        _dllPath = new Lazy<string>(() => Locate(assemblyName));
    }

    /// <summary>The <c>oxivec</c> CLI (src/OxiVec.Cli).</summary>
    public static DotNetProgram Cli { get; } = new("OxiVec.Cli", "oxivec");

    /// <summary>The crash tests' victims (tests/OxiVec.CrashWorker): <c>crash-worker</c>, <c>crash-store-worker</c>, <c>crash-torture-worker</c>.</summary>
    public static DotNetProgram CrashWorker { get; } = new("OxiVec.CrashWorker", "OxiVec.CrashWorker");

    /// <summary>The dotnet muxer: the one running the tests when the SDK says so, else the one on the PATH.</summary>
    public static string DotNet { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";

    /// <summary>The name failure messages give the program (<c>oxivec</c> for the CLI).</summary>
    public string DisplayName { get; }

    /// <summary>The program's dll in the test output directory.</summary>
    public string DllPath => _dllPath.Value;

    /// <summary>A start info for <c>dotnet NAME.dll arguments...</c> with stdout and stderr redirected.</summary>
    public ProcessStartInfo StartInfo(IEnumerable<string> arguments)
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

    private static string Locate(string assemblyName)
    {
        string path = System.IO.Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");
        string runtimeConfig = System.IO.Path.ChangeExtension(path, ".runtimeconfig.json");
        if (!File.Exists(path) || !File.Exists(runtimeConfig))
        {
            throw new FileNotFoundException(
                $"{assemblyName}.dll and its runtimeconfig.json must be next to the tests in '{AppContext.BaseDirectory}' (the project reference copies them); rebuild the tests.",
                path);
        }

        return path;
    }
}

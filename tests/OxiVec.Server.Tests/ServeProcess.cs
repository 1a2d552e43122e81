using System.Diagnostics;
using System.Globalization;

namespace OxiVec.Server.Tests;

/// <summary>
/// The real <c>oxivec serve</c> as a child process (<c>dotnet OxiVec.Cli.dll serve ...</c>, the dll the project
/// reference copies next to the tests). Disposing kills it (by its id) if it still runs, then waits for it.
/// </summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data, _stdout);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, _stderr);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Everything the process wrote so far.</summary>
    public string Output
    {
        get
        {
            lock (_stdout)
            {
                return $"stdout:\n{string.Join('\n', _stdout)}\nstderr:\n{string.Join('\n', _stderr)}";
            }
        }
    }

    public int Id => _process.Id;

    public static ServeProcess Start(params string[] arguments) => Start(new Dictionary<string, string>(), arguments);

    /// <summary>Starts <c>oxivec serve arguments...</c> with <paramref name="environment"/> added to its environment.</summary>
    public static ServeProcess Start(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "OxiVec.Cli.dll");
        if (!File.Exists(dll) || !File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")))
        {
            throw new FileNotFoundException($"OxiVec.Cli.dll and its runtimeconfig.json must be next to the tests in '{AppContext.BaseDirectory}'; rebuild the tests.", dll);
        }

        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
            : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
            : "dotnet";
        var info = new ProcessStartInfo(dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (InheritsIgnoredSigInt())
        {
            // A runner started in the background by a non-interactive shell ignores SIGINT, and a child inherits that
            // (the .NET runtime then installs no handler for it), so Ctrl+C could not be tested: the child gets the
            // default disposition back, as it has when started from a terminal. env execs it: the process id stays.
            info.FileName = "/usr/bin/env";
            info.ArgumentList.Add("--default-signal=INT");
            info.ArgumentList.Add(dotnet);
        }

        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("serve");
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("OXIVEC_API_KEY");
        foreach (KeyValuePair<string, string> pair in environment)
        {
            info.Environment[pair.Key] = pair.Value;
        }

        return new ServeProcess(Process.Start(info) ?? throw new InvalidOperationException("oxivec serve did not start."));
    }

    /// <summary>Whether this process ignores SIGINT (bit 2 of <c>SigIgn</c> in /proc/self/status), which a child would inherit.</summary>
    private static bool InheritsIgnoredSigInt()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/env"))
        {
            return false;
        }

        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (ulong.Parse(line.AsSpan("SigIgn:".Length).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << 1)) != 0;
    }

    /// <summary>Waits for the <c>listening on</c> line and returns the address; fails when the process ends first or after a minute.</summary>
    public async Task<Uri> WaitUntilListeningAsync()
    {
        Task exited = _process.WaitForExitAsync();
        Task done = await Task.WhenAny(_listening.Task, exited, Task.Delay(Patience));
        if (done != _listening.Task)
        {
            Assert.Fail($"oxivec serve {(done == exited ? "exited" : "did not print its address within a minute")}:\n{Output}");
        }

        return await _listening.Task;
    }

    /// <summary>Sends <paramref name="signal"/> (<c>TERM</c> as a service manager does, <c>INT</c> as Ctrl+C does) with <c>kill</c>.</summary>
    public async Task SignalAsync(string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits (a minute at most) for the process to end and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"oxivec serve did not end within a minute:\n{Output}");
        }

        _process.WaitForExit(); // drains the redirected output
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line, List<string> lines)
    {
        if (line is null)
        {
            return;
        }

        lock (_stdout)
        {
            lines.Add(line);
        }

        const string Marker = "listening on ";
        int at = line.IndexOf(Marker, StringComparison.Ordinal);
        if (lines == _stdout && at >= 0)
        {
            _listening.TrySetResult(new Uri(line[(at + Marker.Length)..].Trim()));
        }
    }
}

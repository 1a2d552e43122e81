using System.Diagnostics;
using System.Text;

namespace OxiVec.ClusterTests.Infrastructure;

/// <summary>
/// A real <c>oxivec serve</c> in cluster mode (<c>dotnet OxiVec.Cli.dll serve --data DIR --node-id ID --etcd URLS
/// --cluster NAME ...</c>, the dll the project reference copies next to the tests) on fixed loopback ports, so that a
/// restart on the same data directory keeps its addresses. SIGKILL, SIGSTOP/SIGCONT and restart by process id;
/// disposing kills it if it still runs and waits for it.
/// </summary>
public sealed class ClusterNodeProcess : IAsyncDisposable
{
    private const string ListeningPrefix = "oxivec serve: listening on ";
    private const int KeptChars = 64 * 1024;
    private readonly StringBuilder _output = new();
    private readonly string[] _arguments;
    private Process? _process;
    private TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopped;

    private ClusterNodeProcess(string nodeId, string dataDirectory, int httpPort, int grpcPort, string[] arguments)
    {
        NodeId = nodeId;
        DataDirectory = dataDirectory;
        HttpUrl = new Uri($"http://127.0.0.1:{httpPort}");
        GrpcUrl = new Uri($"http://127.0.0.1:{grpcPort}");
        _arguments = arguments;
    }

    public string NodeId { get; }

    public string DataDirectory { get; }

    /// <summary>Its REST address (fixed across restarts).</summary>
    public Uri HttpUrl { get; }

    /// <summary>Its replication (gRPC) address (fixed across restarts).</summary>
    public Uri GrpcUrl { get; }

    /// <summary>Whether its process runs (a stopped process runs).</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Whether it was SIGSTOPped and not yet continued.</summary>
    public bool IsPaused => _stopped;

    /// <summary>Its process id while running.</summary>
    public int Pid => _process?.Id ?? throw new InvalidOperationException($"node {NodeId} does not run.");

    /// <summary>The last 64 KiB it printed.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return $"--- node {NodeId} ({HttpUrl}) ---\n{_output}";
            }
        }
    }

    /// <summary>
    /// Starts node <paramref name="nodeId"/> of cluster <paramref name="cluster"/> on etcd <paramref name="etcd"/>, with
    /// <paramref name="extraArguments"/> (e.g. <c>--replication sync --lease-ttl 2</c>); waits until it listens.
    /// </summary>
    public static async Task<ClusterNodeProcess> StartAsync(string nodeId, string dataDirectory, string etcd, string cluster, TimeSpan patience, params string[] extraArguments)
    {
        int[] ports = Os.FreePorts(2);
        string[] arguments =
        [
            "--data", dataDirectory, "--node-id", nodeId, "--etcd", etcd, "--cluster", cluster,
            "--http", $"127.0.0.1:{ports[0]}", "--grpc", $"127.0.0.1:{ports[1]}", .. extraArguments,
        ];
        var node = new ClusterNodeProcess(nodeId, dataDirectory, ports[0], ports[1], arguments);
        try
        {
            await node.StartAsync(patience);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts it again on its data directory and ports; waits until it listens.</summary>
    public async Task RestartAsync(TimeSpan patience)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"node {NodeId} still runs.");
        }

        await StartAsync(patience);
    }

    /// <summary>SIGKILL, then waits for the process.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            await Os.KillAsync(process);
            _stopped = false;
        }
    }

    /// <summary>SIGSTOP: the process freezes (its lease runs out while it cannot renew).</summary>
    public async Task PauseAsync()
    {
        await Os.SignalAsync(Pid, "STOP");
        _stopped = true;
    }

    /// <summary>SIGCONT.</summary>
    public async Task ResumeAsync()
    {
        await Os.SignalAsync(Pid, "CONT");
        _stopped = false;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            if (_stopped && !process.HasExited)
            {
                await Os.SignalAsync(process.Id, "CONT"); // a stopped process does not act on SIGTERM
            }

            await Os.StopAsync(process, TimeSpan.FromSeconds(5));
            process.Dispose();
            _process = null;
        }
    }

    private async Task StartAsync(TimeSpan patience)
    {
        _listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var info = new ProcessStartInfo(DotNet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in (string[])[CliDll, "serve", .. _arguments])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("OXIVEC_API_KEY");
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__LogLevel__OxiVec"] = "Information";
        Process process = Process.Start(info) ?? throw new InvalidOperationException($"node {NodeId} did not start.");
        process.OutputDataReceived += (_, e) => Keep(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => Keep(e.Data, stdout: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process?.Dispose();
        _process = process;
        Task done = await Task.WhenAny(_listening.Task, process.WaitForExitAsync(), Task.Delay(patience));
        if (done != _listening.Task)
        {
            string why = process.HasExited ? $"exited with code {process.ExitCode}" : $"printed no address within {patience.TotalSeconds} s";
            await Os.KillAsync(process);
            throw new InvalidOperationException($"node {NodeId} {why}:\n{Output}");
        }
    }

    private void Keep(string? line, bool stdout)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Append(stdout ? "" : "! ").AppendLine(line);
            if (_output.Length > KeptChars)
            {
                _output.Remove(0, _output.Length - KeptChars);
            }
        }

        if (stdout && line.StartsWith(ListeningPrefix, StringComparison.Ordinal))
        {
            _listening.TrySetResult();
        }
    }

    /// <summary>The CLI's dll in the test output directory (with its runtimeconfig, which pulls in ASP.NET Core).</summary>
    private static string CliDll { get; } = Path.Combine(AppContext.BaseDirectory, "OxiVec.Cli.dll");

    /// <summary>The dotnet muxer: the one running the tests when the SDK says so, else the one on the PATH.</summary>
    private static string DotNet { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";
}

using System.Diagnostics;
using System.Net;
using System.Text;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>
/// A real <c>oxivec serve</c> process (<c>dotnet OxiVec.Cli.dll serve --data DIR --http 127.0.0.1:0 ...</c>, the dll the
/// project reference copies next to the test assembly) with the address it printed. <see cref="KillAsync"/> SIGKILLs it;
/// disposing kills it too when it still runs, and waits for it.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private const string ListeningPrefix = "oxivec serve: listening on ";
    private const string GrpcPrefix = "oxivec serve: gRPC replication on ";

    private readonly Process _process;
    private readonly Task<string> _stderr;
    private readonly Task _stdoutReader;
    private readonly TaskCompletionSource<Uri> _address = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Uri> _grpc = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StringBuilder _stdout = new();
    private int _disposed;

    private ServerProcess(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
        _stdoutReader = Task.Run(ReadStdoutAsync);
    }

    /// <summary>The address the server printed.</summary>
    public Uri Address => _address.Task.IsCompletedSuccessfully ? _address.Task.Result : throw new InvalidOperationException("The server has printed no address.");

    /// <summary>The gRPC replication address the server printed (it is printed before the REST address is ready).</summary>
    public Uri GrpcAddress => _grpc.Task.IsCompletedSuccessfully ? _grpc.Task.Result : throw new InvalidOperationException("The server has printed no gRPC address (start it with --grpc).");

    /// <summary>Sends <paramref name="signal"/> (<c>STOP</c>, <c>CONT</c>, <c>TERM</c>) to the process with <c>kill</c>.</summary>
    public async Task SignalAsync(string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>SIGTERM (the server drains, checkpoints and closes), then waits at most <paramref name="timeout"/> for the exit; its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        await SignalAsync("TERM");
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>
    /// Starts <c>oxivec serve --data <paramref name="dataDirectory"/> --http 127.0.0.1:0</c> with
    /// <paramref name="extraArguments"/>, waits (at most <paramref name="timeout"/>) for the address it prints and then
    /// until <c>GET /readyz</c> answers 200 (recovery has finished). The process is killed when either fails.
    /// </summary>
    public static Task<ServerProcess> StartAsync(string dataDirectory, TimeSpan timeout, params string[] extraArguments) =>
        StartOnAsync(dataDirectory, "127.0.0.1:0", timeout, extraArguments);

    /// <summary>Starts the server like <see cref="StartAsync"/>, listening on <paramref name="http"/> (a restart on the port it had).</summary>
    public static async Task<ServerProcess> StartOnAsync(string dataDirectory, string http, TimeSpan timeout, params string[] extraArguments)
    {
        var info = new ProcessStartInfo(DotNet)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in (string[])[CliDll, "serve", "--data", dataDirectory, "--http", http, .. extraArguments])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var server = new ServerProcess(Process.Start(info) ?? throw new InvalidOperationException("'oxivec serve' did not start."));
        try
        {
            using var deadline = new CancellationTokenSource(timeout);
            Task printed = await Task.WhenAny(server._address.Task, Task.Delay(Timeout.Infinite, deadline.Token));
            if (printed != server._address.Task)
            {
                throw new TimeoutException(await server.DescribeAsync($"printed no address within {timeout.TotalSeconds} s"));
            }

            await server.WaitForReadyAsync(deadline.Token);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the process with SIGKILL (with its process tree) wherever it is, and waits for it.</summary>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) when (_process.HasExited)
        {
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>What the process printed so far (stdout and, once it has exited, stderr).</summary>
    public string Output()
    {
        lock (_stdout)
        {
            return $"stdout:{Environment.NewLine}{_stdout}{(_stderr.IsCompleted ? $"stderr:{Environment.NewLine}{_stderr.Result}" : "")}";
        }
    }

    /// <summary>Kills the process if it still runs and releases it; a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await KillAsync();
        await _stdoutReader;
        await _stderr;
        _process.Dispose();
    }

    /// <summary>Polls <c>GET /readyz</c> until 200; the server answers 503 while it recovers.</summary>
    private async Task WaitForReadyAsync(CancellationToken deadline)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(10) };
        HttpStatusCode? last = null;
        while (!deadline.IsCancellationRequested)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(await DescribeAsync("exited before it was ready"));
            }

            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri("/readyz", UriKind.Relative), deadline);
                last = response.StatusCode;
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                break;
            }

            // Recovery has no event a client could wait on: poll, a bounded number of times within the deadline.
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), deadline);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        throw new TimeoutException(await DescribeAsync($"was not ready in time (last /readyz answer: {last?.ToString() ?? "none"})"));
    }

    private async Task ReadStdoutAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            lock (_stdout)
            {
                _stdout.AppendLine(line);
            }

            if (line.StartsWith(ListeningPrefix, StringComparison.Ordinal) && Uri.TryCreate(line[ListeningPrefix.Length..].Trim(), UriKind.Absolute, out Uri? address))
            {
                _address.TrySetResult(address);
            }

            if (line.StartsWith(GrpcPrefix, StringComparison.Ordinal) && Uri.TryCreate(line[GrpcPrefix.Length..].Trim(), UriKind.Absolute, out Uri? grpc))
            {
                _grpc.TrySetResult(grpc);
            }
        }

        _grpc.TrySetException(new InvalidOperationException("The server's stdout ended before it printed a gRPC address."));
        _ = _grpc.Task.Exception; // observed: a server without --grpc never prints one

        _address.TrySetException(new InvalidOperationException("The server's stdout ended before it printed its address."));
    }

    private async Task<string> DescribeAsync(string what)
    {
        await KillAsync();
        await _stdoutReader;
        await _stderr;
        return $"'oxivec serve' (pid {_process.Id}) {what}, exit code {_process.ExitCode}{Environment.NewLine}{Output()}";
    }

    /// <summary>The CLI's dll in the test output directory (with its runtimeconfig, which pulls in ASP.NET Core).</summary>
    private static string CliDll { get; } = File.Exists(Path.Combine(AppContext.BaseDirectory, "OxiVec.Cli.runtimeconfig.json"))
        ? Path.Combine(AppContext.BaseDirectory, "OxiVec.Cli.dll")
        : throw new FileNotFoundException($"OxiVec.Cli.dll and its runtimeconfig.json must be next to the tests in '{AppContext.BaseDirectory}' (the project reference copies them); rebuild the tests.");

    /// <summary>The dotnet muxer: the one running the tests when the SDK says so, else the one on the PATH.</summary>
    private static string DotNet { get; } =
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";
}

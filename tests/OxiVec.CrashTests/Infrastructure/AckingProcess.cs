using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>What a killed acking process left behind.</summary>
/// <param name="Ready">The value of its <c>ready &lt;n&gt;</c> line, or null when it printed none.</param>
/// <param name="Acks">The text after <c>ack </c> of every acknowledgement line, in order.</param>
/// <param name="OtherLines">Lines that are neither (a protocol error for the workers).</param>
public sealed record AckRun(long? Ready, IReadOnlyList<string> Acks, IReadOnlyList<string> OtherLines, int ExitCode, string Stderr);

/// <summary>
/// A child process (the <c>oxivec</c> CLI or the crash worker) that prints <c>ready &lt;n&gt;</c> (optionally) and <c>ack &lt;something&gt;</c> lines as it
/// goes (<c>load --print-acks</c>, <c>crash-store-worker</c>). Only newline-terminated lines count; waiting is on
/// acknowledgement counts, never on time (the timeout only fails the test).
/// </summary>
public sealed class AckingProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task _stdoutReader;
    private readonly Task<string> _stderr;
    private readonly TaskCompletionSource<long> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _acks = [];
    private readonly List<string> _other = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Signal)> _lineWaiters = [];
    private readonly string _commandLine;

    static AckingProcess()
    {
        // Reading a child's stdout and stderr keeps thread-pool threads busy. With the default minimum (one thread
        // per core: 2 here) the continuation that should kill the child after N acknowledgements was measured waiting
        // up to half a second for the pool to grow, while the child ran hundreds more operations: the kill did not
        // land where the test meant it to. With a higher minimum it lands within a few milliseconds.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), io);
    }

    private AckingProcess(DotNetProgram program, IReadOnlyList<string> arguments)
    {
        _commandLine = program.DisplayName + " " + string.Join(' ', arguments);
        _process = Process.Start(program.StartInfo(arguments)) ?? throw new InvalidOperationException($"'{_commandLine}' did not start.");
        _stderr = _process.StandardError.ReadToEndAsync();
        _stdoutReader = Task.Run(() => ReadStdoutAsync(_process.StandardOutput.BaseStream));
    }

    /// <summary>Starts <c>oxivec arguments...</c> (e.g. <c>load --print-acks</c>).</summary>
    public static AckingProcess Start(params string[] arguments) => new(DotNetProgram.Cli, arguments);

    /// <summary>Starts <c>OxiVec.CrashWorker arguments...</c> (<c>crash-store-worker</c>, <c>crash-torture-worker</c>).</summary>
    public static AckingProcess StartWorker(params string[] arguments) => new(DotNetProgram.CrashWorker, arguments);

    /// <summary>Acknowledgements so far.</summary>
    public int AckCount
    {
        get
        {
            lock (_acks)
            {
                return _acks.Count;
            }
        }
    }

    /// <summary>Waits for the <c>ready &lt;n&gt;</c> line and returns n.</summary>
    public async Task<long> WaitForReadyAsync(TimeSpan timeout)
    {
        Task done = await Task.WhenAny(_ready.Task, _exited.Task, Task.Delay(timeout));
        if (!_ready.Task.IsCompleted)
        {
            Assert.Fail(await DescribeAsync(done == _exited.Task ? "exited before printing 'ready'" : $"printed no 'ready' line within {timeout.TotalSeconds} s"));
        }

        return await _ready.Task;
    }

    /// <summary>Waits until at least <paramref name="count"/> acknowledgements were printed.</summary>
    public async Task WaitForAcksAsync(int count, TimeSpan timeout)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_acks)
        {
            if (_acks.Count >= count)
            {
                return;
            }

            _waiters.Add((count, signal));
        }

        Task done = await Task.WhenAny(signal.Task, _exited.Task, Task.Delay(timeout));
        if (!signal.Task.IsCompleted)
        {
            Assert.Fail(await DescribeAsync(done == _exited.Task
                ? $"exited after {AckCount} of the {count} acknowledgements waited for"
                : $"printed {AckCount} of the {count} acknowledgements waited for within {timeout.TotalSeconds} s"));
        }
    }

    /// <summary>
    /// Waits for the first line, other than <c>ready</c> and <c>ack</c> lines, that <paramref name="match"/> accepts
    /// (printed before or after this call) and returns it.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, TimeSpan timeout)
    {
        var signal = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_acks)
        {
            string? seen = _other.FirstOrDefault(match);
            if (seen is not null)
            {
                return seen;
            }

            _lineWaiters.Add((match, signal));
        }

        Task done = await Task.WhenAny(signal.Task, _exited.Task, Task.Delay(timeout));
        if (!signal.Task.IsCompleted)
        {
            Assert.Fail(await DescribeAsync(done == _exited.Task ? $"exited before printing {what}" : $"printed no {what} within {timeout.TotalSeconds} s"));
        }

        return await signal.Task;
    }

    /// <summary>Waits at most <paramref name="timeout"/> for the process to end on its own (its stdout closed); false when it still runs.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout) => await Task.WhenAny(_exited.Task, Task.Delay(timeout)) == _exited.Task;

    /// <summary>A task that completes once at least <paramref name="count"/> acknowledgements were printed (never faults).</summary>
    public Task WhenAcks(int count)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_acks)
        {
            if (_acks.Count >= count)
            {
                return Task.CompletedTask;
            }

            _waiters.Add((count, signal));
        }

        return signal.Task;
    }

    /// <summary>
    /// Kills the process with SIGKILL from the file system event itself, the first time an entry of
    /// <paramref name="directory"/> whose name <paramref name="match"/> accepts is created or renamed into. The
    /// returned task completes then; disposing the returned watcher stops watching. The process has run on for some
    /// microseconds by the time the kill lands.
    /// </summary>
    public (Task Killed, IDisposable Watcher) KillOnFileEvent(string directory, Func<string, bool> match)
    {
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = new FileSystemWatcher(directory) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName, IncludeSubdirectories = false };
        void On(string? name)
        {
            if (name is not null && match(name) && killed.TrySetResult())
            {
                try
                {
                    _process.Kill();
                }
                catch (InvalidOperationException) when (_process.HasExited)
                {
                }
            }
        }

        watcher.Created += (_, e) => On(e.Name);
        watcher.Renamed += (_, e) => On(e.Name);
        watcher.EnableRaisingEvents = true;
        return (killed.Task, watcher);
    }

    /// <summary>Kills the process with SIGKILL wherever it is, waits for it, and returns what it printed.</summary>
    /// <remarks>
    /// Only the process itself is killed (the acking commands start no child): walking the process tree takes 10 to
    /// 30 ms, during which the process would run on past the moment the test chose.
    /// </remarks>
    public async Task<AckRun> KillAsync()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException) when (_process.HasExited)
        {
        }

        await _process.WaitForExitAsync();
        await _stdoutReader;
        string stderr = await _stderr;
        lock (_acks)
        {
            return new AckRun(_ready.Task.IsCompletedSuccessfully ? _ready.Task.Result : null, [.. _acks], [.. _other], _process.ExitCode, stderr);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        await _stdoutReader;
        _process.Dispose();
    }

    private async Task<string> DescribeAsync(string what)
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        return $"'{_commandLine}' {what} (exit code {_process.ExitCode}); stderr: {(await _stderr).Trim()}";
    }

    private async Task ReadStdoutAsync(Stream stdout)
    {
        var pending = new List<byte>(64);
        byte[] buffer = new byte[8192];
        int read;
        while ((read = await stdout.ReadAsync(buffer)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] == (byte)'\n')
                {
                    OnLine(Encoding.UTF8.GetString([.. pending]));
                    pending.Clear();
                }
                else
                {
                    pending.Add(buffer[i]);
                }
            }
        }

        // A last line without its newline was cut by the kill: it acknowledges nothing.
        _exited.TrySetResult();
    }

    private void OnLine(string line)
    {
        lock (_acks)
        {
            if (line.StartsWith("ack ", StringComparison.Ordinal))
            {
                _acks.Add(line["ack ".Length..]);
            }
            else if (line.StartsWith("ready ", StringComparison.Ordinal)
                && long.TryParse(line["ready ".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out long ready))
            {
                _ready.TrySetResult(ready);
            }
            else
            {
                _other.Add(line);
                for (int i = _lineWaiters.Count - 1; i >= 0; i--)
                {
                    if (_lineWaiters[i].Match(line))
                    {
                        _lineWaiters[i].Signal.TrySetResult(line);
                        _lineWaiters.RemoveAt(i);
                    }
                }
            }

            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_acks.Count >= _waiters[i].Count)
                {
                    _waiters[i].Signal.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }
}

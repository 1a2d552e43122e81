using System.Diagnostics;
using System.Globalization;
using System.Text;
using OxiVec.Wal;

namespace OxiVec.CrashTests.Infrastructure;

/// <summary>The settings of one crash worker run (<c>OxiVec.CrashWorker crash-worker</c>).</summary>
public sealed record WorkerSettings(int Seed, int TxEvery, int Dimension, int Writers, long SegmentSizeBytes, int SyncIntervalMs = 0, bool PreallocateSegments = true)
{
    public IEnumerable<string> Arguments(string walDir) =>
    [
        "crash-worker", "--wal", walDir, "--seed", Str(Seed), "--tx-every", Str(TxEvery), "--dim", Str(Dimension),
        "--writers", Str(Writers), "--segment-size", Str(SegmentSizeBytes), "--sync-interval-ms", Str(SyncIntervalMs),
        .. (PreallocateSegments ? Array.Empty<string>() : ["--no-preallocate"]),
    ];

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// One acknowledgement the worker printed: <c>ack &lt;lsn&gt;</c> (an insert) or
/// <c>ack &lt;commitLsn&gt; tx &lt;firstMemberLsn&gt; &lt;count&gt;</c> (a transaction; <see cref="Lsn"/> is its commit).
/// </summary>
public readonly record struct Ack(long Lsn, long FirstMemberLsn, int Count)
{
    public bool IsTransaction => Count > 0;
}

/// <summary>What a killed worker left behind: its acknowledgements and how it ended.</summary>
public sealed record WorkerRun(long ReadyLsn, IReadOnlyList<Ack> Acks, int ExitCode, string Stderr);

/// <summary>
/// A crash worker child process (<c>dotnet OxiVec.CrashWorker.dll crash-worker ...</c>) whose stdout is parsed as it arrives.
/// Only newline-terminated lines count; waiting is on acknowledgement counts, never on time.
/// </summary>
public sealed class CrashWorkerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task _stdoutReader;
    private readonly Task<string> _stderr;
    private readonly TaskCompletionSource<long> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Ack> _acks = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private readonly List<string> _badLines = [];

    private CrashWorkerProcess(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
        _stdoutReader = Task.Run(() => ReadStdoutAsync(process.StandardOutput.BaseStream));
    }

    /// <summary>Lines on stdout that are neither <c>ready</c> nor <c>ack</c> lines (the protocol allows none).</summary>
    public IReadOnlyList<string> BadLines
    {
        get
        {
            lock (_acks)
            {
                return [.. _badLines];
            }
        }
    }

    public static CrashWorkerProcess Start(string walDir, WorkerSettings settings) =>
        new(Process.Start(DotNetProgram.CrashWorker.StartInfo(settings.Arguments(walDir))) ?? throw new InvalidOperationException("The crash worker did not start."));

    /// <summary>Waits for the <c>ready &lt;lastLsn&gt;</c> line (the WAL is open) and returns the last LSN the worker found.</summary>
    public async Task<long> WaitForReadyAsync(TimeSpan timeout)
    {
        Task done = await Task.WhenAny(_ready.Task, _exited.Task, Task.Delay(timeout));
        if (!_ready.Task.IsCompleted)
        {
            Assert.Fail(await DescribeAsync(done == _exited.Task ? "exited before opening the WAL" : $"did not open the WAL within {timeout.TotalSeconds} s"));
        }

        return await _ready.Task;
    }

    /// <summary>Waits until the worker has printed at least <paramref name="count"/> acknowledgements.</summary>
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
    /// Kills the worker with SIGKILL the moment the <paramref name="nth"/> segment file from now appears in
    /// <paramref name="walDir"/>: when it is created as <c>.wal.tmp</c> or as a zero-filled spare <c>spare-N.tmp</c>
    /// (<paramref name="whenCreated"/>: a crash while the segment is prepared) or when it is renamed to <c>.wal</c> (a crash between rotation and the first write into
    /// the new segment, where a transaction may be cut at the segment boundary). The kill is issued from the file
    /// system event itself; the worker has run on for some microseconds by then.
    /// </summary>
    public async Task KillAtSegmentFileAsync(string walDir, int nth, bool whenCreated, TimeSpan timeout)
    {
        int seen = 0;
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSegmentFile(string? name, string suffix)
        {
            if (name is not null && name.EndsWith(suffix, StringComparison.Ordinal) && Interlocked.Increment(ref seen) == nth)
            {
                killed.TrySetResult(); // first: the kill ends stdout, which must not read as an unexpected exit
                KillNow();
            }
        }

        using var watcher = new FileSystemWatcher(walDir) { NotifyFilter = NotifyFilters.FileName, IncludeSubdirectories = false };
        watcher.Created += (_, e) =>
        {
            if (whenCreated)
            {
                OnSegmentFile(e.Name, WalSegmentName.TempSuffix); // NAME.wal.tmp, or a spare-N.tmp being zero-filled
            }
        };
        watcher.Renamed += (_, e) =>
        {
            if (!whenCreated)
            {
                OnSegmentFile(e.Name, ".wal");
            }
        };
        watcher.EnableRaisingEvents = true;
        Task done = await Task.WhenAny(killed.Task, _exited.Task, Task.Delay(timeout));
        if (!killed.Task.IsCompleted)
        {
            Assert.Fail(await DescribeAsync(done == _exited.Task
                ? $"exited after {seen} of the {nth} new segment files waited for"
                : $"made {seen} of the {nth} new segment files waited for within {timeout.TotalSeconds} s"));
        }
    }

    /// <summary>Kills the worker with SIGKILL (mid-write, wherever it is), waits for it to exit and reads what it printed.</summary>
    public async Task<WorkerRun> KillAsync()
    {
        KillNow();
        await _process.WaitForExitAsync();
        await _stdoutReader;
        string stderr = await _stderr;
        lock (_acks)
        {
            return new WorkerRun(_ready.Task.IsCompletedSuccessfully ? _ready.Task.Result : -1, [.. _acks], _process.ExitCode, stderr);
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

    /// <remarks>
    /// Only the process itself is killed (the crash worker starts no child): walking the process tree takes 10 to 30 ms,
    /// during which the worker would run on past the segment file event the test chose.
    /// </remarks>
    private void KillNow()
    {
        try
        {
            _process.Kill(); // SIGKILL on Unix
        }
        catch (InvalidOperationException) when (_process.HasExited)
        {
        }
    }

    private int AckCount
    {
        get
        {
            lock (_acks)
            {
                return _acks.Count;
            }
        }
    }

    private async Task<string> DescribeAsync(string what)
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        return $"The crash worker {what} (exit code {_process.ExitCode}); stderr: {await _stderr}";
    }

    private async Task ReadStdoutAsync(Stream stdout)
    {
        var line = new StringBuilder();
        byte[] buffer = new byte[16 << 10];
        try
        {
            int read;
            while ((read = await stdout.ReadAsync(buffer)) > 0)
            {
                for (int i = 0; i < read; i++)
                {
                    if (buffer[i] != (byte)'\n')
                    {
                        line.Append((char)buffer[i]);
                        continue;
                    }

                    OnLine(line.ToString());
                    line.Clear();
                }
            }

            // A last line without its newline was cut short by the kill: it acknowledges nothing.
        }
        finally
        {
            _exited.TrySetResult();
        }
    }

    private void OnLine(string line)
    {
        string[] parts = line.Split(' ');
        lock (_acks)
        {
            if (parts is ["ready", var last] && long.TryParse(last, CultureInfo.InvariantCulture, out long lastLsn))
            {
                _ready.TrySetResult(lastLsn);
            }
            else if (parts is ["ack", var lsn] && long.TryParse(lsn, CultureInfo.InvariantCulture, out long single))
            {
                _acks.Add(new Ack(single, 0, 0));
            }
            else if (parts is ["ack", var commit, "tx", var first, var count]
                && long.TryParse(commit, CultureInfo.InvariantCulture, out long commitLsn)
                && long.TryParse(first, CultureInfo.InvariantCulture, out long firstLsn)
                && int.TryParse(count, CultureInfo.InvariantCulture, out int members))
            {
                _acks.Add(new Ack(commitLsn, firstLsn, members));
            }
            else
            {
                _badLines.Add(line);
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

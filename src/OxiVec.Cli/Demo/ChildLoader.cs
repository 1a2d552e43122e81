using System.Diagnostics;
using OxiVec.Cli.Commands;
using OxiVec.Cli.Data;

namespace OxiVec.Cli.Demo;

/// <summary>
/// Runs <c>oxivec load ... --print-acks</c> as a child of this same CLI, lets it load for a while after its first
/// acknowledgement, then kills it with SIGKILL; returns every record index it acknowledged.
/// </summary>
internal static class ChildLoader
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>What the killed child left: its process id and exit code, the indexes it acknowledged, or why it failed.</summary>
    public sealed record Run(int ProcessId, int ExitCode, IReadOnlyList<long> Acks, string? Error);

    public static async Task<Run> LoadAndKillAsync(
        LoadCommand.Settings settings, TimeSpan loadFor, Action<string> status, CancellationToken cancellationToken)
    {
        using Process child = Process.Start(SelfLauncher.StartInfo(settings.Arguments()))
            ?? throw new InvalidOperationException("The loader process did not start.");
        try
        {
            Task<string> stderr = child.StandardError.ReadToEndAsync(cancellationToken);
            var acks = new List<long>();
            var firstAck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task reading = ReadAcksAsync(child.StandardOutput.BaseStream, acks, firstAck);
            status($"The loader (process {child.Id}) is opening the database: it replays the WAL, so the articles are indexed again");
            Task started = await Task.WhenAny(firstAck.Task, child.WaitForExitAsync(cancellationToken), Task.Delay(StartTimeout, cancellationToken))
                .ConfigureAwait(false);
            if (started != firstAck.Task)
            {
                return Failed(child, await StopAsync(child, stderr).ConfigureAwait(false), "acknowledged nothing");
            }

            var running = Stopwatch.StartNew();
            while (running.Elapsed < loadFor)
            {
                status($"The loader (process {child.Id}) is loading: {Count(acks):N0} records acknowledged");
                if (child.HasExited)
                {
                    return Failed(child, await StopAsync(child, stderr).ConfigureAwait(false), "exited on its own");
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }

            child.Kill(entireProcessTree: true); // SIGKILL on Unix: no shutdown, no flush
            await child.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            await reading.ConfigureAwait(false);
            return new Run(child.Id, child.ExitCode, acks, null);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static int Count(List<long> acks)
    {
        lock (acks)
        {
            return acks.Count;
        }
    }

    private static async Task ReadAcksAsync(Stream stdout, List<long> acks, TaskCompletionSource firstAck)
    {
        await foreach (string line in LineReader.ReadLinesAsync(stdout).ConfigureAwait(false))
        {
            if (line.StartsWith("ack ", StringComparison.Ordinal) && DeterministicVectors.TryParseId(line["ack ".Length..], out long index))
            {
                lock (acks)
                {
                    acks.Add(index);
                }

                firstAck.TrySetResult();
            }
        }
    }

    private static async Task<string> StopAsync(Process child, Task<string> stderr)
    {
        if (!child.HasExited)
        {
            child.Kill(entireProcessTree: true);
        }

        await child.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        return (await stderr.ConfigureAwait(false)).Trim();
    }

    private static Run Failed(Process child, string stderr, string what) => new(
        child.Id, child.ExitCode, [],
        $"The loader {what} (exit code {child.ExitCode}){(stderr.Length > 0 ? ": " + stderr.ReplaceLineEndings(" ") : ".")}");
}

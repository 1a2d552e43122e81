using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OxiVec.Cli.Crash;
using OxiVec.Cli.Output;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec demo</c>: a one-minute story of the WAL at work for a newcomer, in a temporary directory that is removed
/// afterwards. Appends with group commit and a transaction, shows the metrics, then crashes a writer for real (a child
/// process killed with SIGKILL), recovers, checks that every acknowledged write survived, and verifies the log.
/// Exit code 0 when everything acknowledged survived, 2 when something did not.
/// </summary>
internal static class DemoCommand
{
    private const int Writers = 4;
    private const int InsertsPerWriter = 500;
    private const int Dimension = 64;
    private const long SegmentSize = 256 << 10;
    private const string Collection = "docs";
    private static readonly TimeSpan CrashAfter = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var command = new Command(
            "demo",
            "A one-minute tour: group commit, a transaction, metrics, then a writer process killed with SIGKILL and the WAL recovering every acknowledged write.");
        command.SetAction((_, cancellationToken) => RunAsync(cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        DemoView view = DemoView.Create();
        string dir = Path.Combine(Path.GetTempPath(), "oxivec-demo-" + Guid.NewGuid().ToString("n")[..12]);
        try
        {
            return await TellAsync(view, dir, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
                view.Say($"Removed {dir}.");
            }
            catch (DirectoryNotFoundException)
            {
            }
            catch (IOException ex)
            {
                view.Failure($"Could not remove {dir}: {ex.Message}");
            }
        }
    }

    private static async Task<int> TellAsync(DemoView view, string dir, CancellationToken cancellationToken)
    {
        view.Title("OxiVec: the write-ahead log at work");
        view.Say(
            "Every change is appended to the write-ahead log (WAL) and made durable before it is acknowledged, so a crash " +
            $"loses nothing that was acknowledged. Let's watch it, in a temporary directory: {dir}");

        WalConfig config = WalConfig.MaximumDurability with { WalDir = dir, SegmentSizeBytes = SegmentSize };
        view.Step(1, "Open a WAL with maximum durability");
        view.Say(
            "SyncIntervalMs = 0: an append returns only after an fsync covers it. Appends that arrive together share one " +
            $"fsync (group commit). Segment files of {SegmentSize >> 10} KiB: a full one is fsynced and the next one started.");
        using (WalManager wal = WalManager.Open(config))
        {
            view.Success($"Opened: a new WAL with {wal.OpenReport.SegmentCount} segment.");
            await ShowWritesAsync(view, wal).ConfigureAwait(false);
        }

        view.Step(5, "Crash a writer for real");
        view.Say(
            "A child process ('oxivec crash-worker') opens the same WAL and appends from 4 writers, printing 'ack <lsn>' " +
            "after each acknowledged write. Then it gets SIGKILL: no shutdown, no final flush, no goodbye.");
        CrashRun run = await view.StatusAsync("Starting the child process", status => CrashChildAsync(dir, status, cancellationToken))
            .ConfigureAwait(false);
        if (run.Error is not null)
        {
            view.Failure(run.Error);
            return ExitCodes.InternalError;
        }

        long maxAck = run.Acks.Count == 0 ? run.ReadyLsn : run.Acks.Max(a => a.Lsn);
        view.Success(
            $"Killed process {run.ProcessId} (exit code {run.ExitCode}) after {run.Acks.Count:N0} acknowledged writes; the highest acknowledged LSN is {maxAck:N0}.");

        view.Step(6, "Reopen: recovery");
        view.Say(
            "Opening scans the newest segment to its end. A write cut short by the crash (a torn tail) was never " +
            "acknowledged, so it is cut off; a transaction left open gets an abort record.");
        using WalManager recovered = await view.StatusAsync("Opening the WAL", _ => Task.FromResult(WalManager.Open(config))).ConfigureAwait(false);
        WalOpenReport report = recovered.OpenReport;
        view.Table(
            ["Open report", "Value"],
            [
                ["Segments", Num(report.SegmentCount)],
                ["Last valid LSN", Num(report.LastLsn)],
                ["Torn tail cut off", report.TornTailBytes > 0
                    ? $"{report.TornTailBytes:N0} bytes at {report.TornTailFile} offset {report.TornTailOffset:N0} ({report.TornTailReason})"
                    : "none: SIGKILL leaves what the process wrote in the OS page cache; a power cut could tear the last write"],
                ["Open transaction aborted", report.AbortedTransactionLsn is { } begin ? $"the one begun at LSN {begin:N0}" : "none"],
            ]);

        List<string> missing = FindMissing(recovered, run);
        if (missing.Count > 0)
        {
            view.Failure($"{missing.Count:N0} acknowledged writes are missing or wrong, first: {missing[0]}");
            return ExitCodes.DataError;
        }

        view.Success($"All {run.Acks.Count:N0} writes the child acknowledged are in the log (LSN {run.ReadyLsn + 1:N0} to {maxAck:N0}, no gaps).");
        if (report.LastLsn > maxAck)
        {
            long extra = report.LastLsn - maxAck;
            view.Say(
                $"{extra:N0} record{(extra == 1 ? "" : "s")} after LSN {maxAck:N0} survived too: written, but the process died " +
                "before the fsync returned. The WAL may keep such in-flight writes; it promises to keep the acknowledged ones.");
        }

        view.Step(7, "Verify");
        WalVerifyReport verify = await view.StatusAsync("Checking every record's checksum", _ => Task.FromResult(recovered.Verify())).ConfigureAwait(false);
        if (!verify.IsValid)
        {
            foreach (WalIssue issue in verify.Issues)
            {
                view.Failure(WalVerifyCommand.IssueLine(issue));
            }

            return ExitCodes.DataError;
        }

        view.Success($"{verify.ValidRecords:N0} records in {verify.Segments.Count} segments, every checksum and LSN in order.");
        view.Say("Explore a WAL yourself: oxivec wal dump --wal <dir>, oxivec wal verify --wal <dir> (both read-only).");
        return ExitCodes.Ok;
    }

    private static async Task ShowWritesAsync(DemoView view, WalManager wal)
    {
        view.Step(2, "Append from 4 concurrent writers, then a transaction");
        int inserts = Writers * InsertsPerWriter;
        var burst = Stopwatch.StartNew();
        await view.StatusAsync($"Appending {inserts:N0} vectors of dimension {Dimension} from {Writers} writers", async _ =>
        {
            Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Factory.StartNew(
                () =>
                {
                    for (int i = 0; i < InsertsPerWriter; i++)
                    {
                        long n = (w * InsertsPerWriter) + i;
                        wal.LogInsert(Collection, $"doc-{n}", CrashWorkload.Vector(42, n, CrashWorkload.Single, Dimension));
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default))];
            await Task.WhenAll(writers).ConfigureAwait(false);
            return 0;
        }).ConfigureAwait(false);
        burst.Stop();
        view.Success($"{inserts:N0} inserts acknowledged in {burst.Elapsed.TotalSeconds:F2} s ({inserts / burst.Elapsed.TotalSeconds:N0} per second), LSN 1..{wal.LastLsn:N0}.");
        view.Say("Each append returned only after an fsync covered it.");

        long commit;
        using (WalTransaction tx = wal.BeginTransaction())
        {
            tx.LogInsert(Collection, "doc-new", CrashWorkload.Vector(42, -1, CrashWorkload.Single, Dimension));
            tx.LogUpdate(Collection, "doc-1", CrashWorkload.Vector(42, -2, CrashWorkload.Single, Dimension));
            tx.LogDelete(Collection, "doc-2");
            commit = tx.Commit();
        }

        view.Success($"A transaction (insert, update, delete) committed: LSN {commit - 4:N0}..{commit:N0}, one write and one fsync.");
        view.Say("After a crash either all of its entries count or none: readers apply them only once the commit record is there.");

        view.Step(3, "Metrics");
        WalMetrics m = wal.GetMetrics();
        view.Table(
            ["Metric", "Value"],
            [
                ["Entries in the log", Num(m.TotalEntries)],
                ["Write throughput (average over the last 10 s)", $"{m.WriteOpsPerSec:N0} records/s"],
                ["Write latency (append to ack) avg / p99", $"{m.AvgWriteLatencyMs:F2} ms / {m.P99WriteLatencyMs:F2} ms"],
                ["fsync latency avg / p99", $"{m.AvgSyncLatencyMs:F2} ms / {m.P99SyncLatencyMs:F2} ms"],
                ["fsyncs", Num(m.SyncCount)],
                ["Size on disk", $"{m.CurrentSizeMb:F2} MB in {m.SegmentCount} segments"],
                ["Durable LSN", Num(m.DurableLsn)],
            ]);
        int commits = inserts + 1;
        if (m.SyncCount > 0 && m.SyncCount < commits)
        {
            view.Say($"Group commit at work: {commits:N0} commits took {m.SyncCount:N0} fsyncs ({(double)commits / m.SyncCount:F1} commits per fsync).");
        }

        view.Step(4, "Read it back");
        view.Table(
            ["LSN", "Type", "Flags", "Entry"],
            wal.ReadRecords(Math.Max(1, commit - 5)).Select(r => new[]
            {
                Num(r.Lsn), RecordFormat.TypeName(r.Type), RecordFormat.FlagsColumn(r.Flags), RecordFormat.Summary(r.ToEntry()),
            }));
        view.Say("Transaction members carry the tx-member flag, between their begin and commit records.");
    }

    /// <summary>Runs a crash worker on <paramref name="dir"/>, lets it write for <see cref="CrashAfter"/>, then kills it.</summary>
    private static async Task<CrashRun> CrashChildAsync(string dir, Action<string> status, CancellationToken cancellationToken)
    {
        var settings = new CrashWorkerCommand.Settings(dir, Seed: 7, TxEvery: 10, Dimension, SegmentSize, Writers);
        using Process child = Process.Start(SelfLauncher.StartInfo(settings.Arguments()))
            ?? throw new InvalidOperationException("The crash worker process did not start.");
        try
        {
            Task<string> stderr = child.StandardError.ReadToEndAsync(cancellationToken);
            var ready = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var acks = new List<AckProtocol.Acknowledgement>();
            Task reading = ReadAcksAsync(child.StandardOutput.BaseStream, ready, acks);

            Task started = await Task.WhenAny(ready.Task, child.WaitForExitAsync(cancellationToken), Task.Delay(StartTimeout, cancellationToken))
                .ConfigureAwait(false);
            if (started != ready.Task)
            {
                return Failed(child, await StopAsync(child, stderr).ConfigureAwait(false), "did not open the WAL");
            }

            var running = Stopwatch.StartNew();
            while (running.Elapsed < CrashAfter)
            {
                int count;
                lock (acks)
                {
                    count = acks.Count;
                }

                status($"Child process {child.Id} is appending: {count:N0} writes acknowledged");
                if (child.HasExited)
                {
                    return Failed(child, await StopAsync(child, stderr).ConfigureAwait(false), "exited on its own");
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }

            child.Kill(entireProcessTree: true); // SIGKILL on Unix
            await child.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            await reading.ConfigureAwait(false);
            return new CrashRun(child.Id, child.ExitCode, ready.Task.Result, acks, null);
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

    private static async Task ReadAcksAsync(Stream stdout, TaskCompletionSource<long> ready, List<AckProtocol.Acknowledgement> acks)
    {
        await foreach (string line in LineReader.ReadLinesAsync(stdout).ConfigureAwait(false))
        {
            if (AckProtocol.TryParseAck(line, out AckProtocol.Acknowledgement ack))
            {
                lock (acks)
                {
                    acks.Add(ack);
                }
            }
            else if (AckProtocol.TryParseReady(line, out long lastLsn))
            {
                ready.TrySetResult(lastLsn);
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

    private static CrashRun Failed(Process child, string stderr, string what) => new(
        child.Id, child.ExitCode, 0, [],
        $"The crash worker {what} (exit code {child.ExitCode}){(stderr.Length > 0 ? ": " + stderr.ReplaceLineEndings(" ") : ".")}");

    /// <summary>Checks every acknowledgement against the recovered log; returns a description of each one that is wrong.</summary>
    private static List<string> FindMissing(WalManager wal, CrashRun run)
    {
        var found = new Dictionary<long, (WalRecordType Type, WalRecordFlags Flags)>();
        long expected = run.ReadyLsn + 1;
        var problems = new List<string>();
        foreach (WalRecord record in wal.ReadRecords(expected))
        {
            if (record.Lsn != expected++)
            {
                problems.Add($"LSN {expected - 1} is followed by LSN {record.Lsn}");
                expected = record.Lsn + 1;
            }

            found[record.Lsn] = (record.Type, record.Flags);
        }

        foreach (AckProtocol.Acknowledgement ack in run.Acks)
        {
            if (!found.TryGetValue(ack.Lsn, out var head))
            {
                problems.Add($"acknowledged LSN {ack.Lsn} is not in the log");
            }
            else if (head.Type != (ack.IsTransaction ? WalRecordType.TransactionCommit : WalRecordType.Insert))
            {
                problems.Add($"acknowledged LSN {ack.Lsn} is a {head.Type} record");
            }
            else if (ack.IsTransaction && !Enumerable.Range(0, ack.Count).All(i =>
                found.TryGetValue(ack.FirstMemberLsn + i, out var member) && member.Flags.HasFlag(WalRecordFlags.TransactionMember)))
            {
                problems.Add($"a member of the transaction committed at LSN {ack.Lsn} is missing");
            }
        }

        return problems;
    }

    private static string Num(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private sealed record CrashRun(int ProcessId, int ExitCode, long ReadyLsn, IReadOnlyList<AckProtocol.Acknowledgement> Acks, string? Error);
}

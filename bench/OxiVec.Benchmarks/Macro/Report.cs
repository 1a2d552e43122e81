using System.Globalization;
using System.Text;
using OxiVec.Benchmarks.Macro.Peers;
using OxiVec.Benchmarks.Trust;

namespace OxiVec.Benchmarks.Macro;

/// <summary>Renders <see cref="BenchResults"/> as the markdown report (bench/results/wal.md).</summary>
internal static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Render(BenchResults r)
    {
        var sb = new StringBuilder();
        HarnessOptions o = r.Options;
        MachineInfo m = r.Machine;
        Line(sb, "# OxiVec WAL benchmark");
        Line(sb);
        sb.Append(ReportStamp.Render("wal", o.Code, o.Quick));
        Line(sb, $"Produced by `{o.CommandLine()}` (run from the repository root) on {m.Date:yyyy-MM-dd HH:mm} UTC, " +
            $"{(o.Quick ? "**quick mode** (1 repeat, short runs: a smoke test, not a measurement to quote)" : "full mode")}; " +
            $"{o.Repeats} repeat(s) of every cell, {o.RunDuration.TotalSeconds:0.#} s per run (or {o.MaxOpsPerRun:N0} inserts, whichever comes first); " +
            $"whole run {r.Elapsed.TotalSeconds:F0} s. Medians over the repeats, with min–max.");
        Line(sb);

        Headline(sb, r);
        sb.Append(FigureTable.Render(Figures(r)));
        Machine(sb, r);
        DatasetSection(sb, r);
        Disk(sb, r);
        Wal(sb, r);
        Transactions(sb, r);
        Peers(sb, r);
        Charts(sb);
        Method(sb, r);
        return sb.ToString();
    }

    private static void Headline(StringBuilder sb, BenchResults r)
    {
        Line(sb, "## Headline");
        Line(sb);
        Spread fsync = Spread.Of(r.FsyncOverwrite.Select(p => p.Rate));
        Spread fsyncPrealloc = Spread.Of(r.FsyncPreallocated.Select(p => p.Rate));
        Spread fsyncExtend = Spread.Of(r.FsyncExtend.Select(p => p.Rate));
        Spread seq = Spread.Of(r.Sequential.Select(p => p.Rate));
        Line(sb, $"- Disk: **{Rate(fsync.Median)} fdatasync/s** (4 KiB overwrite of written blocks); {Rate(fsyncPrealloc.Median)}/s when each 4 KiB write starts a new block " +
            $"of preallocated (fallocated) space, as in a fresh WAL segment; {Rate(fsyncExtend.Median)}/s extending a file. **{Rate(seq.Median)} MB/s** sequential write.");
        Spread walSeq = Spread.Of(r.WalSequential.Select(p => p.Rate));
        Spread seqSynced = Spread.Of(r.SequentialSynced.Select(p => p.Rate));
        double disk = Math.Max(seq.Median, seqSynced.Median);
        Line(sb, $"- WAL sequential write (transactions of {WalSequentialProbe.TransactionSize:N0} inserts, then one fsync): **{Rate(walSeq.Median)} MB/s**, {walSeq.Median / disk:P0} of the disk's sequential bandwidth " +
            $"(the better of its two probes: {Rate(seq.Median)} MB/s with one fdatasync at the end, {Rate(seqSynced.Median)} MB/s with one every {DiskProbe.WalLikeSyncBytes >> 20} MiB as the WAL does). " +
            $"Target (issue 6) at least 80 %: {SequentialTarget(r).Text}.");
        foreach (int writers in new[] { r.Options.WriterCounts[0], r.Options.WriterCounts[^1] })
        {
            if (Get(r, new CellKey(CellKind.Wal, 0, writers)) is { } runs)
            {
                Spread commits = Spread.Of(runs.Select(x => x.CommitsPerSecond));
                Spread perSync = Spread.Of(runs.Select(x => x.CommitsPerSync));
                Spread p99 = Spread.Of(runs.Select(x => x.Latency.P99Us));
                Line(sb, $"- SyncIntervalMs = 0, {writers} writer(s): **{Rate(commits.Median)} commits/s**, {Ratio(perSync.Median)} commits per fsync, p99 {Latency(p99.Median)}.");
            }
        }

        foreach (GroupCommitGoal.Row row in GroupCommitGoal.Rows(r))
        {
            Line(sb, $"- Target (issue 12, goal 2), SyncIntervalMs = 0, {row.Writers}: at least {GroupCommitGoal.ScaleTarget:0}× one writer: {Verdicts.Markdown(row.ScaleVerdict, row.Scale)}: " +
                $"{row.Scale.Describe(x => Ratio(x) + "×")}; p99 at most {GroupCommitGoal.P99TargetFsyncs:0} fsync times: {Verdicts.Markdown(row.P99Verdict, row.P99Fsyncs)}: {row.P99Fsyncs.Describe(Ratio)}; " +
                $"CPU per commit {Latency(Med(row.Runs, x => x.CpuMicrosPerCommit))}, {Ratio(Med(row.Runs, x => x.CommitsPerSync))} commits per fsync; {row.Scale.Rounds} paired round(s).");
        }

        if (Get(r, new CellKey(CellKind.Wal, 1_000, r.Options.WriterCounts[^1])) is { } hi)
        {
            Line(sb, $"- SyncIntervalMs = 1000, {r.Options.WriterCounts[^1]} writers: **{Spread.Of(hi.Select(x => x.WalMBPerSecond)).Median:F1} MB/s** of WAL, {Rate(Spread.Of(hi.Select(x => x.CommitsPerSecond)).Median)} commits/s.");
        }

        if (Get(r, new CellKey(CellKind.Transaction, 0, 1)) is { } tx)
        {
            Line(sb, $"- Transactions of {Workload.TransactionBatch} (SyncIntervalMs = 0, 1 writer): **{Rate(Spread.Of(tx.Select(x => x.OpsPerSecond)).Median)} inserts/s**.");
        }

        foreach (string target in Targets(r))
        {
            Line(sb, "- " + target);
        }

        Line(sb);
    }

    /// <summary>One target judged from paired rounds: the interval of OxiVec ÷ peer (commits/s), its verdict, the sentence.</summary>
    private sealed record TargetResult(string Peer, CellKind Kind, double Factor, double OxiVec, double Other, Interval Ratio, Verdict Verdict, string Text);

    /// <summary>
    /// The issue's targets at SyncIntervalMs = 0 and the largest writer count: OxiVec commits/s at least FasterLog's
    /// (commit per record) and at least 3× SQLite's with <c>synchronous=FULL</c> (group commit). Each round ran the
    /// OxiVec cell and the peer's back to back; the verdict comes from the bootstrap interval of the per-round
    /// ratios (<see cref="Verdicts.AtLeast"/>).
    /// </summary>
    private static IEnumerable<TargetResult> TargetResults(BenchResults r)
    {
        int writers = r.Options.WriterCounts[^1];
        (string Peer, CellKind Kind, double Factor)[] targets = [("FasterLog (commit per record)", CellKind.FasterLog, 1), ("SQLite WAL synchronous=FULL, group commit", CellKind.Sqlite, 3)];
        foreach ((string peer, CellKind kind, double factor) in targets)
        {
            if (Get(r, new CellKey(CellKind.Wal, 0, writers)) is not { } ours || Get(r, new CellKey(kind, 0, writers)) is not { } theirs || ours.Count != theirs.Count)
            {
                continue;
            }

            Interval ratio = Bootstrap.PairedRatio([.. ours.Select(x => x.CommitsPerSecond)], [.. theirs.Select(x => x.CommitsPerSecond)]);
            Verdict verdict = Verdicts.AtLeast(ratio, factor);
            double oxivec = Med(ours, x => x.CommitsPerSecond);
            double other = Med(theirs, x => x.CommitsPerSecond);
            string need = factor == 1 ? $"≥ {peer}" : $"≥ {factor:0}× {peer}";
            yield return new TargetResult(peer, kind, factor, oxivec, other, ratio, verdict,
                $"Target (issue 6), SyncIntervalMs = 0, {writers} writers, OxiVec commits/s {need}: {Verdicts.Markdown(verdict, ratio)}: OxiVec {Rate(oxivec)}/s, {peer} {Rate(other)}/s (medians), " +
                $"OxiVec / peer = {ratio.Describe(x => Ratio(x) + "×")}, {ratio.Rounds} paired round(s).");
        }
    }

    private static IEnumerable<string> Targets(BenchResults r) => TargetResults(r).Select(t => t.Text);

    /// <summary>The WAL's sequential write rate against the better disk probe of the same repeat, at least 80 %.</summary>
    private static (Interval Share, Verdict Verdict, string Text) SequentialTarget(BenchResults r)
    {
        double[] disk = [.. r.Sequential.Zip(r.SequentialSynced, (a, b) => Math.Max(a.Rate, b.Rate))];
        Interval share = Bootstrap.PairedRatio([.. r.WalSequential.Select(p => p.Rate)], disk);
        Verdict verdict = Verdicts.AtLeast(share, 0.8);
        return (share, verdict, $"{Verdicts.Markdown(verdict, share)}: {share.Describe(Percent)}, {share.Rounds} paired repeat(s)");
    }

    /// <summary>The report's headline figures, with their qualifiers (the README's table is made of these).</summary>
    private static IEnumerable<Figure> Figures(BenchResults r)
    {
        foreach (GroupCommitGoal.Row row in GroupCommitGoal.Rows(r))
        {
            yield return new Figure($"Group commit, {row.Writers}, × one writer", Ratio(row.Scale.Estimate) + "×", "1 writer thread, same rounds",
                row.Scale.Describe(x => Ratio(x) + "×"), $"≥ {GroupCommitGoal.ScaleTarget:0}×: {Verdicts.Words(row.ScaleVerdict)}",
                $"SyncIntervalMs = 0; p99 {row.P99Fsyncs.Describe(Ratio)} fsync times (≤ {GroupCommitGoal.P99TargetFsyncs:0}: {Verdicts.Words(row.P99Verdict)}); CPU per commit {Latency(Med(row.Runs, x => x.CpuMicrosPerCommit))}; {Ratio(Med(row.Runs, x => x.CommitsPerSync))} commits per fsync",
                row.Scale.Rounds);
        }

        int repeats = r.Options.Repeats;
        int writers = r.Options.WriterCounts[^1];
        string records = $"one `LogInsert` per commit ({Dataset.Dimensions}-dim vector, {r.Data.RecordBytes}-byte WAL record)";
        double fsyncRate = Spread.Of(r.FsyncOverwrite.Select(p => p.Rate)).Median;
        if (Get(r, new CellKey(CellKind.Wal, 0, 1)) is { } one)
        {
            double c = Med(one, x => x.CommitsPerSecond);
            yield return new Figure("Commits/s, fsync per commit, 1 writer", Rate(c), $"the disk: {Rate(fsyncRate)} fdatasync/s (4 KiB overwrite probe, same run)",
                Percent(c / fsyncRate), "–", $"SyncIntervalMs = 0 (MaximumDurability), 1 writer, {records}", repeats);
        }

        if (Get(r, new CellKey(CellKind.Wal, 0, writers)) is { } many)
        {
            double c = Med(many, x => x.CommitsPerSecond);
            string qualifiers = $"SyncIntervalMs = 0 (MaximumDurability), {writers} writer threads, {records}, {Ratio(Med(many, x => x.CommitsPerSync))} commits per fsync";
            foreach (TargetResult t in TargetResults(r))
            {
                string peer = t.Kind == CellKind.FasterLog
                    ? $"FasterLog {Rate(t.Other)}/s ({FasterLogPeer.Version}, {r.FasterLogChoice}; its Linux device opens files O_SYNC)"
                    : $"SQLite {Rate(t.Other)}/s (WAL, synchronous=FULL, one writer connection committing queued inserts in one transaction){SecondarySqlite(r, writers)}";
                yield return new Figure($"Commits/s, fsync per commit, {writers} writers", Rate(c), peer,
                    t.Ratio.Describe(x => Ratio(x) + "×"),
                    $"≥ {t.Factor:0}× {(t.Kind == CellKind.FasterLog ? "FasterLog" : "SQLite")}: {Verdicts.Words(t.Verdict)}", qualifiers, t.Ratio.Rounds);
            }

            if (Get(r, new CellKey(CellKind.FasterLog, 0, writers)) is { } faster)
            {
                double ours = Med(many, x => x.Latency.P99Us);
                double theirs = Med(faster, x => x.Latency.P99Us);
                yield return new Figure($"p99 commit latency, fsync per commit, {writers} writers", Latency(ours), $"FasterLog {Latency(theirs)} ({r.FasterLogChoice})",
                    $"{Ratio(ours / theirs)}× (medians of the runs' p99)", "–", $"SyncIntervalMs = 0, {writers} writer threads on {r.Machine.Cores} cores (latency includes waiting for a core), {records}", repeats);
            }
        }

        (Interval share, Verdict verdict, _) = SequentialTarget(r);
        yield return new Figure($"WAL sequential write (transactions of {WalSequentialProbe.TransactionSize:N0} inserts, then one fsync)",
            $"{Rate(Spread.Of(r.WalSequential.Select(p => p.Rate)).Median)} MB/s", "the disk's sequential write, the better of its two probes in the same repeat",
            share.Describe(Percent), $"≥ 80 %: {Verdicts.Words(verdict)}",
            "1 writer, SyncIntervalMs = 1000, 64 MiB segments, page cache then fsync", share.Rounds);
    }

    private static string SecondarySqlite(BenchResults r, int writers) =>
        Get(r, new CellKey(CellKind.SqliteConnections, 0, writers)) is { } old
            ? $"; secondary: {writers} connections, one autocommit insert each, {Rate(Med(old, x => x.CommitsPerSecond))}/s"
            : "";

    private static double MedianCommits(BenchResults r, CellKey key) => Get(r, key) is { } runs ? Med(runs, x => x.CommitsPerSecond) : double.NaN;

    private static void Peers(StringBuilder sb, BenchResults r)
    {
        if (!r.Cells.Keys.Any(k => k.IsPeer))
        {
            return;
        }

        Line(sb, "## Peers on the same records");
        Line(sb);
        Line(sb, $"Measured in the same run, interleaved with the OxiVec cells and repeated as often ({r.Options.Repeats}×): every record a peer stores is the " +
            $"{r.Data.PayloadBytes}-byte payload OxiVec logs for the same insert (same writer, same sequence number, encoded by the writer before the commit is timed, " +
            "as OxiVec encodes inside `LogInsert`), with the same writer threads and counts, one record per commit, and the same timing: the peer's commit call, " +
            "into per-writer arrays, nearest-rank percentiles. Each run uses a fresh directory under the bench directory, deleted afterwards.");
        Line(sb);
        Line(sb, $"- **FasterLog** ({FasterLogPeer.Version}; `Devices.CreateLogDevice`, 4 MiB pages, 8 MiB of memory, 1 GiB segments) in its **best documented configuration of this run**: " +
            $"*{r.FasterLogChoice}*, the fastest of the configurations in the sweep below (fast-commit mode with per-entry checksums, which its documentation recommends for commit latency; " +
            "FASTER's plain defaults; segment preallocation; `AutoCommit`; the `LogCommitPolicy.MaxParallel` and `RateLimit` commit policies). *Commit per record*: each writer `Enqueue`s its record, " +
            "then `CommitAsync()` and blocks on it until the commit is persisted (FASTER's suggested enqueue-then-commit pattern; concurrent commits coalesce); with `AutoCommit` it waits in `WaitForCommitAsync()` for FasterLog's own commit instead. " +
            $"*Commit every 1 s*: a background thread calls `Commit()` every second and a writer waits only for `Enqueue` into FasterLog's memory: compared with OxiVec at SyncIntervalMs = {Workload.PeerIntervalMs}, " +
            "but weaker, since a process crash loses what was enqueued since the last commit (OxiVec has already written it to the OS); with many writers some of them " +
            "wait in `Enqueue` for seconds (the *Max* column; `Enqueue` spins with `Thread.Yield` while the in-memory log, 8 MiB by default, waits for its page flushes). *Atomic batches*: one `Enqueue` of " +
            $"{Workload.TransactionBatch} records as an `IReadOnlySpanBatch`, then the commit.");
        Line(sb, "  - **FasterLog's Linux device opens its files with `O_SYNC`.** In FASTER's source (microsoft/FASTER, `cs/src/core/Device/Devices.cs`, `CreateLogDevice`), every platform but Windows gets a " +
            "`ManagedLocalStorageDevice`, whose `CreateWriteHandle` (`cs/src/core/Device/ManagedLocalStorageDevice.cs`) opens each segment as a `FileStream` with `FileOptions.WriteThrough | FileOptions.Asynchronous` " +
            "(plus `FILE_FLAG_NO_BUFFERING` = 0x20000000, which has no Linux counterpart and is dropped, so there is no `O_DIRECT`); .NET maps `WriteThrough` to **`O_SYNC`**. Its `preallocateFile` option is " +
            "`SetFileSize` → `FileStream.SetLength(segmentSize)`, an ftruncate to a sparse file (no blocks allocated). strace of this harness's pattern agrees: FasterLog never calls fsync or fdatasync; " +
            "a commit is durable because every pwrite on an `O_SYNC` file returns only after its data and the file's metadata are on stable storage (on ext4, a journal commit per write, as size and mtime change). " +
            "A durable commit is one `O_SYNC` pwrite of the log's tail sectors, then, off the commit's path in fast-commit mode, a new 512-byte `O_SYNC` commit file (older ones deleted). " +
            "Without fast-commit mode the commit file is written before the commit completes. The log directory is never fsynced.");
        Line(sb, $"- **SQLite** ({SqlitePeer.Version}) in WAL mode: table `records(id INTEGER PRIMARY KEY, payload BLOB)`, one row per record with the id assigned by SQLite (an append, its cheapest insert). " +
            "**Headline rows: application-level group commit**, SQLite's best durable write rate: one writer connection and one committer thread; writers enqueue their records and wait; " +
            "the committer takes everything queued, inserts it in one `BEGIN IMMEDIATE` … `COMMIT` transaction and then acknowledges every writer it covered (so one commit, and with `synchronous=FULL` one fsync, carries all waiting inserts). " +
            $"The batch row is the same with transactions of {Workload.TransactionBatch} inserts (latency: the whole transaction, since SQLite does its work inside it; OxiVec's transaction latency is `Commit()` alone). " +
            "`synchronous=FULL` (compared with SyncIntervalMs = 0): strace shows each commit pwrites its WAL frames and calls **fsync** (not fdatasync) on the -wal file before returning. " +
            $"`synchronous=NORMAL` (compared with SyncIntervalMs = {Workload.PeerIntervalMs}): commits only pwrite; the -wal and database files are fsynced at checkpoints (automatic every 1000 pages) and at close, so a process crash " +
            "loses nothing and a power loss may lose the commits since the last checkpoint. " +
            $"**Secondary row** (*one connection per writer*): the layout earlier reports used, one connection per writer thread, `busy_timeout` {SqlitePeer.BusyTimeoutMs / 1000} s, one autocommit `INSERT` per record; a writer that finds SQLite's single write lock taken " +
            "sleeps in SQLite's busy handler (strace: 1, 2, 5, 10, 15, 20, 25 ms and so on up to 100 ms per retry, no queue), so with several writers the lock is often free while every writer sleeps.");
        FasterLogSweep(sb, r);
        Line(sb);
        Line(sb, "*OxiVec / peer* divides OxiVec's median by the peer's at the compared policy and the same writer count: for commits/s above 1× means OxiVec is faster; " +
            "for p50 and p99 latency below 1× means OxiVec's commits return sooner.");
        Line(sb);
        Line(sb, "| Peer | Compared with OxiVec | Writers | Commits/s | Min–max | p50 | p99 | Max | CPU cores | OxiVec commits/s | OxiVec / peer, commits/s | OxiVec / peer, p50 | OxiVec / peer, p99 | Records per run |");
        Line(sb, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach ((CellKey key, IReadOnlyList<WorkloadRun> runs) in r.Cells.Where(kv => kv.Key.IsPeer && !kv.Key.IsBatch && kv.Value.Count > 0)
            .OrderBy(kv => kv.Key.SyncIntervalMs).ThenBy(kv => kv.Key.Kind).ThenBy(kv => kv.Key.Writers))
        {
            PeerRow(sb, r, key, runs, new CellKey(CellKind.Wal, key.SyncIntervalMs, key.Writers), $"SyncIntervalMs = {key.SyncIntervalMs}");
        }

        Line(sb);
        Line(sb, $"Batches of {Workload.TransactionBatch} records per commit, compared with OxiVec's transaction row (commits are transactions or batches; the ratios use the same medians):");
        Line(sb);
        Line(sb, "| Peer | Compared with OxiVec | Writers | Commits/s | Min–max | p50 | p99 | Max | CPU cores | OxiVec commits/s | OxiVec / peer, commits/s | OxiVec / peer, p50 | OxiVec / peer, p99 | Records per run |");
        Line(sb, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach ((CellKey key, IReadOnlyList<WorkloadRun> runs) in r.Cells.Where(kv => kv.Key.IsPeer && kv.Key.IsBatch && kv.Value.Count > 0).OrderBy(kv => kv.Key.Kind))
        {
            PeerRow(sb, r, key, runs, new CellKey(CellKind.Transaction, key.SyncIntervalMs, key.Writers), $"transactions of {Workload.TransactionBatch}, SyncIntervalMs = {key.SyncIntervalMs}");
        }

        Line(sb);
        Line(sb, "Targets of issue 6:");
        Line(sb);
        foreach (string target in Targets(r))
        {
            Line(sb, "- " + target);
        }

        Line(sb);
    }

    private static void FasterLogSweep(StringBuilder sb, BenchResults r)
    {
        if (r.FasterLogSweep.Count == 0)
        {
            return;
        }

        Line(sb);
        Line(sb, $"FasterLog configurations tried (durable commit per record, {r.FasterLogSweep[0].Writers} writers, interleaved over {r.Options.Repeats} repeat(s) before the main plan); the peer rows below use the best, *{r.FasterLogChoice}*:");
        Line(sb);
        Line(sb, "| Configuration | Commits/s (median) | Min–max | p50 | p99 | CPU cores |");
        Line(sb, "|---|---:|---:|---:|---:|---:|");
        foreach (FasterLogTrial t in r.FasterLogSweep.OrderByDescending(t => t.MedianCommits))
        {
            Spread commits = Spread.Of(t.Runs.Select(x => x.CommitsPerSecond));
            Line(sb, $"| {t.Config.Name} | {Rate(commits.Median)} | {MinMax(commits, "N0")} | {Latency(Med(t.Runs, x => x.Latency.P50Us))} | {Latency(Med(t.Runs, x => x.Latency.P99Us))} | {Cpu(t.Runs)} |");
        }
    }

    private static void PeerRow(StringBuilder sb, BenchResults r, CellKey key, IReadOnlyList<WorkloadRun> runs, CellKey oxivecKey, string compared)
    {
        Spread commits = Spread.Of(runs.Select(x => x.CommitsPerSecond));
        double p50 = Med(runs, x => x.Latency.P50Us);
        double p99 = Med(runs, x => x.Latency.P99Us);
        IReadOnlyList<WorkloadRun>? oxivec = Get(r, oxivecKey);
        double oxCommits = oxivec is null ? double.NaN : Med(oxivec, x => x.CommitsPerSecond);
        double oxP50 = oxivec is null ? double.NaN : Med(oxivec, x => x.Latency.P50Us);
        double oxP99 = oxivec is null ? double.NaN : Med(oxivec, x => x.Latency.P99Us);
        Line(sb, $"| {Workload.PeerName(key)} | {compared} | {key.Writers} | {Rate(commits.Median)} | {MinMax(commits, "N0")} | {Latency(p50)} | {Latency(p99)} | {Latency(Med(runs, x => x.Latency.MaxUs))} | {Cpu(runs)} | " +
            $"{Rate(oxCommits)} | {Times(oxCommits / commits.Median)} | {Times(oxP50 / p50)} | {Times(oxP99 / p99)} | {Med(runs, x => x.Ops):N0} |");
    }

    private static string Times(double ratio) => double.IsNaN(ratio) || double.IsInfinity(ratio) ? "–"
        : ratio < 0.1 ? ratio.ToString("0.00##", Inv) + "×"
        : Ratio(ratio) + "×";

    private static void Machine(StringBuilder sb, BenchResults r)
    {
        MachineInfo m = r.Machine;
        Line(sb, "## Machine");
        Line(sb);
        Line(sb, "| | |");
        Line(sb, "|---|---|");
        Line(sb, $"| Cores | {m.Cores} (Environment.ProcessorCount), {m.CpuModel} |");
        Line(sb, $"| Memory | {m.Memory} |");
        Line(sb, $"| Disk | {m.FileSystem} on {m.Device}, mounted at `{m.MountPoint}` ({m.MountOptions}); {m.DiskSize} |");
        Line(sb, $"| Block device | {m.DeviceQueue} |");
        Line(sb, $"| Bench directory | `{Path.GetDirectoryName(m.WorkDir)}` (a fresh subdirectory per run, deleted afterwards) |");
        Line(sb, $"| .NET | {m.Runtime}; GC {m.Gc} |");
        Line(sb, $"| OS | {m.Os}; {m.Kernel} |");
        Line(sb, $"| Date | {m.Date:yyyy-MM-dd HH:mm:ss} UTC |");
        Line(sb, $"| Other load | {r.OtherLoad} |");
        Line(sb);
    }

    private static void DatasetSection(StringBuilder sb, BenchResults r)
    {
        Dataset d = r.Data;
        Line(sb, "## Dataset");
        Line(sb);
        Line(sb, $"Every commit is one insert (`WalManager.LogInsert`) into collection `{Dataset.Collection}`: a {Dataset.Dimensions}-dimension float32 vector " +
            $"({Dataset.Dimensions * 4} bytes) with {Dataset.MetadataBytes} bytes of JSON-like metadata, under a 14-character id unique per writer " +
            $"(`w07-0000001234`). Vectors and metadata cycle through pools of {Dataset.PoolSize} generated from seed {Dataset.Seed}. " +
            $"One insert is a {d.PayloadBytes}-byte payload, **{d.RecordBytes} bytes in the WAL** (32-byte record header, payload, padding to 8). " +
            $"The operation counts of every cell are in the tables (inserts per run).");
        Line(sb);
    }

    private static void Disk(StringBuilder sb, BenchResults r)
    {
        Line(sb, "## Disk limit (physical baseline, same run, same file system)");
        Line(sb);
        Line(sb, "| Probe | Median | Min–max | Per fdatasync p50 / p99 | What it does |");
        Line(sb, "|---|---:|---:|---:|---|");
        Spread seq = Spread.Of(r.Sequential.Select(p => p.Rate));
        Line(sb, $"| Sequential write | {seq.Median:N0} MB/s | {MinMax(seq, "N0")} | – | {r.Options.SequentialBytes >> 20} MiB in 1 MiB pwrites to a new file, then one fdatasync; time includes the fdatasync |");
        Spread seqSynced = Spread.Of(r.SequentialSynced.Select(p => p.Rate));
        Line(sb, $"| Sequential write, fdatasync every {DiskProbe.WalLikeSyncBytes >> 20} MiB | {seqSynced.Median:N0} MB/s | {MinMax(seqSynced, "N0")} | – | the same, with an fdatasync after every {DiskProbe.WalLikeSyncBytes >> 20} MiB (as the WAL's background fsync with an interval policy) and one at the end |");
        Spread walSeq = Spread.Of(r.WalSequential.Select(p => p.Rate));
        Line(sb, $"| WAL sequential write | {walSeq.Median:N0} MB/s ({walSeq.Median / Math.Max(seq.Median, seqSynced.Median):P0} of the better disk probe) | {MinMax(walSeq, "N0")} | – | the same number of WAL bytes appended as transactions of {WalSequentialProbe.TransactionSize:N0} inserts (SyncIntervalMs = 1000, one writer, a fresh WAL with 64 MiB segments), then `Sync()`; time includes encoding, checksums, rotations and the final fsync |");
        ProbeRow(sb, "fdatasync rate, overwrite", r.FsyncOverwrite,
            $"loop of one 4 KiB pwrite over already written and synced data + fdatasync ({DiskProbe.FsyncFileBytes >> 20} MiB file, sequential offsets): data only, no metadata; the best case");
        ProbeRow(sb, "fdatasync rate, into preallocated space", r.FsyncPreallocated,
            $"the same loop writing the next 4 KiB of a file created with a {DiskProbe.FsyncFileBytes >> 20} MiB `preallocationSize` (exactly as WAL segments are: full length at once, blocks fallocated but unwritten): each fdatasync also commits the unwritten→written extent change");
        ProbeRow(sb, "fdatasync rate, extending a file", r.FsyncExtend,
            "the same loop appending 4 KiB at the end of a file without preallocation: each fdatasync also commits the new size and block allocation");
        Line(sb);
        Line(sb, "MB = 10^6 bytes. A commit that waits for its own fsync cannot beat the fdatasync rate; only group commit (several commits per fsync) can.");
        Line(sb);
    }

    private static void ProbeRow(StringBuilder sb, string name, IReadOnlyList<ProbeRun> runs, string what)
    {
        Spread rate = Spread.Of(runs.Select(p => p.Rate));
        Spread p50 = Spread.Of(runs.Select(p => p.Latency?.P50Us ?? double.NaN));
        Spread p99 = Spread.Of(runs.Select(p => p.Latency?.P99Us ?? double.NaN));
        Line(sb, $"| {name} | {Rate(rate.Median)} /s | {MinMax(rate, "N0")} | {Latency(p50.Median)} / {Latency(p99.Median)} | {what} |");
    }

    private static void Wal(StringBuilder sb, BenchResults r)
    {
        HarnessOptions o = r.Options;
        Line(sb, "## WAL append throughput and commit latency");
        Line(sb);
        Line(sb, "### No-WAL baseline");
        Line(sb);
        Line(sb, "The same writer loop without a WAL: per insert, copy the vector and metadata into the writer's preallocated ring of " +
            $"{InMemoryStore.SlotsPerWriter} slots and upsert id → slot in one shared `ConcurrentDictionary<string,int>` (removing the id the slot held before, " +
            "so the map stays at writers × 4096 entries). The id string is built in both loops. Latency is the time of that in-memory insert.");
        Line(sb);
        Line(sb, "| Writers | Inserts/s | Min–max | p50 | p99 | CPU cores | Inserts per run |");
        Line(sb, "|---:|---:|---:|---:|---:|---:|---:|");
        foreach (int w in o.WriterCounts)
        {
            if (Get(r, new CellKey(CellKind.Baseline, 0, w)) is not { } runs)
            {
                continue;
            }

            Spread ops = Spread.Of(runs.Select(x => x.OpsPerSecond));
            Line(sb, $"| {w} | {Rate(ops.Median)} | {MinMax(ops, "N0")} | {Latency(Spread.Of(runs.Select(x => x.Latency.P50Us)).Median)} | " +
                $"{Latency(Spread.Of(runs.Select(x => x.Latency.P99Us)).Median)} | {Cpu(runs)} | {Spread.Of(runs.Select(x => (double)x.Ops)).Median:N0} |");
        }

        Line(sb);
        Line(sb, "### WAL, one insert per commit: throughput");
        Line(sb);
        Line(sb, "*% of baseline* compares commits/s with the no-WAL baseline at the same writer count. *WAL MB/s* is `GetMetrics().BytesWritten` over the run. " +
            "*fsyncs/s* and *commits per fsync* come from `GetMetrics().SyncCount`; they include the fsync that seals each full 64 MiB segment " +
            "(with a positive SyncIntervalMs most of them are seals).");
        Line(sb);
        Line(sb, "| Profile | SyncIntervalMs | Writers | Commits/s | Min–max | % of baseline | WAL MB/s | fsyncs/s | Commits per fsync | Inserts per run |");
        Line(sb, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach ((int sync, int w, IReadOnlyList<WorkloadRun> runs) in WalCells(r))
        {
            Spread commits = Spread.Of(runs.Select(x => x.CommitsPerSecond));
            Line(sb, $"| {Workload.ProfileName(sync)} | {sync} | {w} | {Rate(commits.Median)} | {MinMax(commits, "N0")} | {Percent(commits.Median / BaselineOps(r, w))} | " +
                $"{Med(runs, x => x.WalMBPerSecond):F1} | {Rate(Med(runs, x => x.SyncsPerSecond))} | {Ratio(Med(runs, x => x.CommitsPerSync))} | {Med(runs, x => x.Ops):N0} |");
        }

        Line(sb);
        Line(sb, "### WAL, one insert per commit: latency and cost");
        Line(sb);
        Line(sb, "Commit latency is the time of one `LogInsert` call: append, then wait as the policy says (SyncIntervalMs = 0: until an fsync covers it; " +
            "otherwise until the bytes are written to the OS). *Stalled* is the share of the writers' time spent in commits of " +
            $"{LatencySummary.SlowThresholdMs:0} ms or more. *WAL fsync avg* is the WAL's own `LifetimeAvgSyncLatencyMs`. *CPU* is process CPU time (all threads) " +
            $"over wall time, out of {r.Machine.Cores} cores, and per commit. *Context switches* are the process's (getrusage) per commit: voluntary " +
            "(a thread blocked) / involuntary (a runnable thread was preempted or yielded; spin-waiting shows here).");
        Line(sb);
        Line(sb, "| Profile | SyncIntervalMs | Writers | p50 | p99 | Max | Stalled | WAL fsync avg | CPU cores | CPU per commit | Context switches per commit |");
        Line(sb, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach ((int sync, int w, IReadOnlyList<WorkloadRun> runs) in WalCells(r))
        {
            Line(sb, $"| {Workload.ProfileName(sync)} | {sync} | {w} | {Latency(Med(runs, x => x.Latency.P50Us))} | {Latency(Med(runs, x => x.Latency.P99Us))} | " +
                $"{Latency(Med(runs, x => x.Latency.MaxUs))} | {Percent(Med(runs, x => x.StalledShare))} | {Ms(Med(runs, x => x.WalAvgSyncMs))} | {Cpu(runs)} | " +
                $"{Latency(Med(runs, x => x.CpuCores * x.Seconds / x.Commits * 1e6))} | {Switches(runs)} |");
        }

        Line(sb);
        GroupCommitNotes(sb, r);
        GroupCommitGoal.Section(sb, r);
    }

    private static void GroupCommitNotes(StringBuilder sb, BenchResults r)
    {
        HarnessOptions o = r.Options;
        double fsync = Spread.Of(r.FsyncOverwrite.Select(p => p.Rate)).Median;
        double fsyncPrealloc = Spread.Of(r.FsyncPreallocated.Select(p => p.Rate)).Median;
        if (Get(r, new CellKey(CellKind.Wal, 0, o.WriterCounts[0])) is not { } one)
        {
            return;
        }

        double c1 = Spread.Of(one.Select(x => x.CommitsPerSecond)).Median;
        var parts = new List<string>
        {
            $"With SyncIntervalMs = 0 and {o.WriterCounts[0]} writer the WAL commits {Rate(c1)}/s: {Percent(c1 / fsync)} of the disk's overwrite fdatasync rate " +
            $"and {Percent(c1 / fsyncPrealloc)} of its rate when every fdatasync also starts a new 4 KiB block of preallocated space " +
            $"(a {r.Data.RecordBytes}-byte record starts a new block only about every {4096.0 / r.Data.RecordBytes:0.#} commits).",
        };
        foreach (int w in o.WriterCounts.Skip(1))
        {
            if (Get(r, new CellKey(CellKind.Wal, 0, w)) is { } runs)
            {
                double c = Spread.Of(runs.Select(x => x.CommitsPerSecond)).Median;
                double per = Spread.Of(runs.Select(x => x.CommitsPerSync)).Median;
                parts.Add($"At {w} writers: {Rate(c)}/s ({Ratio(c / c1)}× one writer) with {Ratio(per)} commits per fsync.");
            }
        }

        Line(sb, string.Join(' ', parts));
        Line(sb);

        // Positive intervals: do the worst commits line up with the WAL's fsyncs (interval flush, segment seal)?
        var interval = r.Cells.Where(kv => kv.Key.Kind == CellKind.Wal && kv.Key.SyncIntervalMs > 0 && kv.Value.Count > 0).ToList();
        double[] maxMs = [.. interval.Select(kv => Med(kv.Value, x => x.Latency.MaxUs) / 1000)];
        double[] stalled = [.. interval.Select(kv => Med(kv.Value, x => x.StalledShare))];
        double[] syncMs = [.. interval.Select(kv => Med(kv.Value, x => x.WalAvgSyncMs)).Where(v => !double.IsNaN(v))];
        if (maxMs.Length > 0 && syncMs.Length > 0)
        {
            Line(sb, $"With a positive SyncIntervalMs the median commit is a write into the page cache; the writers spend {Percent(stalled.Min())}–{Percent(stalled.Max())} " +
                $"of their time in commits of {LatencySummary.SlowThresholdMs:0} ms or more, and the longest commits take {maxMs.Min():F0}–{maxMs.Max():F0} ms, against the WAL's own " +
                $"fsyncs of {syncMs.Min():F0}–{syncMs.Max():F0} ms on average (interval flushes, background fsyncs every 8 MiB, segment seals). Only a segment seal (fsync of the sealed segment's unsynced tail, then the next segment's creation) holds up writes; " +
                "interval and background fsyncs run beside them. With more writer threads than cores, the longest commits also include waiting for a core.");
            Line(sb);
        }
    }

    private static void Transactions(StringBuilder sb, BenchResults r)
    {
        Line(sb, "## Transaction batches");
        Line(sb);
        Line(sb, $"`BeginTransaction()`, {Workload.TransactionBatch} × `LogInsert`, `Commit()` in a loop (one begin and one commit record around the inserts, one write, one fsync). " +
            "Latency is the time of the `Commit()` call. *× single inserts* compares inserts/s with one `LogInsert` per commit at the same policy and writer count.");
        Line(sb);
        Line(sb, "| SyncIntervalMs | Writers | Inserts/s | Min–max | Transactions/s | % of baseline | × single inserts | WAL MB/s | p50 commit | p99 commit | fsyncs/s | Inserts per fsync | CPU cores | Inserts per run |");
        Line(sb, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach ((CellKey key, IReadOnlyList<WorkloadRun> runs) in r.Cells.Where(kv => kv.Key.Kind == CellKind.Transaction).OrderBy(kv => kv.Key.Writers))
        {
            Spread ops = Spread.Of(runs.Select(x => x.OpsPerSecond));
            double single = Get(r, new CellKey(CellKind.Wal, key.SyncIntervalMs, key.Writers)) is { } s ? Spread.Of(s.Select(x => x.OpsPerSecond)).Median : double.NaN;
            Line(sb, $"| {key.SyncIntervalMs} | {key.Writers} | {Rate(ops.Median)} | {MinMax(ops, "N0")} | {Rate(Spread.Of(runs.Select(x => x.CommitsPerSecond)).Median)} | " +
                $"{Percent(ops.Median / BaselineOps(r, key.Writers))} | {Ratio(ops.Median / single)} | {Spread.Of(runs.Select(x => x.WalMBPerSecond)).Median:F1} | " +
                $"{Latency(Spread.Of(runs.Select(x => x.Latency.P50Us)).Median)} | {Latency(Spread.Of(runs.Select(x => x.Latency.P99Us)).Median)} | " +
                $"{Rate(Spread.Of(runs.Select(x => x.SyncsPerSecond)).Median)} | {Ratio(Spread.Of(runs.Select(x => x.Ops / (double)Math.Max(1, x.Syncs))).Median)} | " +
                $"{Cpu(runs)} | {Spread.Of(runs.Select(x => (double)x.Ops)).Median:N0} |");
        }

        Line(sb);
    }

    private static void Charts(StringBuilder sb)
    {
        Line(sb, "## Charts");
        Line(sb);
        Line(sb, "![Commits per second against writers, per sync policy](wal-commits.png)");
        Line(sb);
        Line(sb, "![p50 and p99 commit latency per sync policy and writer count](wal-latency.png)");
        Line(sb);
        Line(sb, "![Commits per second against writers: OxiVec, FasterLog and SQLite on the same records](wal-peers.png)");
        Line(sb);
    }

    private static void Method(StringBuilder sb, BenchResults r)
    {
        HarnessOptions o = r.Options;
        Line(sb, "## Method");
        Line(sb);
        Line(sb, "- Each run opens a **fresh WAL directory** under the bench directory with the guide's profile for its sync interval " +
            "(`WalConfig.MaximumDurability` 0 ms, `Balanced` 100 ms, `HighThroughput` 1000 ms, `Development` 10000 ms; 64 MiB preallocated segments), " +
            "runs, disposes the WAL (its final fsync is not timed) and deletes the directory.");
        Line(sb, $"- Writers are dedicated threads started together; each loops until {o.RunDuration.TotalSeconds:0.#} s have passed or the writers together " +
            $"did {o.MaxOpsPerRun:N0} inserts. Throughput is inserts (or commits) over the time from the start signal to the last acknowledgement.");
        Line(sb, "- Every commit is timed with two `Stopwatch.GetTimestamp()` calls into the writer's own array; the arrays are merged and sorted, " +
            "percentiles are nearest-rank. With more writers than cores, latency includes waiting for a core.");
        Line(sb, "- WAL MB/s, fsyncs and commits per fsync are deltas of `WalManager.GetMetrics()` (`BytesWritten`, `SyncCount`) over the run.");
        Line(sb, $"- Repeats are interleaved (all cells, then all cells again); within a repeat each OxiVec cell is followed directly by the peer cells it is compared with, so a target's two sides run back to back and its verdict pairs them repeat by repeat: " +
            $"a target is *met* only when the 95 % bootstrap interval of the per-repeat ratios ({Bootstrap.Resamples:N0} resamples, fixed seed) lies entirely on its side, *not met* when entirely on the other, *inconclusive* otherwise (always with a single repeat). Before measuring, each code path runs once briefly (JIT warm-up), discarded.");
        Line(sb, "- Peers (FasterLog, SQLite) run through the same writer loop and timing code as the WAL cells, on the same records; their cells are part of the interleaved plan. " +
            "They report no WAL bytes or fsync counts (the harness counts only OxiVec's).");
        Line(sb, "- With a positive SyncIntervalMs a commit is acknowledged once written to the OS; a background flusher fsyncs every interval. " +
            $"Runs of {o.RunDuration.TotalSeconds:0.#} s see at most a few interval fsyncs (none at 10000 ms): those rows show the cost of the write path, " +
            "plus the fsync that seals each full segment.");
        Line(sb);
    }

    private static IEnumerable<(int Sync, int Writers, IReadOnlyList<WorkloadRun> Runs)> WalCells(BenchResults r)
    {
        foreach (int sync in r.Options.SyncIntervals)
        {
            foreach (int w in r.Options.WriterCounts)
            {
                if (Get(r, new CellKey(CellKind.Wal, sync, w)) is { } runs)
                {
                    yield return (sync, w, runs);
                }
            }
        }
    }

    private static double Med(IReadOnlyList<WorkloadRun> runs, Func<WorkloadRun, double> pick) => Spread.Of(runs.Select(pick)).Median;

    private static string Switches(IReadOnlyList<WorkloadRun> runs)
    {
        double voluntary = Med(runs, x => x.VoluntarySwitches / x.Commits);
        double involuntary = Med(runs, x => x.InvoluntarySwitches / x.Commits);
        return double.IsNaN(voluntary) ? "–" : $"{voluntary:0.00} / {involuntary:0.00}";
    }

    private static IReadOnlyList<WorkloadRun>? Get(BenchResults r, CellKey key) =>
        r.Cells.TryGetValue(key, out IReadOnlyList<WorkloadRun>? runs) && runs.Count > 0 ? runs : null;

    private static double BaselineOps(BenchResults r, int writers) =>
        Get(r, new CellKey(CellKind.Baseline, 0, writers)) is { } runs ? Spread.Of(runs.Select(x => x.OpsPerSecond)).Median : double.NaN;

    private static string Cpu(IReadOnlyList<WorkloadRun> runs) => Spread.Of(runs.Select(x => x.CpuCores)).Median.ToString("0.00", Inv);

    internal static string Rate(double v) => double.IsNaN(v) ? "–" : v >= 100 ? v.ToString("N0", Inv) : v.ToString("N1", Inv);

    private static string Ratio(double v) => double.IsNaN(v) || double.IsInfinity(v) ? "–" : v >= 100 ? v.ToString("N0", Inv) : v.ToString("0.0#", Inv);

    private static string Percent(double v) => double.IsNaN(v) || double.IsInfinity(v) ? "–"
        : v == 0 ? "0 %"
        : v >= 0.1 ? (v * 100).ToString("N0", Inv) + " %" : v >= 0.001 ? (v * 100).ToString("0.0#", Inv) + " %" : (v * 100).ToString("0.000#", Inv) + " %";

    private static string MinMax(Spread s, string format) =>
        double.IsNaN(s.Min) ? "–" : s.Min == s.Max ? "(1 run)" : $"{s.Min.ToString(format, Inv)}–{s.Max.ToString(format, Inv)}";

    private static string Ms(double ms) => double.IsNaN(ms) ? "–" : Latency(ms * 1000);

    /// <summary>Microseconds, shown in µs or ms with three significant figures or so.</summary>
    internal static string Latency(double us) => double.IsNaN(us) ? "–"
        : us < 1 ? us.ToString("0.00", Inv) + " µs"
        : us < 100 ? us.ToString("0.0", Inv) + " µs"
        : us < 1000 ? us.ToString("0", Inv) + " µs"
        : us < 10_000 ? (us / 1000).ToString("0.00", Inv) + " ms"
        : us < 100_000 ? (us / 1000).ToString("0.0", Inv) + " ms"
        : (us / 1000).ToString("N0", Inv) + " ms";

    private static void Line(StringBuilder sb, string text = "") => sb.Append(text).Append('\n');
}

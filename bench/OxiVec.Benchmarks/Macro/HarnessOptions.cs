using System.Globalization;

namespace OxiVec.Benchmarks.Macro;

/// <summary>Command line of the macro harness, and the run plan (durations, repeats, cells) it implies.</summary>
internal sealed record HarnessOptions
{
    public const string Usage =
        """
        OxiVec WAL macro benchmark.

        dotnet run -c Release --project bench/OxiVec.Benchmarks -- [--quick] [--out DIR] [--dir DIR]
        dotnet run -c Release --project bench/OxiVec.Benchmarks -- wal --group-commit [--fsync-overlap] [--repeats N] [--quick]
        dotnet run -c Release --project bench/OxiVec.Benchmarks -- micro [BenchmarkDotNet arguments]

          --quick      short run (about 30 s of measurement, 1 repeat); default output is a new temp directory
          --out DIR    where wal.md, wal-commits.png, wal-latency.png and wal-peers.png go
                       (default: bench/results under the repository root, found by walking up to OxiVec.slnx)
          --dir DIR    parent directory for the temporary WAL directories and disk-probe files (default: the
                       system temp directory); the disk measured is the disk of this directory
          --group-commit  only issue 12's goal 2 (SyncIntervalMs = 0: 1 writer, 32 threads, 32 async tasks),
                       interleaved, no disk probes or peers; writes wal-group-commit.md (default output: a new
                       temp directory); for A/B runs of group commit changes
          --fsync-overlap  with --group-commit: each round also probes 1, 2 and 3 fdatasyncs in flight on a
                       sequential log (do overlapping fsyncs complete more per second on this disk?)
          --repeats N  repeats of every cell (default: 1 with --quick, else 5)
          --allow-dirty  measure a working tree with uncommitted changes (the report then says "dirty tree")
          -h, --help   this text
        """;

    public bool Quick { get; init; }

    public string? OutDir { get; init; }

    public string? WorkDir { get; init; }

    public bool ShowHelp { get; init; }

    /// <summary>Measure only the group-commit goal's cells (<c>--group-commit</c>).</summary>
    public bool GroupCommitOnly { get; init; }

    /// <summary>With <see cref="GroupCommitOnly"/>: each round also runs the overlapping-fsync probe (<see cref="FsyncOverlapProbe"/>).</summary>
    public bool FsyncOverlap { get; init; }

    /// <summary>Repeats given with <c>--repeats</c> (null: the mode's default).</summary>
    public int? RepeatsOverride { get; init; }

    /// <summary>The commit and tree state measured (checked by <see cref="Parse"/>).</summary>
    public Trust.CodeState Code { get; init; } = new(null, null, "not detected");

    /// <summary>The arguments as given, to print the command that produced the report.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Sync policies measured: the guide's profiles.</summary>
    public IReadOnlyList<int> SyncIntervals { get; } = [0, 100, 1_000, 10_000];

    /// <summary>Concurrent writer threads per cell.</summary>
    public IReadOnlyList<int> WriterCounts { get; } = [1, 8, 32];

    /// <summary>Writer counts of the peers (FasterLog, SQLite): the same as OxiVec's.</summary>
    public IReadOnlyList<int> PeerWriterCounts => WriterCounts;

    /// <summary>Repeats of every cell, OxiVec's and the peers' (medians and min/max are over these).</summary>
    public int Repeats => RepeatsOverride ?? (Quick ? 1 : 5);

    /// <summary>
    /// How long one WAL, baseline or peer run measures (it stops earlier at <see cref="MaxOpsPerRun"/>); with 5
    /// repeats of 30 cells the full run stays under 10 minutes.
    /// </summary>
    public TimeSpan RunDuration => Quick ? TimeSpan.FromMilliseconds(800) : TimeSpan.FromSeconds(2);

    /// <summary>Cap on the operations of one run, so that the fast cells (the baseline) bound their latency arrays.</summary>
    public long MaxOpsPerRun => Quick ? 2_000_000 : 5_000_000;

    /// <summary>Bytes written by one sequential-bandwidth probe run.</summary>
    public long SequentialBytes => Quick ? 128L << 20 : 1L << 30;

    /// <summary>How long one fsync-rate probe run lasts.</summary>
    public TimeSpan FsyncProbeDuration => Quick ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromSeconds(2);

    public static HarnessOptions Parse(IReadOnlyList<string> args)
    {
        bool quick = false, help = false, allowDirty = false, groupCommit = false, fsyncOverlap = false;
        int? repeats = null;
        string? outDir = null, workDir = null;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "--quick":
                    quick = true;
                    break;
                case "--out":
                    outDir = Value(args, ref i, a);
                    break;
                case "--dir":
                    workDir = Value(args, ref i, a);
                    break;
                case "--group-commit":
                    groupCommit = true;
                    break;
                case "--fsync-overlap":
                    fsyncOverlap = true;
                    break;
                case "--repeats":
                    string count = Value(args, ref i, a);
                    repeats = int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 100
                        ? n
                        : throw new ArgumentException($"--repeats needs a whole number from 1 to 100, not '{count}'");
                    break;
                case "--allow-dirty":
                    allowDirty = true;
                    break;
                case "-h" or "--help":
                    help = true;
                    break;
                default:
                    throw new ArgumentException(string.Create(
                        CultureInfo.InvariantCulture, $"unknown argument '{a}' (try --help)"));
            }
        }

        Trust.CodeState code = new(null, null, "not detected");
        if (!help)
        {
            code = Store.BenchCommon.DetectCodeState();
            code.EnsureMeasurable(allowDirty);
        }

        return new HarnessOptions
        {
            Quick = quick, OutDir = outDir, WorkDir = workDir, ShowHelp = help, GroupCommitOnly = groupCommit, FsyncOverlap = fsyncOverlap, RepeatsOverride = repeats,
            Arguments = [.. args], Code = code,
        };
    }

    /// <summary>The command line that reproduces this run, as a reader would type it from the repository root.</summary>
    public string CommandLine()
    {
        const string command = "dotnet run -c Release --project bench/OxiVec.Benchmarks";
        return Arguments.Count == 0 ? command : command + " -- " + string.Join(' ', Arguments.Select(Quote));
    }

    private static string Quote(string s) => s.Length > 0 && !s.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? s : "'" + s + "'";

    private static string Value(IReadOnlyList<string> args, ref int i, string name)
    {
        if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"{name} needs a value");
        }

        i++;
        return args[i];
    }
}

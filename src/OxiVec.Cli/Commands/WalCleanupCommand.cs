using System.CommandLine;
using System.Globalization;
using OxiVec.Cli.Output;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec wal cleanup --wal DIR --older-than-days N (--data DIR | --retain-from-lsn L) [--json]</c>: deletes old WAL
/// segments that recovery no longer needs. With <c>--data</c>, what the database's retained checkpoints need is kept
/// (<see cref="DatabaseMaintenance.CleanupOldWalFiles"/>); with <c>--retain-from-lsn</c>, every segment holding a
/// record at or after L is kept (<see cref="WalCleaner.CleanupOldFiles"/>). Without either it refuses: it cannot know
/// what recovery needs. It takes the WAL's lock, so it refuses a WAL that is open.
/// </summary>
internal static class WalCleanupCommand
{
    public static Command Create()
    {
        Option<string> walOption = WalCommand.WalDirOption();
        Option<int> daysOption = new("--older-than-days")
        {
            Description = "Only segments last written more than N days ago may go (0: any age).",
            Required = true,
            HelpName = "N",
        };
        Option<string?> dataOption = new("--data")
        {
            Description = "The database's data directory: segments its retained checkpoints still need (records after the oldest one's covered LSN) are kept. Without a checkpoint nothing is deleted.",
            HelpName = "DIR",
        };
        Option<long?> retainOption = new("--retain-from-lsn")
        {
            Description = "For a WAL without a database: keep every segment holding a record at or after LSN L (the first LSN recovery still replays).",
            HelpName = "L",
        };
        Option<bool> jsonOption = WalCommand.JsonOption(
            "Print one JSON object: {\"wal_directory\", \"older_than_days\", \"retain_from_lsn\", \"deleted\", \"deleted_files\": [...], \"remaining_segments\", \"first_lsn\"}.");
        var command = new Command(
            "cleanup",
            "Delete old WAL segments recovery no longer needs: give --data (keeps what the retained checkpoints need) or --retain-from-lsn. " +
            "It takes the WAL's lock: a WAL in use is refused (exit code 1).")
        {
            walOption, daysOption, dataOption, retainOption, jsonOption,
        };
        command.SetAction(parse => Run(
            parse.GetValue(walOption)!, parse.GetValue(daysOption), parse.GetValue(dataOption), parse.GetValue(retainOption), parse.GetValue(jsonOption)));
        return command;
    }

    private static int Run(string walDir, int days, string? data, long? retainFromLsn, bool json)
    {
        if (days < 0)
        {
            return Cli.Fail(ExitCodes.Usage, "--older-than-days must be 0 or more.");
        }

        if (data is null && retainFromLsn is null)
        {
            return Cli.Fail(
                ExitCodes.Usage,
                "without --data or --retain-from-lsn, wal cleanup cannot know which segments recovery still needs, so it deletes nothing. " +
                "Pass --data DIR (the database's data directory: what its checkpoints need is kept) or --retain-from-lsn L (every record from LSN L on is kept).");
        }

        if (data is not null && retainFromLsn is not null)
        {
            return Cli.Fail(ExitCodes.Usage, "give --data or --retain-from-lsn, not both: with --data the database's checkpoints say what is kept.");
        }

        if (retainFromLsn is < 1)
        {
            return Cli.Fail(ExitCodes.Usage, "--retain-from-lsn must be 1 or more.");
        }

        if (Cli.CheckWalDirectory(walDir) is { } error)
        {
            return Cli.Fail(ExitCodes.Usage, error);
        }

        if (data is not null && !Directory.Exists(data))
        {
            return Cli.Fail(ExitCodes.Usage, $"data directory '{data}' does not exist.");
        }

        long retainFrom = retainFromLsn ?? RetainFrom(data!);
        string[] before = SegmentFiles(walDir);
        int deleted = data is not null
            ? DatabaseMaintenance.CleanupOldWalFiles(data, days, walDir)
            : new WalCleaner(walDir).CleanupOldFiles(days, retainFrom);
        string[] after = SegmentFiles(walDir);
        string[] gone = [.. before.Except(after, StringComparer.Ordinal)];
        long firstLsn = after.Length == 0 ? 0 : FirstLsn(after[0]);
        string reason = data is not null && retainFrom == 1
            ? $"'{data}' has no checkpoint, so recovery needs the whole WAL"
            : $"records from LSN {StoreOptions.Num(retainFrom)} on are kept{(data is null ? "" : " (what the oldest retained checkpoint needs)")}";

        if (json)
        {
            using var stdout = new StdOut();
            using var lines = new JsonLines(stdout.Stream);
            lines.WriteObject(o =>
            {
                o.WriteString("wal_directory", Path.GetFullPath(walDir));
                o.WriteNumber("older_than_days", days);
                o.WriteNumber("retain_from_lsn", retainFrom);
                o.WriteNumber("deleted", deleted);
                o.WriteStartArray("deleted_files");
                foreach (string file in gone)
                {
                    o.WriteStringValue(file);
                }

                o.WriteEndArray();
                o.WriteNumber("remaining_segments", after.Length);
                o.WriteNumber("first_lsn", firstLsn);
            });
        }
        else
        {
            Figures.Write(
                $"WAL cleanup of {Path.GetFullPath(walDir)}",
                [
                    ("deleted", deleted == 0 ? "nothing" : $"{deleted} segment{(deleted == 1 ? "" : "s")}: {string.Join(", ", gone)}"),
                    ("kept", $"{after.Length} segment{(after.Length == 1 ? "" : "s")}, from LSN {StoreOptions.Num(firstLsn)}"),
                    ("rule", $"{reason}; {(days == 0 ? "segments of any age" : $"only segments last written over {days} day{(days == 1 ? "" : "s")} ago")} may go, never the newest"),
                ]);
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// The first LSN the database's retained checkpoints need (the oldest one's covered LSN + 1; 1 without one), from
    /// the checkpoint directory names <c>{sequence:x16}-{covered LSN:x16}</c> (for the report; the engine decides).
    /// </summary>
    private static long RetainFrom(string data)
    {
        string root = Path.Combine(data, "checkpoints");
        if (!Directory.Exists(root))
        {
            return 1;
        }

        long? oldest = null;
        foreach (string dir in Directory.GetDirectories(root))
        {
            string name = Path.GetFileName(dir);
            if (name.Length == 33 && name[16] == '-'
                && long.TryParse(name.AsSpan(17), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long covered))
            {
                oldest = Math.Min(oldest ?? long.MaxValue, covered);
            }
        }

        return oldest is { } lsn ? lsn + 1 : 1;
    }

    /// <summary>The segment files (plain and compressed), in log order.</summary>
    private static string[] SegmentFiles(string walDir) =>
    [
        .. Directory.EnumerateFiles(walDir)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => name.Length == 37 || name.Length == 38)
            .Where(name => name.EndsWith(".wal", StringComparison.Ordinal) || name.EndsWith(".walz", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>The first LSN of a segment, from its name <c>{segment id:x16}-{first LSN:x16}.wal[z]</c>.</summary>
    private static long FirstLsn(string segment) =>
        long.TryParse(segment.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long lsn) ? lsn : 0;
}

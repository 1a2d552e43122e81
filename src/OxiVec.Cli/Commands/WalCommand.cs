using System.CommandLine;

namespace OxiVec.Cli.Commands;

/// <summary><c>oxivec wal</c>: the group of commands that work on a WAL directory.</summary>
internal static class WalCommand
{
    public static Command Create()
    {
        var wal = new Command(
            "wal",
            "Work on a write-ahead log directory: 'dump' and 'verify' read it without changing it (no lock: they work on a live or crashed WAL); 'cleanup' deletes old segments recovery no longer needs.");
        wal.Subcommands.Add(WalDumpCommand.Create());
        wal.Subcommands.Add(WalVerifyCommand.Create());
        wal.Subcommands.Add(WalCleanupCommand.Create());
        return wal;
    }

    /// <summary>The <c>--wal DIR</c> option every <c>wal</c> command takes.</summary>
    public static Option<string> WalDirOption() => new("--wal")
    {
        Description = "The WAL directory (the one holding the *.wal segment files).",
        Required = true,
        HelpName = "DIR",
    };

    /// <summary>The <c>--json</c> switch.</summary>
    public static Option<bool> JsonOption(string description) => new("--json") { Description = description };
}

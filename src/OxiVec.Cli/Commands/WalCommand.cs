using System.CommandLine;

namespace OxiVec.Cli.Commands;

/// <summary><c>oxivec wal</c>: the group of commands that read a WAL directory.</summary>
internal static class WalCommand
{
    public static Command Create()
    {
        var wal = new Command("wal", "Inspect a write-ahead log directory without changing it (no lock is taken: works on a live or crashed WAL).");
        wal.Subcommands.Add(WalDumpCommand.Create());
        wal.Subcommands.Add(WalVerifyCommand.Create());
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

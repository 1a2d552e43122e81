using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using OxiVec.Cli.Commands;
using OxiVec.Wal;

namespace OxiVec.Cli;

/// <summary>Builds the <c>oxivec</c> command tree and runs it, mapping failures to <see cref="ExitCodes"/>.</summary>
internal static class OxiVecCli
{
    public const string Name = "oxivec";

    /// <summary>
    /// The root command. A plain <see cref="Command"/> named <c>oxivec</c> (a <see cref="RootCommand"/> would take the
    /// executable's name, <c>OxiVec.Cli</c>, for its help), with the help and version options a root command has.
    /// </summary>
    public static Command BuildRootCommand()
    {
        var root = new Command(
            Name,
            "OxiVec: load, import, search and export vectors; recover, checkpoint and health-check databases; inspect, verify and clean write-ahead logs; watch crash recovery at work." + Environment.NewLine +
            "Exit codes: 0 ok; 1 usage error or bad input; 2 corruption or data error; 3 internal error; 130 interrupted (health: 0 healthy, 1 warning, 2 critical).")
        {
            new HelpOption(),
            new VersionOption(),
        };
        root.Subcommands.Add(LoadCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(SearchCommand.Create());
        root.Subcommands.Add(StatsCommand.Create());
        root.Subcommands.Add(HealthCommand.Create());
        root.Subcommands.Add(CheckpointCommand.Create());
        root.Subcommands.Add(RecoverCommand.Create());
        root.Subcommands.Add(WalCommand.Create());
        root.Subcommands.Add(TxCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ClusterCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        return root;
    }

    /// <summary>Runs the <c>oxivec</c> command line <paramref name="args"/> and returns its exit code.</summary>
    public static Task<int> RunAsync(string[] args) => RunAsync(BuildRootCommand(), args);

    /// <summary>
    /// Parses <paramref name="args"/> against <paramref name="root"/> and runs the chosen action, with the exit codes,
    /// error lines and Ctrl+C / SIGTERM handling of <c>oxivec</c> (the crash tests' worker program runs its commands
    /// through here too, so that it behaves as they did when they were hidden commands of this CLI).
    /// </summary>
    public static async Task<int> RunAsync(Command root, string[] args)
    {
        ParseResult parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            string errors = string.Join(' ', parse.Errors.Select(e => e.Message).Distinct());
            return Cli.Fail(ExitCodes.Usage, $"{errors} Run '{CommandPath(parse)} --help' for usage.");
        }

        try
        {
            // With a configuration of our own, System.CommandLine handles Ctrl+C and SIGTERM only when given a
            // termination timeout: it then cancels the action's token and waits this long for the action to end.
            // `serve` leaves the signals to the .NET host, whose stop (drain requests, checkpoint, close) may take
            // longer than any fixed timeout: System.CommandLine would end the process half-way with exit code 143.
            var configuration = new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = parse.CommandResult.Command.Name == ServeCommand.Name ? null : TimeSpan.FromSeconds(10),
            };
            return await parse.InvokeAsync(configuration).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return Report(ex);
        }
    }

    /// <summary>The exit code <see cref="Report"/> gives <paramref name="ex"/>.</summary>
    public static int ExitCodeOf(Exception ex) => ex switch
    {
        CliException e => e.ExitCode,
        WalCorruptionException or InvalidDataException => ExitCodes.DataError,
        WalLockedException or DirectoryNotFoundException or FileNotFoundException or UnauthorizedAccessException => ExitCodes.Usage,
        OperationCanceledException => ExitCodes.Interrupted,
        _ => ExitCodes.InternalError,
    };

    /// <summary>Writes one line about <paramref name="ex"/> to stderr and returns its exit code.</summary>
    public static int Report(Exception ex) => ex switch
    {
        CliException e => Cli.Fail(e.ExitCode, e.Message),
        WalCorruptionException c => Cli.Fail(
            ExitCodes.DataError,
            $"{c.Message}. The WAL is damaged; run '{Name} wal verify --wal <dir>' for the full report and restore the damaged segment from a backup or replica."),
        WalLockedException l => Cli.Fail(ExitCodes.Usage, $"{l.Message} Stop the process that has it open, or work on a copy."),
        InvalidDataException d => Cli.Fail(
            ExitCodes.DataError,
            $"{d.Message.TrimEnd('.')}. The database's WAL holds a record that cannot be applied; run '{Name} wal verify --wal <dir>' and restore from a backup or replica."),
        DirectoryNotFoundException or FileNotFoundException or UnauthorizedAccessException => Cli.Fail(ExitCodes.Usage, ex.Message),
        OperationCanceledException => Cli.Fail(ExitCodes.Interrupted, "interrupted."),
        _ => Cli.Fail(ExitCodes.InternalError, $"internal error ({ex.GetType().Name}): {ex.Message}"),
    };

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (SymbolResult? result = parse.CommandResult; result is CommandResult command; result = command.Parent)
        {
            names.Add(command.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}

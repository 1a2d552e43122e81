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
            "OxiVec: inspect and verify write-ahead logs, and watch crash recovery at work." + Environment.NewLine +
            "Exit codes: 0 ok; 1 usage error or bad input; 2 corruption or data error; 3 internal error.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        root.Subcommands.Add(WalCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(CrashWorkerCommand.Create());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        ParseResult parse = BuildRootCommand().Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            string errors = string.Join(' ', parse.Errors.Select(e => e.Message).Distinct());
            return Cli.Fail(ExitCodes.Usage, $"{errors} Run '{CommandPath(parse)} --help' for usage.");
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return Report(ex);
        }
    }

    /// <summary>Writes one line about <paramref name="ex"/> to stderr and returns its exit code.</summary>
    public static int Report(Exception ex) => ex switch
    {
        WalCorruptionException c => Cli.Fail(
            ExitCodes.DataError,
            $"{c.Message}. The WAL is damaged; run '{Name} wal verify --wal <dir>' for the full report and restore the damaged segment from a backup or replica."),
        WalLockedException l => Cli.Fail(ExitCodes.Usage, $"{l.Message} Stop the process that has it open, or work on a copy."),
        DirectoryNotFoundException or FileNotFoundException or UnauthorizedAccessException => Cli.Fail(ExitCodes.Usage, ex.Message),
        OperationCanceledException => Cli.Fail(ExitCodes.InternalError, "cancelled."),
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

using System.CommandLine;
using System.Globalization;
using OxiVec.Cli.Output;
using OxiVec.Storage;
using OxiVec.Transactions;
using OxiVec.Wal;
using Spectre.Console;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec tx list|commit|rollback --data DIR</c>: the prepared (in-doubt) transactions of a database, and resolving
/// one by hand (PostgreSQL's <c>pg_prepared_xacts</c>, <c>COMMIT PREPARED</c>, <c>ROLLBACK PREPARED</c>). They open the
/// database, so they need its lock: run them while no server has it open.
/// </summary>
internal static class TxCommand
{
    public static Command Create()
    {
        var tx = new Command(
            "tx",
            "Prepared transactions (two-phase commit): 'list' shows the in-doubt ones with their age and coordinator; 'commit' and 'rollback' resolve one by hand. Ask its coordinator first: resolving against the coordinator's decision breaks atomicity.");
        tx.Subcommands.Add(CreateList());
        tx.Subcommands.Add(CreateResolve(commit: true));
        tx.Subcommands.Add(CreateResolve(commit: false));
        return tx;
    }

    private static Command CreateList()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string?> walOption = StoreOptions.Wal();
        Option<bool> jsonOption = new("--json")
        {
            Description = "Print one JSON object per prepared transaction: {\"gid\", \"prepare_lsn\", \"prepared_at\", \"age_seconds\", \"coordinator\", \"operation_count\"}.",
        };
        var command = new Command("list", "List the prepared (in-doubt) transactions, oldest first: gid, age, coordinator, number of writes.")
        {
            dataOption, walOption, jsonOption,
        };
        command.SetAction(parse => List(parse.GetValue(dataOption)!, parse.GetValue(walOption), parse.GetValue(jsonOption)));
        return command;
    }

    private static Command CreateResolve(bool commit)
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string?> walOption = StoreOptions.Wal();
        Option<bool> jsonOption = new("--json") { Description = "Print one JSON object: {\"gid\", \"state\"}." };
        Argument<string> gidArgument = new("GID") { Description = "The global transaction id." };
        var command = new Command(
            commit ? "commit" : "rollback",
            commit
                ? "Commit a prepared transaction: its writes become visible. Idempotent; refused for a rolled-back or unknown gid."
                : "Roll back a prepared transaction: its writes are discarded. Idempotent; an unknown gid is recorded as rolled back (a late prepare of it then fails); refused for a committed gid.")
        {
            dataOption, walOption, jsonOption, gidArgument,
        };
        command.SetAction(parse => Resolve(parse.GetValue(dataOption)!, parse.GetValue(walOption), parse.GetValue(gidArgument)!, commit, parse.GetValue(jsonOption)));
        return command;
    }

    private static VectorDatabase Open(string data, string? wal) =>
        StoreOptions.Open(data, wal, WalConfig.Default with { RetentionPolicy = RetentionPolicy.KeepAll }, create: false);

    private static int List(string data, string? wal, bool json)
    {
        using VectorDatabase database = Open(data, wal);
        IReadOnlyList<PreparedTransaction> prepared = database.ListPrepared();
        if (json)
        {
            using var stdout = new StdOut();
            using var lines = new JsonLines(stdout.Stream);
            foreach (PreparedTransaction p in prepared)
            {
                lines.WriteObject(o =>
                {
                    o.WriteString("gid", p.Gid);
                    o.WriteNumber("prepare_lsn", p.PrepareLsn);
                    o.WriteString("prepared_at", RecordFormat.Timestamp(p.PreparedAt));
                    o.WriteNumber("age_seconds", Math.Round(p.Age(TimeProvider.System).TotalSeconds, 3));
                    if (p.CoordinatorId is null)
                    {
                        o.WriteNull("coordinator");
                    }
                    else
                    {
                        o.WriteString("coordinator", p.CoordinatorId);
                    }

                    o.WriteNumber("operation_count", p.OperationCount);
                });
            }

            return ExitCodes.Ok;
        }

        if (prepared.Count == 0)
        {
            Figures.Line($"No prepared transactions in {database.DataDirectory}.");
            return ExitCodes.Ok;
        }

        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]Prepared transactions in {Markup.Escape(database.DataDirectory)}[/]");
        table.AddColumns("GID", "Age", "Prepared at", "Coordinator", "Writes", "Prepare LSN");
        foreach (PreparedTransaction p in prepared)
        {
            table.AddRow(
                Markup.Escape(p.Gid), Age(p.Age(TimeProvider.System)), RecordFormat.Timestamp(p.PreparedAt),
                p.CoordinatorId is null ? "[grey](none)[/]" : Markup.Escape(p.CoordinatorId), StoreOptions.Num(p.OperationCount), StoreOptions.Num(p.PrepareLsn));
        }

        AnsiConsole.Write(table);
        return ExitCodes.Ok;
    }

    private static int Resolve(string data, string? wal, string gid, bool commit, bool json)
    {
        using VectorDatabase database = Open(data, wal);
        PreparedTransactionState state;
        try
        {
            state = commit ? database.CommitPrepared(gid) : database.RollbackPrepared(gid);
        }
        catch (PreparedTransactionException ex)
        {
            throw new CliException(ExitCodes.Usage, ex.Message, ex);
        }
        catch (ArgumentException ex)
        {
            throw new CliException(ExitCodes.Usage, StoreOptions.Describe(ex), ex);
        }

        string name = state == PreparedTransactionState.Committed ? "committed" : "rolled_back";
        if (json)
        {
            using var stdout = new StdOut();
            using var lines = new JsonLines(stdout.Stream);
            lines.WriteObject(o =>
            {
                o.WriteString("gid", gid);
                o.WriteString("state", name);
            });
        }
        else
        {
            Figures.Line($"Transaction '{gid}' is {(commit ? "committed" : "rolled back")} in {database.DataDirectory}.");
        }

        return ExitCodes.Ok;
    }

    private static string Age(TimeSpan age) => age.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalHours} h {age.Minutes} min")
        : age.TotalMinutes >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{age.Minutes} min {age.Seconds} s")
            : string.Create(CultureInfo.InvariantCulture, $"{age.TotalSeconds:F1} s");
}

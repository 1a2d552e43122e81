using System.CommandLine;
using System.Text.Json;
using OxiVec.Cli.Output;
using OxiVec.Wal;
using Spectre.Console;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec wal dump --wal DIR [--json] [--from-lsn N]</c>: lists the records of a WAL, read-only and without the
/// lock, so it works on a live or crashed WAL. A torn tail ends the listing quietly; corruption ends it with exit code 2.
/// </summary>
internal static class WalDumpCommand
{
    public static Command Create()
    {
        Option<string> walOption = WalCommand.WalDirOption();
        Option<bool> jsonOption = WalCommand.JsonOption(
            "Print one JSON object per record and line (keys: lsn, timestamp, type, flags, segment, offset, then the entry's fields).");
        var fromOption = new Option<long?>("--from-lsn")
        {
            Description = "List records from this LSN on (LSNs start at 1); an LSN retention has removed is an error. Default: from the oldest record retained.",
            HelpName = "N",
        };
        var command = new Command(
            "dump",
            "List the WAL's records, one per line: LSN, UTC timestamp, type, flags, segment file, byte offset and a summary of the entry.")
        {
            walOption, jsonOption, fromOption,
        };
        command.SetAction(parse => Run(parse.GetValue(walOption)!, parse.GetValue(jsonOption), parse.GetValue(fromOption)));
        return command;
    }

    /// <summary>The text line for one record (the format scripts read when stdout is redirected).</summary>
    public static string TextLine(WalRecord record, WalEntry entry) =>
        $"{record.Lsn,10} {RecordFormat.Timestamp(record.Timestamp)} {RecordFormat.TypeName(record.Type),-18} " +
        $"{RecordFormat.FlagsColumn(record.Flags),-9} {record.SegmentFile} {record.Offset,10} {RecordFormat.Summary(entry)}";

    private static int Run(string walDir, bool json, long? from)
    {
        if (from is < 1)
        {
            return Cli.Fail(ExitCodes.Usage, $"--from-lsn must be at least 1 (LSNs start at 1), not {from}.");
        }

        long fromLsn = from ?? 0; // 0: from the oldest record retained

        if (Cli.CheckWalDirectory(walDir) is { } error)
        {
            return Cli.Fail(ExitCodes.Usage, error);
        }

        var reader = new WalReader(walDir);
        if (json)
        {
            using var stdout = new StdOut();
            using var lines = new JsonLines(stdout.Stream);
            foreach (WalRecord record in reader.ReadRecords(fromLsn))
            {
                WalEntry entry = record.ToEntry();
                lines.WriteObject(w => WriteJson(w, record, entry));
            }
        }
        else if (Cli.IsInteractive)
        {
            foreach (WalRecord record in reader.ReadRecords(fromLsn))
            {
                AnsiConsole.MarkupLine(Markup(record, record.ToEntry()));
            }
        }
        else
        {
            using var stdout = new StdOut();
            foreach (WalRecord record in reader.ReadRecords(fromLsn))
            {
                stdout.Text.WriteLine(TextLine(record, record.ToEntry()));
            }
        }

        return ExitCodes.Ok;
    }

    private static void WriteJson(Utf8JsonWriter json, WalRecord record, WalEntry entry)
    {
        json.WriteNumber("lsn", record.Lsn);
        json.WriteString("timestamp", RecordFormat.Timestamp(record.Timestamp));
        json.WriteString("type", RecordFormat.TypeName(record.Type));
        json.WriteString("flags", RecordFormat.FlagsName(record.Flags));
        json.WriteString("segment", record.SegmentFile);
        json.WriteNumber("offset", record.Offset);
        RecordFormat.WriteFields(json, entry);
    }

    private static string Markup(WalRecord record, WalEntry entry)
    {
        string color = record.Type switch
        {
            WalRecordType.Insert => "green",
            WalRecordType.Update => "yellow",
            WalRecordType.Delete => "red",
            WalRecordType.Checkpoint => "blue",
            WalRecordType.Custom => "fuchsia",
            WalRecordType.PrepareTransaction or WalRecordType.CommitPrepared or WalRecordType.RollbackPrepared => "olive",
            _ => "aqua",
        };
        string type = RecordFormat.TypeName(record.Type);
        return $"[bold]{record.Lsn,10}[/] [grey]{RecordFormat.Timestamp(record.Timestamp)}[/] [{color}]{Spectre.Console.Markup.Escape(type),-18}[/] " +
            $"{RecordFormat.FlagsColumn(record.Flags),-9} [grey]{record.SegmentFile} {record.Offset,10}[/] " +
            Spectre.Console.Markup.Escape(RecordFormat.Summary(entry));
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OxiVec.Cli.Output;
using OxiVec.Wal;
using Spectre.Console;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec wal verify --wal DIR [--json]</c>: checks every record (framing, checksum, LSN sequence, decoding, segment
/// continuity) without changing anything. Exit code 0 when the WAL is valid (a torn tail is reported but valid: opening
/// the WAL cuts it off), 2 when it is corrupt.
/// </summary>
internal static class WalVerifyCommand
{
    public static Command Create()
    {
        Option<string> walOption = WalCommand.WalDirOption();
        Option<bool> jsonOption = WalCommand.JsonOption(
            "Print one JSON object: {\"valid\", \"records\", \"segments\": [...], \"issues\": [{\"kind\", \"segment\", \"offset\", \"lsn\", \"bytes\", \"message\"}]}.");
        var command = new Command(
            "verify",
            "Check every record of the WAL. Exit code 0: valid (a torn tail, cut off on the next open, is valid); 2: corrupt, each issue named by segment file and byte offset.")
        {
            walOption, jsonOption,
        };
        command.SetAction(parse => Run(parse.GetValue(walOption)!, parse.GetValue(jsonOption)));
        return command;
    }

    private static int Run(string walDir, bool json)
    {
        if (Cli.CheckWalDirectory(walDir) is { } error)
        {
            return Cli.Fail(ExitCodes.Usage, error);
        }

        WalVerifyReport report = new WalReader(walDir).Verify();
        if (json)
        {
            WriteJson(report);
        }
        else if (Cli.IsInteractive)
        {
            WriteTables(report);
        }
        else
        {
            WritePlain(report);
        }

        if (report.IsValid)
        {
            return ExitCodes.Ok;
        }

        WalIssue first = report.Issues.First(i => i.Kind == WalIssueKind.Corruption);
        int count = report.Issues.Count(i => i.Kind == WalIssueKind.Corruption);
        return Cli.Fail(
            ExitCodes.DataError,
            $"the WAL in '{report.Directory}' is corrupt ({count} issue{(count == 1 ? "" : "s")}); first: {first.SegmentFile} at byte offset {first.Offset}: {first.Message}. " +
            "Restore the damaged segment from a backup or replica.");
    }

    /// <summary>One line per issue, as both text outputs print it.</summary>
    public static string IssueLine(WalIssue issue) => string.Create(
        CultureInfo.InvariantCulture,
        $"{KindName(issue.Kind)}: {issue.SegmentFile} at byte offset {issue.Offset}: {issue.Message} (expected LSN {issue.Lsn}, {issue.Bytes} bytes affected)");

    private static string Verdict(WalVerifyReport report)
    {
        string totals = string.Create(CultureInfo.InvariantCulture, $"{report.ValidRecords:N0} valid records in {report.Segments.Count} segments");
        if (!report.IsValid)
        {
            return $"CORRUPT: {report.Issues.Count(i => i.Kind == WalIssueKind.Corruption)} issue(s); {totals}";
        }

        WalIssue? torn = report.Issues.FirstOrDefault(i => i.Kind == WalIssueKind.TornTail);
        return torn is null
            ? $"valid: {totals}"
            : $"valid: {totals}; a torn last write of {torn.Bytes} bytes in {torn.SegmentFile} at byte offset {torn.Offset} is cut off when the WAL is next opened";
    }

    private static void WritePlain(WalVerifyReport report)
    {
        using var stdout = new StdOut();
        foreach (WalSegmentReport s in report.Segments)
        {
            stdout.Text.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"segment {s.File}: LSN {s.FirstLsn}..{s.LastLsn}, {s.Records} records, {s.ValidBytes} valid bytes"));
        }

        foreach (WalIssue issue in report.Issues)
        {
            stdout.Text.WriteLine(IssueLine(issue));
        }

        stdout.Text.WriteLine(Verdict(report));
    }

    private static void WriteTables(WalVerifyReport report)
    {
        var segments = new Table().Border(TableBorder.Rounded).Title($"WAL [bold]{Markup.Escape(report.Directory)}[/]");
        segments.AddColumn(new TableColumn("Segment file").NoWrap());
        segments.AddColumns("Id", "First LSN", "Last LSN", "Records", "Valid bytes");
        foreach (WalSegmentReport s in report.Segments)
        {
            segments.AddRow(
                Markup.Escape(s.File), Num(s.SegmentId), Num(s.FirstLsn), Num(s.LastLsn), Num(s.Records), Num(s.ValidBytes));
        }

        AnsiConsole.Write(segments);
        if (report.Issues.Count > 0)
        {
            var issues = new Table().Border(TableBorder.Rounded).Title("Issues");
            issues.AddColumns("Kind", "Segment file", "Byte offset", "Expected LSN", "Bytes", "Message");
            foreach (WalIssue i in report.Issues)
            {
                string kind = i.Kind == WalIssueKind.Corruption ? "[red]corruption[/]" : "[yellow]torn tail[/]";
                issues.AddRow(kind, Markup.Escape(i.SegmentFile), Num(i.Offset), Num(i.Lsn), Num(i.Bytes), Markup.Escape(i.Message));
            }

            AnsiConsole.Write(issues);
        }

        string color = report.IsValid ? "green" : "red";
        AnsiConsole.MarkupLine($"[bold {color}]{Markup.Escape(Verdict(report))}[/]");
    }

    private static void WriteJson(WalVerifyReport report)
    {
        using var stdout = new StdOut();
        using var lines = new JsonLines(stdout.Stream);
        lines.WriteObject(json =>
        {
            json.WriteString("directory", report.Directory);
            json.WriteBoolean("valid", report.IsValid);
            json.WriteNumber("records", report.ValidRecords);
            json.WriteStartArray("segments");
            foreach (WalSegmentReport s in report.Segments)
            {
                json.WriteStartObject();
                json.WriteString("file", s.File);
                json.WriteNumber("segment_id", s.SegmentId);
                json.WriteNumber("first_lsn", s.FirstLsn);
                json.WriteNumber("last_lsn", s.LastLsn);
                json.WriteNumber("records", s.Records);
                json.WriteNumber("valid_bytes", s.ValidBytes);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("issues");
            foreach (WalIssue i in report.Issues)
            {
                WriteIssue(json, i);
            }

            json.WriteEndArray();
        });
    }

    private static void WriteIssue(Utf8JsonWriter json, WalIssue issue)
    {
        json.WriteStartObject();
        json.WriteString("kind", KindName(issue.Kind));
        json.WriteString("segment", issue.SegmentFile);
        json.WriteNumber("offset", issue.Offset);
        json.WriteNumber("lsn", issue.Lsn);
        json.WriteNumber("bytes", issue.Bytes);
        json.WriteString("message", issue.Message);
        json.WriteEndObject();
    }

    private static string KindName(WalIssueKind kind) => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());

    private static string Num(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Num(ulong value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

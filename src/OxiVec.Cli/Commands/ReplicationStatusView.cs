using System.Globalization;
using System.Net;
using System.Text.Json;
using OxiVec.Cli.Output;
using Spectre.Console;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec stats --url URL</c>: a running server's replication (GET /oxivec/replication): on a primary every
/// standby's written, flushed and applied LSNs and its lag in bytes, LSNs and milliseconds; on a standby its own
/// positions and how far it is behind its primary. A running server holds its data directory's lock, so this is how
/// an operator sees lag.
/// </summary>
internal static class ReplicationStatusView
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public static int Run(string url, string? apiKey, bool json)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"--url must be an absolute http or https URL of an oxivec serve REST endpoint; it is '{url}'.");
        }

        string body = Fetch(new Uri(baseUri, "/oxivec/replication"), apiKey);
        using JsonDocument document = ParseResult(body, baseUri, out JsonElement result);
        if (json)
        {
            using var stdout = new StdOut();
            using var writer = new Utf8JsonWriter(stdout.Stream);
            result.WriteTo(writer);
            writer.Flush();
            stdout.Text.WriteLine();
            return ExitCodes.Ok;
        }

        IReadOnlyList<(string Name, string Value)> node = NodeRows(result);
        IReadOnlyList<StandbyRow> standbys = StandbyRows(result);
        if (Cli.IsInteractive)
        {
            WriteTables(baseUri, node, standbys);
        }
        else
        {
            WritePlain(node, standbys);
        }

        return ExitCodes.Ok;
    }

    private static string Fetch(Uri uri, string? apiKey)
    {
        using var http = new HttpClient { Timeout = RequestTimeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (!string.IsNullOrEmpty(apiKey))
        {
            request.Headers.Add("api-key", apiKey);
        }

        try
        {
            using HttpResponseMessage response = http.Send(request);
            string text = new StreamReader(response.Content.ReadAsStream()).ReadToEnd();
            return response.StatusCode == HttpStatusCode.OK ? text
                : throw new CliException(ExitCodes.DataError, $"GET {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}: {Truncate(text)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            throw new CliException(ExitCodes.DataError, $"GET {uri} failed: {ex.Message}", ex);
        }
    }

    private static JsonDocument ParseResult(string body, Uri server, out JsonElement result)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.DataError, $"{server} did not answer JSON at /oxivec/replication: {ex.Message}", ex);
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("result", out result) || result.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new CliException(ExitCodes.DataError, $"{server} answered /oxivec/replication without a 'result' object: is it oxivec serve?");
        }

        return document;
    }

    private sealed record StandbyRow(
        string Name, bool Connected, bool Synchronous, long Written, long Flushed, long Applied, long LagBytes, long LagLsns, double LagMs, long SlotFrom);

    private static IReadOnlyList<(string Name, string Value)> NodeRows(JsonElement result)
    {
        string role = Text(result, "role");
        if (role == "standby" && result.TryGetProperty("standby", out JsonElement s) && s.ValueKind == JsonValueKind.Object)
        {
            long applied = Long(s, "applied_lsn");
            long primaryLast = Long(s, "primary_last_lsn");
            return
            [
                ("role", $"standby of {Text(result, "standby_of")}"),
                ("connected", YesNo(Bool(s, "connected"))),
                ("epoch", Num(Long(s, "epoch"))),
                ("written / flushed / applied LSN", $"{Num(Long(s, "written_lsn"))} / {Num(Long(s, "flushed_lsn"))} / {Num(applied)}"),
                ("primary's last LSN", Num(primaryLast)),
                ("behind the primary", $"{Num(Math.Max(0, primaryLast - applied))} LSNs (as of the primary's last report)"),
                ("base backups since start", Num(Long(result, "base_backups"))),
                ("last stream error", s.TryGetProperty("last_error", out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : "none"),
            ];
        }

        if (!result.TryGetProperty("primary", out JsonElement p) || p.ValueKind != JsonValueKind.Object)
        {
            return [("role", "primary, not replicating (no --grpc endpoint nor --standby)")];
        }

        return
        [
            ("role", "primary"),
            ("epoch", Num(Long(p, "epoch"))),
            ("last / flushed LSN", $"{Num(Long(p, "last_lsn"))} / {Num(Long(p, "flushed_lsn"))}"),
            ("degraded to asynchronous", YesNo(Bool(p, "degraded"))),
        ];
    }

    private static IReadOnlyList<StandbyRow> StandbyRows(JsonElement result)
    {
        if (!result.TryGetProperty("primary", out JsonElement p) || p.ValueKind != JsonValueKind.Object
            || !p.TryGetProperty("standbys", out JsonElement standbys) || standbys.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        long last = Long(p, "last_lsn");
        return [.. standbys.EnumerateArray().Select(s => new StandbyRow(
            Text(s, "name"), Bool(s, "connected"), Bool(s, "synchronous"), Long(s, "written_lsn"), Long(s, "flushed_lsn"), Long(s, "applied_lsn"),
            Long(s, "lag_bytes"), Math.Max(0, last - Long(s, "flushed_lsn")), s.TryGetProperty("lag_ms", out JsonElement ms) && ms.TryGetDouble(out double v) ? v : 0,
            Long(s, "slot_retain_from_lsn")))];
    }

    private static void WritePlain(IReadOnlyList<(string Name, string Value)> node, IReadOnlyList<StandbyRow> standbys)
    {
        using var stdout = new StdOut();
        TextWriter o = stdout.Text;
        foreach ((string name, string value) in node)
        {
            o.WriteLine($"replication {name}: {value}");
        }

        foreach (StandbyRow s in standbys)
        {
            o.WriteLine(
                $"standby {s.Name}: {(s.Connected ? "connected" : "disconnected")}{(s.Synchronous ? ", synchronous" : "")}, written {Num(s.Written)}, flushed {Num(s.Flushed)}, " +
                $"applied {Num(s.Applied)}, lag {Num(s.LagBytes)} bytes, {Num(s.LagLsns)} LSNs, {s.LagMs.ToString("0.0", CultureInfo.InvariantCulture)} ms, " +
                $"slot {(s.SlotFrom > 0 ? "from LSN " + Num(s.SlotFrom) : "none")}");
        }
    }

    private static void WriteTables(Uri server, IReadOnlyList<(string Name, string Value)> node, IReadOnlyList<StandbyRow> standbys)
    {
        var nodeTable = new Table().Border(TableBorder.Rounded).Title($"[bold]Replication of {Markup.Escape(server.ToString())}[/]").AddColumns("Figure", "Value");
        foreach ((string name, string value) in node)
        {
            nodeTable.AddRow(Markup.Escape(name), Markup.Escape(value));
        }

        AnsiConsole.Write(nodeTable);
        if (standbys.Count == 0)
        {
            return;
        }

        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Standbys[/]")
            .AddColumns("Name", "Connected", "Sync", "Written", "Flushed", "Applied", "Lag bytes", "Lag LSNs", "Lag ms", "Slot from");
        foreach (StandbyRow s in standbys)
        {
            table.AddRow(
                Markup.Escape(s.Name), s.Connected ? "[green]yes[/]" : "[red]no[/]", YesNo(s.Synchronous), Num(s.Written), Num(s.Flushed), Num(s.Applied),
                Num(s.LagBytes), Num(s.LagLsns), s.LagMs.ToString("N1", CultureInfo.InvariantCulture), s.SlotFrom > 0 ? Num(s.SlotFrom) : "[grey]none[/]");
        }

        AnsiConsole.Write(table);
    }

    private static string Text(JsonElement e, string name) => e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    private static long Long(JsonElement e, string name) => e.TryGetProperty(name, out JsonElement v) && v.TryGetInt64(out long n) ? n : 0;

    private static bool Bool(JsonElement e, string name) => e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;

    private static string YesNo(bool value) => value ? "yes" : "no";

    private static string Num(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "...";
}

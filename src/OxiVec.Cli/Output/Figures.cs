using Spectre.Console;

namespace OxiVec.Cli.Output;

/// <summary>
/// The output of the maintenance commands (recover, checkpoint, health, wal cleanup): titled lists of figures, as
/// Spectre.Console tables on a terminal and as stable <c>name: value</c> lines when stdout is redirected; and a
/// spinner around long work on a terminal only.
/// </summary>
internal static class Figures
{
    /// <summary>Writes <paramref name="rows"/> (plain text, not markup) under <paramref name="title"/>.</summary>
    public static void Write(string title, IEnumerable<(string Name, string Value)> rows)
    {
        if (Cli.IsInteractive)
        {
            var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(title)}[/]").AddColumns("Figure", "Value");
            foreach ((string name, string value) in rows)
            {
                table.AddRow(Markup.Escape(name), Markup.Escape(value));
            }

            AnsiConsole.Write(table);
            return;
        }

        using var stdout = new StdOut();
        foreach ((string name, string value) in rows)
        {
            stdout.Text.WriteLine($"{name}: {value}");
        }
    }

    /// <summary>
    /// Writes one line of text (plain text, not markup), after the tables or lines written before; on a terminal in
    /// <paramref name="color"/> (a Spectre colour name: green, yellow, red) when given.
    /// </summary>
    public static void Line(string text, string? color = null)
    {
        if (Cli.IsInteractive)
        {
            AnsiConsole.MarkupLine(color is null ? Markup.Escape(text) : $"[{color}]{Markup.Escape(text)}[/]");
        }
        else
        {
            using var stdout = new StdOut();
            stdout.Text.WriteLine(text);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> behind a spinner showing <paramref name="status"/> when <paramref name="show"/>
    /// is true and stdout is a terminal; otherwise just runs it (scripts read the result printed afterwards).
    /// </summary>
    public static T WithSpinner<T>(bool show, string status, Func<T> work)
    {
        if (!show || !Cli.IsInteractive)
        {
            return work();
        }

        return AnsiConsole.Status()
            .Spinner(Spinner.Known.Dots)
            .SpinnerStyle(new Style(Color.Aqua))
            .Start(Markup.Escape(status), _ => work());
    }

    /// <summary>Writes <c>oxivec: warning: message</c> to stderr as one line (stdout flushed first, so the order holds).</summary>
    public static void Warning(string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"{OxiVecCli.Name}: warning: {message.ReplaceLineEndings(" ")}");
    }
}

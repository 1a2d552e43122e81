using System.Text;
using Spectre.Console;

namespace OxiVec.Cli.Output;

/// <summary>
/// What the demo shows, on a terminal with Spectre.Console (rules, tables, a spinner) or, when stdout is redirected, as
/// plain text. Every text argument is plain text, never markup.
/// </summary>
internal abstract class DemoView
{
    public static DemoView Create() => Cli.IsInteractive ? new SpectreView() : new PlainView();

    public abstract void Title(string text);

    public abstract void Step(int number, string title);

    /// <summary>An explanation for the newcomer.</summary>
    public abstract void Say(string text);

    public abstract void Success(string text);

    public abstract void Failure(string text);

    public abstract void Table(string[] headers, IEnumerable<string[]> rows);

    /// <summary>Runs <paramref name="work"/> behind a spinner; the work may update the status text.</summary>
    public abstract Task<T> StatusAsync<T>(string text, Func<Action<string>, Task<T>> work);

    private sealed class SpectreView : DemoView
    {
        public override void Title(string text)
        {
            AnsiConsole.Write(new Rule($"[bold aqua]{Markup.Escape(text)}[/]").RuleStyle("aqua"));
            AnsiConsole.WriteLine();
        }

        public override void Step(int number, string title)
        {
            AnsiConsole.WriteLine();
            AnsiConsole.Write(new Rule($"[bold]{number}. {Markup.Escape(title)}[/]").LeftJustified().RuleStyle("grey"));
        }

        public override void Say(string text) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(text)}[/]");

        public override void Success(string text) => AnsiConsole.MarkupLine($"[bold green]✔ {Markup.Escape(text)}[/]");

        public override void Failure(string text) => AnsiConsole.MarkupLine($"[bold red]✘ {Markup.Escape(text)}[/]");

        public override void Table(string[] headers, IEnumerable<string[]> rows)
        {
            var table = new Table().Border(TableBorder.Rounded);
            foreach (string header in headers)
            {
                table.AddColumn(new TableColumn($"[bold]{Markup.Escape(header)}[/]"));
            }

            foreach (string[] row in rows)
            {
                table.AddRow([.. row.Select(Markup.Escape)]);
            }

            AnsiConsole.Write(table);
        }

        public override Task<T> StatusAsync<T>(string text, Func<Action<string>, Task<T>> work) =>
            AnsiConsole.Status()
                .Spinner(Spinner.Known.Dots)
                .SpinnerStyle(new Style(Color.Aqua))
                .StartAsync(Markup.Escape(text), context => work(status => context.Status(Markup.Escape(status))));
    }

    private sealed class PlainView : DemoView
    {
        public override void Title(string text) => Console.WriteLine($"=== {text} ===");

        public override void Step(int number, string title)
        {
            Console.WriteLine();
            Console.WriteLine($"--- {number}. {title} ---");
        }

        public override void Say(string text) => Console.WriteLine(text);

        public override void Success(string text) => Console.WriteLine($"OK: {text}");

        public override void Failure(string text) => Console.WriteLine($"FAILED: {text}");

        public override void Table(string[] headers, IEnumerable<string[]> rows)
        {
            List<string[]> all = [headers, .. rows];
            int[] widths = [.. Enumerable.Range(0, headers.Length).Select(c => all.Max(r => c < r.Length ? r[c].Length : 0))];
            foreach (string[] row in all)
            {
                var line = new StringBuilder("  ");
                for (int c = 0; c < row.Length; c++)
                {
                    line.Append(c == row.Length - 1 ? row[c] : row[c].PadRight(widths[c] + 2));
                }

                Console.WriteLine(line.ToString().TrimEnd());
            }
        }

        public override Task<T> StatusAsync<T>(string text, Func<Action<string>, Task<T>> work)
        {
            Console.WriteLine($"{text}...");
            return work(_ => { });
        }
    }
}

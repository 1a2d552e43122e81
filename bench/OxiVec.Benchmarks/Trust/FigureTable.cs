using System.Globalization;
using System.Text;

namespace OxiVec.Benchmarks.Trust;

/// <summary>
/// The "Figures" section of a report: a markdown table of <see cref="Figure"/>s between two marker comments, and
/// its parser. The table is the one place a report's headline numbers are written for reuse (the README's table).
/// </summary>
internal static class FigureTable
{
    public const string Begin = "<!-- figures:begin -->";

    public const string End = "<!-- figures:end -->";

    private const string Header = "| Figure | OxiVec | Compared with | Ratio | Target | Qualifiers | Runs |";

    /// <summary>The section, heading included, each line ending in '\n'.</summary>
    public static string Render(IEnumerable<Figure> figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        var sb = new StringBuilder();
        sb.Append("## Figures\n\n");
        sb.Append("The report's headline figures with their qualifiers; `bench readme` copies these rows into the README.\n\n");
        sb.Append(Begin).Append('\n');
        sb.Append(Header).Append('\n');
        sb.Append("|---|---:|---|---:|---|---|---:|\n");
        foreach (Figure f in figures)
        {
            sb.Append("| ").Append(string.Join(" | ", new[] { f.What, f.OxiVec, f.ComparedWith, f.Ratio, f.Target, f.Qualifiers }.Select(Escape)))
                .Append(" | ").Append(f.Runs.ToString(CultureInfo.InvariantCulture)).Append(" |\n");
        }

        sb.Append(End).Append("\n\n");
        return sb.ToString();
    }

    /// <summary>The figures of a report; empty when it has no figures section.</summary>
    /// <exception cref="FormatException">A row between the markers is not a figure row (names the line).</exception>
    public static IReadOnlyList<Figure> Parse(string markdown, string source)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        int begin = markdown.IndexOf(Begin, StringComparison.Ordinal);
        if (begin < 0)
        {
            return [];
        }

        int end = markdown.IndexOf(End, begin, StringComparison.Ordinal);
        if (end < 0)
        {
            throw new FormatException($"{source}: '{Begin}' without '{End}'");
        }

        var figures = new List<Figure>();
        string[] lines = markdown[(begin + Begin.Length)..end].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string line in lines.Skip(2))
        {
            List<string> cells = SplitRow(line);
            if (cells.Count != 7 || !int.TryParse(cells[6], NumberStyles.None, CultureInfo.InvariantCulture, out int runs))
            {
                throw new FormatException($"{source}: figure row '{line}' does not have 7 cells ending in a run count");
            }

            figures.Add(new Figure(cells[0], cells[1], cells[2], cells[3], cells[4], cells[5], runs));
        }

        return figures;
    }

    /// <summary>A table cell's text: '|' escaped, line breaks flattened.</summary>
    public static string Escape(string cell) => cell.ReplaceLineEndings(" ").Replace("|", "\\|", StringComparison.Ordinal);

    private static List<string> SplitRow(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        string body = line.Trim();
        if (!body.StartsWith('|') || !body.EndsWith('|'))
        {
            return cells;
        }

        for (int i = 1; i < body.Length - 1; i++)
        {
            if (body[i] == '\\' && body[i + 1] == '|')
            {
                cell.Append('|');
                i++;
            }
            else if (body[i] == '|')
            {
                cells.Add(cell.ToString().Trim());
                cell.Clear();
            }
            else
            {
                cell.Append(body[i]);
            }
        }

        cells.Add(cell.ToString().Trim());
        return cells;
    }
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace OxiVec.Benchmarks.Trust;

/// <summary>
/// The line every report starts with, read back by the <c>readme</c> verb: which verb wrote it, the commit and
/// tree state it measured, full or quick mode, and when. Written as an HTML comment (invisible on GitHub) followed
/// by the visible <see cref="CodeState.Describe"/> sentence.
/// </summary>
internal sealed partial record ReportStamp(string Verb, string Commit, string Tree, string Mode, string Date)
{
    /// <summary>The stamp of a report written now by <paramref name="verb"/> for <paramref name="code"/>.</summary>
    public static ReportStamp For(string verb, CodeState code, bool quick) =>
        new(verb, code.Commit ?? "unknown", code.Tree, quick ? "quick" : "full", DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture));

    /// <summary>Whether the measured commit is known and the tree was clean: the only figures worth quoting.</summary>
    public bool IsClean => Tree == "clean" && Commit != "unknown";

    /// <summary>The commit's first 12 characters, or "unknown".</summary>
    public string ShortCommit => Commit.Length > 12 && Commit != "unknown" ? Commit[..12] : Commit;

    /// <summary>The comment line (machine-readable) alone.</summary>
    public string Comment => $"<!-- oxivec-bench verb={Verb} commit={Commit} tree={Tree} mode={Mode} date={Date.Replace(' ', 'T')} -->";

    /// <summary>The comment, a blank line, and the visible code-state sentence, each line ending in '\n'.</summary>
    public static string Render(string verb, CodeState code, bool quick)
    {
        ArgumentNullException.ThrowIfNull(code);
        return For(verb, code, quick).Comment + "\n\n" + code.Describe() + "\n\n";
    }

    /// <summary>The stamp of a report, or null when it has none (a report written before stamps existed).</summary>
    public static ReportStamp? Parse(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        Match m = StampPattern().Match(markdown);
        return m.Success
            ? new ReportStamp(m.Groups["verb"].Value, m.Groups["commit"].Value, m.Groups["tree"].Value, m.Groups["mode"].Value, m.Groups["date"].Value.Replace('T', ' '))
            : null;
    }

    [GeneratedRegex(@"<!-- oxivec-bench verb=(?<verb>\S+) commit=(?<commit>\S+) tree=(?<tree>\S+) mode=(?<mode>\S+) date=(?<date>\S+) -->")]
    private static partial Regex StampPattern();
}

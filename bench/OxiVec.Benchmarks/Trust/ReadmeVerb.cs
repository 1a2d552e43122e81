using OxiVec.Benchmarks.Store;

namespace OxiVec.Benchmarks.Trust;

/// <summary>
/// The <c>readme</c> verb: rewrites the README's performance table (between <see cref="ReadmeSection.Begin"/> and
/// <see cref="ReadmeSection.End"/>) from the Figures sections of the reports. Measures nothing.
/// </summary>
internal static class ReadmeVerb
{
    public const string Usage = "readme [--from DIR] [--readme FILE]";

    public static int Run(string[] args)
    {
        string? from = null, readme = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--from" when i + 1 < args.Length:
                    from = args[++i];
                    break;
                case "--readme" when i + 1 < args.Length:
                    readme = args[++i];
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}' (usage: {Usage})");
            }
        }

        string? root = BenchCommon.FindRepositoryRoot();
        string NeedRoot() => root ?? throw new DirectoryNotFoundException("cannot find the repository root (a directory holding OxiVec.slnx); pass --from DIR and --readme FILE");
        string reportsDir = Path.GetFullPath(from ?? Path.Combine(NeedRoot(), "bench", "results"));
        string readmePath = Path.GetFullPath(readme ?? Path.Combine(NeedRoot(), "README.md"));

        IReadOnlyList<ReadmeSection.ReportFile> reports = ReadmeSection.ReadReports(reportsDir, [.. Program.Verbs.Select(v => v.Name)]);
        if (reports.Count == 0)
        {
            throw new InvalidOperationException($"no report in '{reportsDir}' has a Figures section ('{FigureTable.Begin}'): nothing to put in the README");
        }

        string section = ReadmeSection.Render(reports, Path.GetDirectoryName(readmePath)!);
        string text = ReadmeSection.Replace(File.ReadAllText(readmePath), section, readmePath);
        File.WriteAllText(readmePath, text);
        Console.Error.WriteLine($"oxivec-bench readme: wrote {reports.Sum(r => r.Figures.Count)} figure(s) from {reports.Count} report(s) into {readmePath}");
        return 0;
    }
}

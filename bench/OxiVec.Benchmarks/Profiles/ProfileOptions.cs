using System.Globalization;
using OxiVec.Benchmarks.Store;

namespace OxiVec.Benchmarks.Profiles;

/// <summary>
/// Command line of the <c>profiles</c> verb: the shared <see cref="VerbOptions"/> (<c>--quick</c>, <c>--out DIR</c>)
/// plus <c>--dir DIR</c> (parent of the temporary data directories) and <c>--runs N</c> (repeats of every cell).
/// </summary>
internal sealed record ProfileOptions(VerbOptions Verb, string WorkParent, int Runs)
{
    public const string Usage = "profiles [--quick] [--out DIR] [--dir DIR] [--runs N] [--allow-dirty]";

    public bool Quick => Verb.Quick;

    public string OutDir => Verb.OutDir;

    public static ProfileOptions Parse(string[] args)
    {
        string? workParent = null;
        int? runs = null;
        var shared = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--dir" when i + 1 < args.Length:
                    workParent = args[++i];
                    break;
                case "--runs" when i + 1 < args.Length:
                    runs = int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1
                        ? n
                        : throw new ArgumentException($"--runs needs a positive integer, not '{args[i]}' (usage: {Usage})");
                    break;
                case "--quick" or "--allow-dirty":
                    shared.Add(args[i]);
                    break;
                case "--out" when i + 1 < args.Length:
                    shared.Add(args[i]);
                    shared.Add(args[++i]);
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}' (usage: {Usage})");
            }
        }

        VerbOptions verb = VerbOptions.Parse("profiles", [.. shared]);

        // VerbOptions records only the arguments it parsed; the report shows the whole command.
        verb = verb with { CommandLine = "dotnet run -c Release --project bench/OxiVec.Benchmarks -- " + string.Join(' ', args.Prepend("profiles")) };
        return new ProfileOptions(verb, Path.GetFullPath(workParent ?? Path.GetTempPath()), runs ?? (verb.Quick ? 1 : 5));
    }
}

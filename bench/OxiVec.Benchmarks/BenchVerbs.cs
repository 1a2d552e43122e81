using OxiVec.Benchmarks.Macro;

namespace OxiVec.Benchmarks;

/// <summary>
/// A benchmark verb: its name, one line of help, and how it runs from its arguments (the arguments after the verb).
/// </summary>
/// <param name="Name">What to type after <c>bench</c>.</param>
/// <param name="Summary">One line for the help text.</param>
/// <param name="Run">Runs the verb and returns its exit code. It must accept <c>--quick</c>, <c>--out DIR</c> and
/// <c>--allow-dirty</c> (parse them with <see cref="Store.VerbOptions.Parse"/>), write its report into the out
/// directory starting with <see cref="Store.VerbOptions.Stamp"/>, and put its headline figures in a
/// <see cref="Trust.FigureTable"/> section so that <c>readme</c> can quote them.</param>
internal sealed record BenchVerb(string Name, string Summary, Func<string[], int> Run);

/// <summary>
/// The one list of verbs. <c>all</c> runs every verb here, in this order, with the same <c>--quick</c>,
/// <c>--out</c> and <c>--allow-dirty</c>, then <c>readme</c>; <c>readme</c> orders the README's rows by it.
/// Registering a verb is one line in <see cref="All"/>.
/// </summary>
internal static class BenchVerbs
{
    public static IReadOnlyList<BenchVerb> All { get; } =
    [
        new("wal", "WAL commits vs the disk, FasterLog and SQLite (the default verb)", MacroHarness.RunVerb),
        new("store", "inserts with and without the WAL; recall@10 against QPS, exact search and USearch", args => new Store.StoreBench(Store.VerbOptions.Parse("store", args)).Run()),
        new("recovery", "replay speed, recovery time against the checkpoint interval, checkpoint cost", args => new RecoveryBench.RecoveryHarness(Store.VerbOptions.Parse("recovery", args)).Run()),
        new("profiles", "the guide's profile table against a WAL-off baseline", args => new Profiles.ProfileBench(Profiles.ProfileOptions.Parse(args)).Run()),
    ];

    /// <summary>The verb called <paramref name="name"/>, or null.</summary>
    public static BenchVerb? Find(string name) => All.FirstOrDefault(v => v.Name == name);
}

namespace OxiVec.Benchmarks.Trust;

/// <summary>
/// One headline figure of a report, with everything a reader needs to quote it honestly; the <c>readme</c> verb
/// copies these rows, never numbers of its own.
/// </summary>
/// <param name="What">What was measured ("Commits/s, fsync per commit, 32 writers").</param>
/// <param name="OxiVec">OxiVec's figure, with its unit.</param>
/// <param name="ComparedWith">The baseline or peer of the same run, with its figure; "–" when none.</param>
/// <param name="Ratio">OxiVec against it (ratio or overhead), with its interval where there is one; "–" when none.</param>
/// <param name="Target">The target and its verdict ("≥ 1× FasterLog: **met**"); "–" when none.</param>
/// <param name="Qualifiers">Dataset, index kind, warm/cold cache, writers, sync policy: what the figure is true for.</param>
/// <param name="Runs">Runs (rounds) the figure is a median or mean of; 1 means a single run.</param>
internal sealed record Figure(string What, string OxiVec, string ComparedWith, string Ratio, string Target, string Qualifiers, int Runs);

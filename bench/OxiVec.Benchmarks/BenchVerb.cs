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

namespace OxiVec.Benchmarks.Trust;

/// <summary>A point estimate with its confidence interval, over <see cref="Rounds"/> rounds.</summary>
/// <param name="Estimate">The statistic over all rounds.</param>
/// <param name="Low">Lower end of the percentile interval.</param>
/// <param name="High">Upper end of the percentile interval.</param>
/// <param name="Rounds">Rounds (paired measurements) the interval rests on.</param>
internal sealed record Interval(double Estimate, double Low, double High, int Rounds)
{
    /// <summary>"estimate (95 % interval low–high)", or "estimate (1 round: no interval)", each end formatted by <paramref name="format"/>.</summary>
    public string Describe(Func<double, string> format)
    {
        ArgumentNullException.ThrowIfNull(format);
        return Rounds < 2 ? $"{format(Estimate)} (1 round: no interval)" : $"{format(Estimate)} (95 % interval {format(Low)} – {format(High)})";
    }

    /// <summary>The interval of 1 − x (a ratio turned into an overhead): the ends swap.</summary>
    public Interval OneMinus() => new(1 - Estimate, 1 - High, 1 - Low, Rounds);
}

/// <summary>
/// Bootstrap confidence intervals over rounds, deterministic (a fixed seed): the same measurements always give the
/// same interval, so a report can be regenerated and checked.
/// </summary>
internal static class Bootstrap
{
    /// <summary>Resamples drawn per interval.</summary>
    public const int Resamples = 10_000;

    /// <summary>The seed of the resampling generator.</summary>
    public const int Seed = 12_061_977;

    /// <summary>Coverage of the percentile interval (0.95: the 2.5th to the 97.5th percentile of the resampled statistic).</summary>
    public const double Confidence = 0.95;

    /// <summary>
    /// The ratio candidate ÷ baseline of paired rounds (round <c>i</c> ran <paramref name="candidate"/>[i] and
    /// <paramref name="baseline"/>[i] back to back): the geometric mean of the per-round ratios, and its 95 %
    /// percentile interval from resampling whole rounds with replacement. Pairing cancels the drift of a shared
    /// machine that hits both sides of a round alike.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length, are empty, or hold a value that is not positive and finite.</exception>
    public static Interval PairedRatio(IReadOnlyList<double> candidate, IReadOnlyList<double> baseline)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(baseline);
        if (candidate.Count != baseline.Count)
        {
            throw new ArgumentException($"paired rounds need as many candidate as baseline values ({candidate.Count} vs {baseline.Count})", nameof(baseline));
        }

        double[] logRatios = new double[candidate.Count];
        for (int i = 0; i < logRatios.Length; i++)
        {
            logRatios[i] = Math.Log(Positive(candidate[i], nameof(candidate), i) / Positive(baseline[i], nameof(baseline), i));
        }

        Interval log = MeanInterval(logRatios, nameof(candidate));
        return new Interval(Math.Exp(log.Estimate), Math.Exp(log.Low), Math.Exp(log.High), log.Rounds);
    }

    /// <summary>The mean of <paramref name="values"/> (one per round) and its 95 % percentile bootstrap interval.</summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty or holds a value that is not finite.</exception>
    public static Interval Mean(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        double[] v = [.. values];
        for (int i = 0; i < v.Length; i++)
        {
            if (!double.IsFinite(v[i]))
            {
                throw new ArgumentException($"round {i}'s value is {v[i]}, not a finite number", nameof(values));
            }
        }

        return MeanInterval(v, nameof(values));
    }

    private static Interval MeanInterval(double[] values, string name)
    {
        if (values.Length == 0)
        {
            throw new ArgumentException("an interval needs at least one round", name);
        }

        double estimate = values.Average();
        var rng = new Random(Seed);
        var means = new double[Resamples];
        for (int b = 0; b < Resamples; b++)
        {
            double sum = 0;
            for (int i = 0; i < values.Length; i++)
            {
                sum += values[rng.Next(values.Length)];
            }

            means[b] = sum / values.Length;
        }

        Array.Sort(means);
        double tail = (1 - Confidence) / 2;
        int low = (int)Math.Floor(tail * Resamples);
        int high = (int)Math.Ceiling((1 - tail) * Resamples) - 1;
        return new Interval(estimate, means[low], means[high], values.Length);
    }

    private static double Positive(double value, string name, int round) =>
        double.IsFinite(value) && value > 0
            ? value
            : throw new ArgumentException($"round {round}'s value is {value}; a ratio needs positive finite values", name);
}

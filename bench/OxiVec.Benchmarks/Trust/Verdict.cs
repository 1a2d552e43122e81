namespace OxiVec.Benchmarks.Trust;

/// <summary>Whether a target is met, judged by a confidence interval rather than a median.</summary>
internal enum Verdict
{
    /// <summary>The whole interval lies on the target's good side.</summary>
    Met,

    /// <summary>The whole interval lies on the target's wrong side.</summary>
    NotMet,

    /// <summary>The interval contains the target, or it rests on fewer than two rounds.</summary>
    Inconclusive,
}

/// <summary>
/// Judges targets: "met" only when the 95 % interval lies entirely on the right side of the target, "not met" only
/// when it lies entirely on the wrong side, "inconclusive" otherwise. A single round has no interval, so it is
/// always inconclusive.
/// </summary>
internal static class Verdicts
{
    /// <summary>Rounds needed before a verdict can be anything but inconclusive.</summary>
    public const int MinimumRounds = 2;

    /// <summary>A ceiling: met when the interval's upper end is at or below <paramref name="target"/>.</summary>
    public static Verdict AtMost(Interval interval, double target)
    {
        ArgumentNullException.ThrowIfNull(interval);
        return interval.Rounds < MinimumRounds ? Verdict.Inconclusive
            : interval.High <= target ? Verdict.Met
            : interval.Low > target ? Verdict.NotMet
            : Verdict.Inconclusive;
    }

    /// <summary>A floor: met when the interval's lower end is at or above <paramref name="target"/>.</summary>
    public static Verdict AtLeast(Interval interval, double target)
    {
        ArgumentNullException.ThrowIfNull(interval);
        return interval.Rounds < MinimumRounds ? Verdict.Inconclusive
            : interval.Low >= target ? Verdict.Met
            : interval.High < target ? Verdict.NotMet
            : Verdict.Inconclusive;
    }

    /// <summary>The verdict in bold, as reports print it; an inconclusive single round says why.</summary>
    public static string Markdown(Verdict verdict, Interval interval)
    {
        ArgumentNullException.ThrowIfNull(interval);
        return verdict switch
        {
            Verdict.Met => "**met**",
            Verdict.NotMet => "**not met**",
            _ when interval.Rounds < MinimumRounds => "**inconclusive** (1 round: no interval)",
            _ => "**inconclusive**",
        };
    }

    /// <summary>The verdict as plain words (for tables that carry no markdown emphasis).</summary>
    public static string Words(Verdict verdict) => verdict switch
    {
        Verdict.Met => "met",
        Verdict.NotMet => "not met",
        _ => "inconclusive",
    };
}

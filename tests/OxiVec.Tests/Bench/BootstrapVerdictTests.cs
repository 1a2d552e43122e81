using OxiVec.Benchmarks.Trust;

namespace OxiVec.Tests.Bench;

public class BootstrapVerdictTests
{
    // Five rounds whose median overhead (2.9 %) is under a 3 % target while single rounds range from -1 % to 8 %:
    // the median rule called this "met" (and an unchanged cell flipped with noise); the interval must not.
    private static readonly double[] NoisyBaseline = [1000, 1000, 1000, 1000, 1000];
    private static readonly double[] NoisyCandidate = [990, 971, 1010, 920, 975];

    [Fact]
    public void PairedRatio_SameInputTwice_GivesTheSameInterval()
    {
        Interval a = Bootstrap.PairedRatio(NoisyCandidate, NoisyBaseline);
        Interval b = Bootstrap.PairedRatio(NoisyCandidate, NoisyBaseline);
        Assert.Equal(a, b);
    }

    [Fact]
    public void PairedRatio_ContainsItsEstimateAndLiesWithinTheRoundsRatios()
    {
        Interval i = Bootstrap.PairedRatio(NoisyCandidate, NoisyBaseline);
        Assert.InRange(i.Estimate, i.Low, i.High);
        Assert.InRange(i.Low, 0.92, i.High);
        Assert.InRange(i.High, i.Low, 1.01);
        Assert.True(i.High > i.Low, "noisy rounds give an interval of positive width");
        Assert.Equal(5, i.Rounds);
    }

    [Fact]
    public void PairedRatio_EveryRoundTheSameRatio_IsThatRatioExactly()
    {
        Interval i = Bootstrap.PairedRatio([50, 100, 200], [100, 200, 400]);
        Assert.Equal(0.5, i.Estimate, 12);
        Assert.Equal(0.5, i.Low, 12);
        Assert.Equal(0.5, i.High, 12);
    }

    [Fact]
    public void PairedRatio_PairsByRound_DriftSharedByBothSidesCancels()
    {
        // The machine slows down 3x over the rounds, both sides alike: unpaired medians would be noise, the
        // paired ratio is exactly 0.9.
        Interval i = Bootstrap.PairedRatio([900, 600, 300], [1000, 666.6666666666666, 333.3333333333333]);
        Assert.Equal(0.9, i.Low, 9);
        Assert.Equal(0.9, i.High, 9);
    }

    [Fact]
    public void OneMinus_TurnsARatioIntoAnOverheadWithSwappedEnds()
    {
        Interval overhead = new Interval(0.95, 0.9, 0.99, 5).OneMinus();
        Assert.Equal(0.05, overhead.Estimate, 12);
        Assert.Equal(0.01, overhead.Low, 12);
        Assert.Equal(0.1, overhead.High, 12);
    }

    [Fact]
    public void AtMost_NoisyRoundsWhoseMedianIsUnderTheTarget_IsInconclusive()
    {
        Interval overhead = Bootstrap.PairedRatio(NoisyCandidate, NoisyBaseline).OneMinus();
        Assert.True(overhead.Low < 0.03 && overhead.High > 0.03, $"interval {overhead.Low}..{overhead.High} straddles 3 %");
        Assert.Equal(Verdict.Inconclusive, Verdicts.AtMost(overhead, 0.03));
    }

    [Fact]
    public void AtMost_WholeIntervalUnderTheTarget_IsMet()
    {
        Interval overhead = Bootstrap.PairedRatio([995, 998, 996, 999, 997], NoisyBaseline).OneMinus();
        Assert.Equal(Verdict.Met, Verdicts.AtMost(overhead, 0.01));
    }

    [Fact]
    public void AtMost_WholeIntervalOverTheTarget_IsNotMet()
    {
        Interval overhead = Bootstrap.PairedRatio([120, 110, 115, 118, 112], NoisyBaseline).OneMinus();
        Assert.Equal(Verdict.NotMet, Verdicts.AtMost(overhead, 0.5));
    }

    [Fact]
    public void AtLeast_JudgesAFloorFromTheIntervalsEnds()
    {
        Assert.Equal(Verdict.Met, Verdicts.AtLeast(new Interval(3.2, 3.1, 3.3, 5), 3));
        Assert.Equal(Verdict.NotMet, Verdicts.AtLeast(new Interval(2.5, 2.4, 2.9, 5), 3));
        Assert.Equal(Verdict.Inconclusive, Verdicts.AtLeast(new Interval(3.0, 2.9, 3.1, 5), 3));
    }

    [Fact]
    public void Verdict_SingleRound_IsInconclusiveHoweverFarFromTheTarget()
    {
        Interval one = Bootstrap.PairedRatio([10], [1000]).OneMinus();
        Assert.Equal(Verdict.Inconclusive, Verdicts.AtMost(one, 0.99));
        Assert.Equal(Verdict.Inconclusive, Verdicts.AtLeast(one, 0.01));
        Assert.Contains("1 round", Verdicts.Markdown(Verdict.Inconclusive, one), StringComparison.Ordinal);
    }

    [Fact]
    public void PairedRatio_BadInput_ThrowsNamingTheRound()
    {
        Assert.Throws<ArgumentException>(() => Bootstrap.PairedRatio([1, 2], [1]));
        Assert.Throws<ArgumentException>(() => Bootstrap.PairedRatio([], []));
        ArgumentException e = Assert.Throws<ArgumentException>(() => Bootstrap.PairedRatio([1, 0], [1, 1]));
        Assert.Contains("round 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mean_OfOneSample_BracketsItsMean()
    {
        Interval i = Bootstrap.Mean([3300, 3400, 3500, 5100, 3450]);
        Assert.Equal(3750, i.Estimate, 9);
        Assert.InRange(i.Low, 3300, 3750);
        Assert.InRange(i.High, 3750, 5100);
        Assert.Equal(Verdict.Met, Verdicts.AtMost(i, 10_000));
    }
}

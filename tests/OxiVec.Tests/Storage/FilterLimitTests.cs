using System.Text;
using CsCheck;
using OxiVec.Storage;

namespace OxiVec.Tests.Storage;

/// <summary>Hostile and edge-case filters: bounded depth, length and terms; n-ary and/or; field names; exact numbers.</summary>
public sealed class FilterLimitTests
{
    private static readonly Dictionary<string, MetadataValue> One = new() { ["a"] = 1L };

    private static string Repeat(string s, int n) => new StringBuilder(s.Length * n).Insert(0, s, n).ToString();

    private static void AssertLimitError(string expression, string limit)
    {
        var ex = Assert.Throws<FormatException>(() => MetadataFilter.Parse(expression));
        Assert.Contains(limit, ex.Message, StringComparison.Ordinal);
        Assert.Contains("position", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Length < 1_000, "the message quotes a bounded prefix of the filter");
    }

    [Fact]
    public void DeepestAllowedParentheses_Parse_AndOneMoreLevelIsAClearError()
    {
        int max = MetadataFilter.MaxDepth;
        Assert.True(MetadataFilter.Parse(Repeat("(", max) + "a = 1" + Repeat(")", max)).Matches(One));
        AssertLimitError(Repeat("(", max + 1) + "a = 1" + Repeat(")", max + 1), "MetadataFilter.MaxDepth");
    }

    [Fact]
    public void TensOfThousandsOfNestedParentheses_AreAClearErrorNotAStackOverflow()
    {
        AssertLimitError(Repeat("(", 30_000) + "a = 1" + Repeat(")", 30_000), "MetadataFilter.MaxDepth"); // 60 KB
        AssertLimitError(Repeat("(", 60_000) + "a = 1" + Repeat(")", 60_000), "MetadataFilter.MaxLength"); // 120 KB
    }

    [Fact]
    public void DeepestAllowedNesting_OfNotAndAlternatingAndOr_Evaluates_AndOneMoreLevelIsAClearError()
    {
        int max = MetadataFilter.MaxDepth;
        MetadataFilter nots = MetadataFilter.Parse(Repeat("not ", max - 1) + "a = 1"); // depth: max - 1 nots over a comparison
        Assert.Equal(max, nots.Depth);
        Assert.Equal((max - 1) % 2 == 0, nots.Matches(One));
        AssertLimitError(Repeat("not ", max) + "a = 1", "MetadataFilter.MaxDepth");

        // a = 1 and (a = 1 or (a = 1 and (...))): each parenthesis adds an and/or level.
        string Alternating(int levels)
        {
            var text = new StringBuilder();
            for (int i = 0; i < levels; i++)
            {
                text.Append(i % 2 == 0 ? "a = 1 and (" : "a = 2 or (");
            }

            return text.Append("a = 1").Append(')', levels).ToString();
        }

        Assert.True(MetadataFilter.Parse(Alternating(max - 2)).Matches(One));
        AssertLimitError(Alternating(max), "MetadataFilter.MaxDepth");
    }

    [Fact]
    public void LongestAllowedText_Parses_AndOneCharacterMoreIsAClearError()
    {
        string prefix = "a = 1 or b = \"";
        string longest = prefix + new string('x', MetadataFilter.MaxLength - prefix.Length - 1) + "\"";
        Assert.Equal(MetadataFilter.MaxLength, longest.Length);
        Assert.True(MetadataFilter.Parse(longest).Matches(One));
        AssertLimitError(longest + " ", "MetadataFilter.MaxLength");
    }

    [Fact]
    public void MostTermsAllowed_ParseAndEvaluate_AndOneMoreTermIsAClearError()
    {
        int max = MetadataFilter.MaxTerms;
        string terms = string.Join(" or ", Enumerable.Repeat("a = 2", max - 1)) + " or a = 1";
        Assert.True(MetadataFilter.Parse(terms).Matches(One));
        Assert.True(MetadataFilter.Parse("a in [" + string.Join(",", Enumerable.Repeat("2", max - 1)) + ",1]").Matches(One));
        AssertLimitError(terms + " or a = 3", "MetadataFilter.MaxTerms");
        AssertLimitError("a in [" + string.Join(",", Enumerable.Repeat("2", max + 1)) + "]", "MetadataFilter.MaxTerms");
    }

    [Fact]
    public void HundredThousandTermAndOrBuiltInCode_EvaluateWithoutDeepRecursion_AndBinaryChainsAreFlattened()
    {
        MetadataFilter or = MetadataFilter.Or([.. Enumerable.Repeat(MetadataFilter.Equal("a", 2L), 100_000)]);
        MetadataFilter and = MetadataFilter.And([.. Enumerable.Repeat(MetadataFilter.Equal("a", 1L), 100_000)]);
        Assert.False(or.Matches(One));
        Assert.True(and.Matches(One));

        MetadataFilter chain = MetadataFilter.Equal("a", 1L);
        for (int i = 0; i < 2_000; i++)
        {
            chain = MetadataFilter.And(chain, MetadataFilter.Equal("a", 1L));
        }

        Assert.Equal(2, chain.Depth);
        Assert.Equal(2_001, Assert.IsType<MetadataFilter.AndFilter>(chain).Operands.Count);
        Assert.Equal(2, MetadataFilter.Or(MetadataFilter.Or(or, or), or).Depth);
    }

    [Fact]
    public void NestingBeyondMaxDepthInCode_IsRefusedWithTheLimitNamed()
    {
        MetadataFilter filter = MetadataFilter.Equal("a", 1L);
        for (int i = 1; i < MetadataFilter.MaxDepth; i++)
        {
            filter = MetadataFilter.Not(filter);
        }

        var ex = Assert.Throws<ArgumentException>(() => MetadataFilter.Not(filter));
        Assert.Contains("MetadataFilter.MaxDepth", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-archived = true", false)] // a field, not "not (-archived = true)"
    [InlineData("not not-archived = true", true)]
    [InlineData("and.x = 1 and or-y = 2", true)]
    [InlineData("in.z in [3]", true)]
    [InlineData("-archived = true", false)]
    public void KeywordsFollowedByFieldCharacters_AreFieldNames(string expression, bool expected)
    {
        var metadata = new Dictionary<string, MetadataValue>
        {
            ["not-archived"] = false,
            ["archived"] = true,
            ["and.x"] = 1L,
            ["or-y"] = 2L,
            ["in.z"] = 3L,
        };

        Assert.Equal(expected, MetadataFilter.Parse(expression).Matches(metadata));
    }

    [Theory]
    [InlineData("big = 9007199254740992.0", false)] // 2^53 + 1 is not 2^53, although (double)(2^53 + 1) is
    [InlineData("big != 9007199254740992.0", true)]
    [InlineData("big > 9007199254740992.0", true)]
    [InlineData("big >= 9007199254740994.0", false)]
    [InlineData("big < 9007199254740994.0", true)]
    [InlineData("max = 9223372036854775807.0", false)] // the double is 2^63, above every long
    [InlineData("max < 9223372036854775807.0", true)]
    [InlineData("min = -9223372036854775808.0", true)]
    [InlineData("three = 3.0", true)]
    [InlineData("three < 3.5", true)]
    [InlineData("three > 2.5", true)]
    [InlineData("neg > -3.5", true)]
    [InlineData("neg < -2.5", true)]
    [InlineData("half > 0", true)]
    [InlineData("half < 1", true)]
    public void LongsAndDoubles_CompareExactly(string expression, bool expected)
    {
        var metadata = new Dictionary<string, MetadataValue>
        {
            ["big"] = 9_007_199_254_740_993L,
            ["max"] = long.MaxValue,
            ["min"] = long.MinValue,
            ["three"] = 3L,
            ["neg"] = -3L,
            ["half"] = 0.5,
        };

        Assert.Equal(expected, MetadataFilter.Parse(expression).Matches(metadata));
    }

    [Theory]
    [InlineData("name != 5", false)] // a string is not compared with a number: false, as the docs say
    [InlineData("group != 'x'", false)]
    [InlineData("done != 1", false)]
    [InlineData("tags != 5", false)]
    [InlineData("missing != 5", true)] // a missing field is not equal to anything
    [InlineData("name != 'beta'", true)]
    public void NotEqual_AcrossTypes_IsFalse_AsDocumented(string expression, bool expected)
    {
        var metadata = new Dictionary<string, MetadataValue>
        {
            ["name"] = "alpha",
            ["group"] = 3L,
            ["done"] = false,
            ["tags"] = new[] { "red" },
        };

        Assert.Equal(expected, MetadataFilter.Parse(expression).Matches(metadata));
    }

    private abstract record Expr;

    private sealed record Leaf(string Field, FilterOperator Op, long Value) : Expr;

    private sealed record AndE(Expr Left, Expr Right) : Expr;

    private sealed record OrE(Expr Left, Expr Right) : Expr;

    private sealed record NotE(Expr Inner) : Expr;

    private static readonly string[] Fields = ["a", "b", "c"];

    private static readonly Gen<Expr> AnyExpr = Gen.Recursive<Expr>((depth, self) =>
    {
        Gen<Expr> leaf = Gen.Select(Gen.Int[0, 2], Gen.Enum<FilterOperator>(), Gen.Long[0, 3], (f, op, v) => (Expr)new Leaf(Fields[f], op, v));
        return depth >= 8
            ? leaf
            : Gen.Frequency(
                (3, leaf),
                (2, Gen.Select(self, self, (l, r) => (Expr)new AndE(l, r))),
                (2, Gen.Select(self, self, (l, r) => (Expr)new OrE(l, r))),
                (1, self.Select(x => (Expr)new NotE(x))));
    });

    // Each field is 0..3 or absent (4).
    private static readonly Gen<int[]> AnyRecord = Gen.Int[0, 4].Array[3];

    private static bool Reference(Expr e, int[] record) => e switch
    {
        Leaf l => record[Array.IndexOf(Fields, l.Field)] is var v && v == 4
            ? l.Op == FilterOperator.NotEqual
            : l.Op switch
            {
                FilterOperator.Equal => v == l.Value,
                FilterOperator.NotEqual => v != l.Value,
                FilterOperator.LessThan => v < l.Value,
                FilterOperator.LessThanOrEqual => v <= l.Value,
                FilterOperator.GreaterThan => v > l.Value,
                _ => v >= l.Value,
            },
        AndE a => Reference(a.Left, record) && Reference(a.Right, record),
        OrE o => Reference(o.Left, record) || Reference(o.Right, record),
        NotE n => !Reference(n.Inner, record),
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    };

    private static MetadataFilter Build(Expr e) => e switch
    {
        Leaf l => MetadataFilter.Compare(l.Field, l.Op, l.Value),
        AndE a => MetadataFilter.And(Build(a.Left), Build(a.Right)),
        OrE o => MetadataFilter.Or(Build(o.Left), Build(o.Right)),
        NotE n => MetadataFilter.Not(Build(n.Inner)),
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    };

    private static string Text(Expr e) => e switch
    {
        Leaf l => $"{l.Field} {l.Op switch
        {
            FilterOperator.Equal => "=",
            FilterOperator.NotEqual => "!=",
            FilterOperator.LessThan => "<",
            FilterOperator.LessThanOrEqual => "<=",
            FilterOperator.GreaterThan => ">",
            _ => ">=",
        }} {l.Value}",
        AndE a => $"({Text(a.Left)}) and ({Text(a.Right)})",
        OrE o => $"({Text(o.Left)}) || ({Text(o.Right)})",
        NotE n => $"not ({Text(n.Inner)})",
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    };

    [Fact]
    public void NaryEvaluation_OfBuiltAndParsedFilters_EqualsABinaryReferenceEvaluation()
    {
        Gen.Select(AnyExpr, AnyRecord.Array[1, 8]).Sample((expr, records) =>
        {
            MetadataFilter built = Build(expr);
            MetadataFilter parsed = MetadataFilter.Parse(Text(expr));
            foreach (int[] record in records)
            {
                var metadata = new Dictionary<string, MetadataValue>();
                for (int f = 0; f < Fields.Length; f++)
                {
                    if (record[f] != 4)
                    {
                        metadata[Fields[f]] = (long)record[f];
                    }
                }

                bool expected = Reference(expr, record);
                if (built.Matches(metadata) != expected || parsed.Matches(metadata) != expected)
                {
                    return false;
                }
            }

            return true;
        }, iter: 2_000);
    }
}

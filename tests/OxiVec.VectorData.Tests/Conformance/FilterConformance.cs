using System.Linq.Expressions;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>
/// Every filter operator, null checks, list membership, captured values and injection-like strings, checked through
/// both filtered get and filtered search (which must agree), and the refusal of expressions OxiVec cannot translate.
/// </summary>
public abstract class FilterConformance(BackendFixture fixture)
{
    private static readonly DateTimeOffset January = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly int _threshold = 3; // read through "this" by a filter

    protected BackendFixture Fixture { get; } = fixture;

    private static FilterRecord[] Records() =>
    [
        new() { Id = 1, Int = 1, Long = 10, Double = 1.5, String = "apple", Bool = true, When = January, StringArray = ["red", "green"], StringList = ["x"], IntArray = [1, 2], Vector = new float[] { 1, 0, 0 } },
        new() { Id = 2, Int = 2, Long = 20, Double = 2.5, String = "banana", Bool = false, When = new DateTimeOffset(2024, 2, 1, 0, 0, 0, TimeSpan.FromHours(2)), StringArray = ["green"], StringList = ["y"], IntArray = [2, 3], Vector = new float[] { 0, 1, 0 } },
        new() { Id = 3, Int = 3, Long = 30, Double = 3.5, String = null, Bool = true, When = January.AddMonths(2), StringArray = [], StringList = [], IntArray = [], Vector = new float[] { 0, 0, 1 } },
        new() { Id = 4, Int = 4, Long = 9_007_199_254_740_993, Double = -1, String = "' OR 1=1 --", Bool = false, When = January.AddMonths(3), StringArray = ["blue"], StringList = ["x", "y"], IntArray = [4], Vector = new float[] { 1, 1, 0 } },
        new() { Id = 5, Int = 5, Long = 50, Double = 0, String = "a\"b\\c", Bool = true, When = January.AddMonths(4), StringArray = ["red"], StringList = ["z"], IntArray = [5, 1], Vector = new float[] { 1, 1, 1 } },
    ];

    /// <summary>Asserts that exactly the records <paramref name="ids"/> match <paramref name="filter"/>.</summary>
    private async Task ExpectAsync(Expression<Func<FilterRecord, bool>> filter, params int[] ids) =>
        Assert.Equal(ids, await MatchesAsync(filter));

    /// <summary>The ids matching <paramref name="filter"/>, asserting that filtered get and filtered search agree.</summary>
    private async Task<int[]> MatchesAsync(Expression<Func<FilterRecord, bool>> filter)
    {
        var collection = Fixture.CreateStore().GetCollection<int, FilterRecord>(Fixture.NewCollectionName("filter"));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Records());

        int[] byGet = [.. (await collection.GetAsync(filter, top: 100).ToListAsync()).Select(r => r.Id).Order()];
        int[] bySearch = [.. (await collection.SearchAsync(new float[] { 0, 0, 0 }, top: 100, new() { Filter = filter }).ToListAsync()).Select(r => r.Record.Id).Order()];
        Assert.Equal(byGet, bySearch);
        return byGet;
    }

    [Fact] public async Task Equal_Int() => await ExpectAsync(r => r.Int == 2, 2);
    [Fact] public async Task Equal_ValueOnTheLeft() => await ExpectAsync(r => 2 == r.Int, 2);
    [Fact] public async Task NotEqual_Int() => await ExpectAsync(r => r.Int != 2, 1, 3, 4, 5);
    [Fact] public async Task LessThan() => await ExpectAsync(r => r.Int < 3, 1, 2);
    [Fact] public async Task LessThanOrEqual() => await ExpectAsync(r => r.Int <= 3, 1, 2, 3);
    [Fact] public async Task GreaterThan() => await ExpectAsync(r => r.Int > 3, 4, 5);
    [Fact] public async Task GreaterThanOrEqual() => await ExpectAsync(r => r.Int >= 3, 3, 4, 5);
    [Fact] public async Task GreaterThan_ValueOnTheLeft() => await ExpectAsync(r => 3 > r.Int, 1, 2);
    [Fact] public async Task Long_BeyondDoublePrecision_ComparesExactly() => await ExpectAsync(r => r.Long == 9_007_199_254_740_993, 4);
    [Fact] public async Task Long_NeighbourBeyondDoublePrecision_DoesNotMatch() => await ExpectAsync(r => r.Long == 9_007_199_254_740_992);
    [Fact] public async Task Double_Range() => await ExpectAsync(r => r.Double > 1 && r.Double <= 3.5, 1, 2, 3);
    [Fact] public async Task Equal_String() => await ExpectAsync(r => r.String == "banana", 2);
    [Fact] public async Task NotEqual_String_MatchesNullsAsCSharpDoes() => await ExpectAsync(r => r.String != "banana", 1, 3, 4, 5);
    [Fact] public async Task Equal_Null() => await ExpectAsync(r => r.String == null, 3);
    [Fact] public async Task NotEqual_Null() => await ExpectAsync(r => r.String != null, 1, 2, 4, 5);
    [Fact] public async Task Bool_Alone() => await ExpectAsync(r => r.Bool, 1, 3, 5);
    [Fact] public async Task Bool_Negated() => await ExpectAsync(r => !r.Bool, 2, 4);
    [Fact] public async Task Bool_EqualFalse() => await ExpectAsync(r => r.Bool == false, 2, 4);
    [Fact] public async Task And() => await ExpectAsync(r => r.Int > 1 && r.Bool, 3, 5);
    [Fact] public async Task Or() => await ExpectAsync(r => r.Int == 1 || r.String == "banana", 1, 2);
    [Fact] public async Task Not() => await ExpectAsync(r => !(r.Int > 2), 1, 2);
    [Fact] public async Task Nested_AndOrNot() => await ExpectAsync(r => (r.Int == 1 || r.Int == 2) && !r.Bool, 2);
    [Fact] public async Task Constant_True_MatchesAll() => await ExpectAsync(r => true, 1, 2, 3, 4, 5);
    [Fact] public async Task Constant_False_MatchesNone() => await ExpectAsync(r => false);

    [Fact]
    public async Task DateTimeOffset_Range_ComparesInstantsAcrossOffsets() =>
        await ExpectAsync(r => r.When >= new DateTimeOffset(2024, 2, 1, 0, 0, 0, TimeSpan.Zero), 3, 4, 5); // record 2 is 2024-01-31 22:00 UTC

    [Fact]
    public async Task DateTimeOffset_Equal_MatchesTheSameInstantInAnotherOffset() =>
        await ExpectAsync(r => r.When == new DateTimeOffset(2024, 1, 31, 22, 0, 0, TimeSpan.Zero), 2);

    [Fact] public async Task Contains_OnAStringArrayProperty() => await ExpectAsync(r => r.StringArray.Contains("green"), 1, 2);
    [Fact] public async Task Contains_OnAStringListProperty() => await ExpectAsync(r => r.StringList.Contains("x"), 1, 4);
    [Fact] public async Task Contains_OnAnIntArrayProperty() => await ExpectAsync(r => r.IntArray.Contains(1), 1, 5);
    [Fact] public async Task Contains_Negated() => await ExpectAsync(r => !r.StringArray.Contains("green"), 3, 4, 5);

    [Fact]
    public async Task Contains_OnACapturedArray()
    {
        string[] names = ["apple", "banana"];
        await ExpectAsync(r => names.Contains(r.String), 1, 2);
    }

    [Fact]
    public async Task Contains_OnACapturedList()
    {
        List<int> ints = [1, 5];
        await ExpectAsync(r => ints.Contains(r.Int), 1, 5);
    }

    [Fact] public async Task Contains_OnAnInlineArray() => await ExpectAsync(r => new[] { 3, 4 }.Contains(r.Int), 3, 4);

    [Fact]
    public async Task Contains_OnAnEmptyArray_MatchesNone()
    {
        int[] none = [];
        await ExpectAsync(r => none.Contains(r.Int));
    }

    [Fact]
    public async Task Any_WithContains_MatchesRecordsSharingAnItem()
    {
        string[] wanted = ["blue", "red"];
        await ExpectAsync(r => r.StringArray.Any(t => wanted.Contains(t)), 1, 4, 5);
    }

    [Fact]
    public async Task CapturedVariable()
    {
        int x = 4;
        await ExpectAsync(r => r.Int == x, 4);
    }

    [Fact]
    public async Task MemberOfACapturedObject()
    {
        var bounds = new Bounds { Low = 2 };
        await ExpectAsync(r => r.Int > bounds.Low, 3, 4, 5);
    }

    [Fact] public async Task MemberOfThis() => await ExpectAsync(r => r.Int > _threshold, 4, 5);

    [Fact] public async Task InjectionLikeString_MatchesOnlyItself() => await ExpectAsync(r => r.String == "' OR 1=1 --", 4);
    [Fact] public async Task QuotesAndBackslashes_MatchOnlyThemselves() => await ExpectAsync(r => r.String == "a\"b\\c", 5);
    [Fact] public async Task InjectionLikeString_MatchesNothingElse() => await ExpectAsync(r => r.String == "apple' OR '1'='1");
    [Fact] public async Task InjectionLikeItem_InContains_MatchesNothing() => await ExpectAsync(r => r.StringArray.Contains("red\" or 1=1 or \""));

    [Fact] public async Task Key_Equal() => await ExpectAsync(r => r.Id == 3, 3);
    [Fact] public async Task Key_NotEqual() => await ExpectAsync(r => r.Id != 3, 1, 2, 4, 5);
    [Fact] public async Task Key_InCapturedArray() => await ExpectAsync(r => new[] { 1, 2, 9 }.Contains(r.Id), 1, 2);

    [Fact] public async Task StorageName_IsUsedForTheField() => await ExpectAsync(r => r.Int == 5 && r.Long == 50, 5); // Int is stored as "int_field"

    [Fact]
    public async Task StorageName_NamesTheStoredField()
    {
        string name = Fixture.NewCollectionName("filter");
        var collection = Fixture.CreateStore().GetCollection<int, FilterRecord>(name);
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(Records()[0]);

        var stored = Assert.Single(await Fixture.Backend.GetAsync(name, ["1"], includeVectors: false));

        Assert.Equal(1L, stored.Metadata["int_field"].AsLong);
        Assert.False(stored.Metadata.ContainsKey("Int"));
    }

    [Fact]
    public async Task UnsupportedMethod_ThrowsNotSupportedNamingTheExpression()
    {
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => MatchesAsync(r => r.String!.StartsWith('a')));
        Assert.Contains("StartsWith", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Arithmetic_ThrowsNotSupportedNamingTheExpression()
    {
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => MatchesAsync(r => r.Int + 1 == 3));
        Assert.Contains("(r.Int + 1)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ComparingTwoProperties_ThrowsNotSupported() =>
        await Assert.ThrowsAsync<NotSupportedException>(() => MatchesAsync(r => r.Int == r.Long));

    [Fact]
    public async Task KeyRange_ThrowsNotSupported() =>
        await Assert.ThrowsAsync<NotSupportedException>(() => MatchesAsync(r => r.Id > 2));

    private sealed class Bounds
    {
        public int Low { get; init; }
    }
}

using Microsoft.Extensions.VectorData;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Conformance;

/// <summary>Every supported data type round-trips exactly (nulls included) and filters with its natural order.</summary>
public abstract class DataTypeConformance(BackendFixture fixture)
{
    private static readonly DateTime Utc = new(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc);
    private static readonly DateTimeOffset Instant = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    protected BackendFixture Fixture { get; } = fixture;

    private static AllTypesRecord Full(string id) => new()
    {
        Id = id,
        String = "text ✓",
        Bool = true,
        Int = int.MinValue,
        Long = long.MaxValue,
        Float = 3.14159f,
        Double = Math.PI,
        Decimal = 12.75m,
        DateTime = Utc.AddTicks(1234567),
        DateTimeOffset = Instant.AddTicks(7654321),
        Guid = new Guid("0f8fad5b-d9cb-469f-a165-70867728950e"),
        NullableString = "n",
        NullableBool = false,
        NullableInt = 7,
        NullableLong = -7,
        NullableFloat = 1.5f,
        NullableDouble = -2.25,
        NullableDecimal = 0.5m,
        NullableDateTime = Utc,
        NullableDateTimeOffset = Instant,
        NullableGuid = Guid.Empty,
        StringArray = ["a", "b"],
        BoolArray = [true, false],
        IntArray = [1, -2],
        LongArray = [long.MinValue, 0],
        FloatArray = [0.1f, 0.2f],
        DoubleArray = [0.1, double.MaxValue],
        DecimalArray = [1.5m, -2.25m],
        DateTimeArray = [Utc, Utc.AddDays(1)],
        DateTimeOffsetArray = [Instant, Instant.AddYears(-30)],
        GuidArray = [new Guid("6f9619ff-8b86-d011-b42d-00c04fc964ff")],
        StringList = ["x"],
        IntList = [3, 4],
        DoubleList = [1e-300],
        NullableIntArray = [1, null, 3],
        NullableStringArray = ["s", null!],
        Vector = new float[] { 1, 2 },
    };

    private async Task<OxiVecCollection<string, AllTypesRecord>> CollectionAsync(params AllTypesRecord[] records)
    {
        var collection = Fixture.CreateStore().GetCollection<string, AllTypesRecord>(Fixture.NewCollectionName("types"));
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(records);
        return collection;
    }

    [Fact]
    public async Task EveryType_RoundTripsExactly()
    {
        AllTypesRecord written = Full("full");
        var collection = await CollectionAsync(written);

        AllTypesRecord read = (await collection.GetAsync("full", new RecordRetrievalOptions { IncludeVectors = true }))!;

        Assert.Equal(written.String, read.String);
        Assert.Equal(written.Bool, read.Bool);
        Assert.Equal(written.Int, read.Int);
        Assert.Equal(written.Long, read.Long);
        Assert.Equal(written.Float, read.Float);
        Assert.Equal(written.Double, read.Double);
        Assert.Equal(written.Decimal, read.Decimal);
        Assert.Equal(written.DateTime, read.DateTime);
        Assert.Equal(DateTimeKind.Utc, read.DateTime.Kind);
        Assert.Equal(written.DateTimeOffset, read.DateTimeOffset);
        Assert.Equal(written.Guid, read.Guid);
        Assert.Equal(written.NullableString, read.NullableString);
        Assert.Equal(written.NullableBool, read.NullableBool);
        Assert.Equal(written.NullableInt, read.NullableInt);
        Assert.Equal(written.NullableLong, read.NullableLong);
        Assert.Equal(written.NullableFloat, read.NullableFloat);
        Assert.Equal(written.NullableDouble, read.NullableDouble);
        Assert.Equal(written.NullableDecimal, read.NullableDecimal);
        Assert.Equal(written.NullableDateTime, read.NullableDateTime);
        Assert.Equal(written.NullableDateTimeOffset, read.NullableDateTimeOffset);
        Assert.Equal(written.NullableGuid, read.NullableGuid);
        Assert.Equal(written.StringArray, read.StringArray);
        Assert.Equal(written.BoolArray, read.BoolArray);
        Assert.Equal(written.IntArray, read.IntArray);
        Assert.Equal(written.LongArray, read.LongArray);
        Assert.Equal(written.FloatArray, read.FloatArray);
        Assert.Equal(written.DoubleArray, read.DoubleArray);
        Assert.Equal(written.DecimalArray, read.DecimalArray);
        Assert.Equal(written.DateTimeArray, read.DateTimeArray);
        Assert.Equal(written.DateTimeOffsetArray, read.DateTimeOffsetArray);
        Assert.Equal(written.GuidArray, read.GuidArray);
        Assert.Equal(written.StringList, read.StringList);
        Assert.Equal(written.IntList, read.IntList);
        Assert.Equal(written.DoubleList, read.DoubleList);
        Assert.Equal(written.NullableIntArray, read.NullableIntArray);
        Assert.Equal(written.NullableStringArray, read.NullableStringArray);
        Assert.Equal([1f, 2f], read.Vector.ToArray());
    }

    [Fact]
    public async Task Nulls_AndEmptyArrays_RoundTrip()
    {
        var written = new AllTypesRecord { Id = "empty", Vector = new float[] { 0, 0 } };
        var collection = await CollectionAsync(written);

        AllTypesRecord read = (await collection.GetAsync("empty"))!;

        Assert.Null(read.NullableString);
        Assert.Null(read.NullableInt);
        Assert.Null(read.NullableDecimal);
        Assert.Null(read.NullableDateTimeOffset);
        Assert.Null(read.NullableGuid);
        Assert.Null(read.NullableStringArray);
        Assert.Empty(read.IntArray);
        Assert.Empty(read.StringList);
        Assert.Equal("", read.String);
    }

    [Fact]
    public async Task LocalDateTime_IsStoredAsItsUtcInstant()
    {
        var local = new DateTime(2025, 6, 1, 12, 0, 0, DateTimeKind.Local);
        var record = Full("local");
        record.DateTime = local;
        var collection = await CollectionAsync(record);

        AllTypesRecord read = (await collection.GetAsync("local"))!;

        Assert.Equal(local.ToUniversalTime(), read.DateTime);
    }

    [Fact]
    public async Task DateTimeOffset_WithAnOffset_ReadsBackAsTheSameInstantInUtc()
    {
        var record = Full("offset");
        record.DateTimeOffset = new DateTimeOffset(2025, 1, 1, 10, 0, 0, TimeSpan.FromHours(5));
        var collection = await CollectionAsync(record);

        AllTypesRecord read = (await collection.GetAsync("offset"))!;

        Assert.Equal(record.DateTimeOffset, read.DateTimeOffset); // equal instants
        Assert.Equal(TimeSpan.Zero, read.DateTimeOffset.Offset);
    }

    [Fact]
    public async Task Decimal_WithoutAnExactDouble_IsRefusedNamingTheProperty_AndNothingIsWritten()
    {
        var record = Full("decimal");
        record.Decimal = 1.2345678901234567890123m;
        var collection = await CollectionAsync();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => collection.UpsertAsync([Full("fine"), record]));

        Assert.Contains("Decimal", error.Message, StringComparison.Ordinal);
        Assert.Null(await collection.GetAsync("fine"));
    }

    [Fact]
    public async Task NaN_IsRefusedNamingTheProperty()
    {
        var record = Full("nan");
        record.Double = double.NaN;
        var collection = await CollectionAsync();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => collection.UpsertAsync(record));

        Assert.Contains("'Double'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filters_OnEachScalarType_MatchByValueAndOrder()
    {
        AllTypesRecord early = Full("early"), late = Full("late");
        late.Int = 5;
        late.Float = 9.5f;
        late.Decimal = 99.5m;
        late.DateTime = Utc.AddYears(1);
        late.DateTimeOffset = Instant.AddYears(1);
        late.Guid = new Guid("11111111-2222-3333-4444-555555555555");
        late.NullableInt = null;
        var collection = await CollectionAsync(early, late);

        async Task<string[]> Ids(System.Linq.Expressions.Expression<Func<AllTypesRecord, bool>> filter) =>
            [.. (await collection.GetAsync(filter, top: 10).ToListAsync()).Select(r => r.Id).Order()];

        Assert.Equal(["late"], await Ids(r => r.Int > 0));
        Assert.Equal(["late"], await Ids(r => r.Float > 5f));
        Assert.Equal(["early"], await Ids(r => r.Float == 3.14159f));
        Assert.Equal(["late"], await Ids(r => r.Decimal > 50m));
        Assert.Equal(["early"], await Ids(r => r.Decimal == 12.75m));
        Assert.Equal(["late"], await Ids(r => r.DateTime > Utc.AddMonths(6)));
        Assert.Equal(["early"], await Ids(r => r.DateTime == Utc.AddTicks(1234567)));
        Assert.Equal(["early"], await Ids(r => r.DateTimeOffset < Instant.AddMonths(6)));
        Assert.Equal(["late"], await Ids(r => r.Guid == new Guid("11111111-2222-3333-4444-555555555555")));
        Assert.Equal(["late"], await Ids(r => r.NullableInt == null));
        Assert.Equal(["early"], await Ids(r => r.NullableInt > 0));
        Assert.Equal(["early", "late"], await Ids(r => r.Long == long.MaxValue));
        Assert.Equal(["early", "late"], await Ids(r => r.GuidArray.Contains(new Guid("6f9619ff-8b86-d011-b42d-00c04fc964ff"))));
        Assert.Equal(["early", "late"], await Ids(r => r.BoolArray.Contains(false)));
    }

    [Fact]
    public async Task ContainsOnADoubleArray_IsRefusedNamingTheExpression()
    {
        var collection = await CollectionAsync(Full("d"));

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => collection.GetAsync(r => r.DoubleArray.Contains(0.1), top: 1).ToListAsync().AsTask());

        Assert.Contains("DoubleArray", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnsupportedDataType_IsRefusedAtConstruction()
    {
        var definition = new VectorStoreCollectionDefinition
        {
            Properties = [new VectorStoreKeyProperty("Key", typeof(string)), new VectorStoreDataProperty("When", typeof(TimeSpan))],
        };

        var error = Assert.Throws<NotSupportedException>(() => Fixture.CreateStore().GetDynamicCollection(Fixture.NewCollectionName("types"), definition));

        Assert.Contains("TimeSpan", error.Message, StringComparison.Ordinal);
    }
}

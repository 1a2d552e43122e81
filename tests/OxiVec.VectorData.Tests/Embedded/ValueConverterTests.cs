using CsCheck;
using OxiVec.Storage;
using OxiVec.VectorData.Mapping;

namespace OxiVec.VectorData.Tests.Embedded;

/// <summary>
/// Properties of the stored forms of data values: they read back exactly, and OxiVec's own filter comparison of the
/// stored forms orders them as .NET orders the values (so range filters keep their meaning).
/// </summary>
public sealed class ValueConverterTests
{
    private static bool LessThanInOxiVec(MetadataValue stored, MetadataValue bound) =>
        MetadataFilter.Compare("f", FilterOperator.LessThan, bound).Matches(new Dictionary<string, MetadataValue> { ["f"] = stored });

    private static void CheckOrderAndRoundTrip<T>(Gen<T> gen)
        where T : IComparable<T>
    {
        Gen.Select(gen, gen).Sample((a, b) =>
        {
            MetadataValue sa = ValueConverter.ToStorage(a, typeof(T)), sb = ValueConverter.ToStorage(b, typeof(T));
            return Equals(ValueConverter.FromStorage(sa, typeof(T)), a) && LessThanInOxiVec(sa, sb) == (a.CompareTo(b) < 0);
        });
    }

    [Fact]
    public void DateTimeOffsets_RoundTripAndKeepTheirOrder() =>
        CheckOrderAndRoundTrip(Gen.Select(Gen.Long[DateTimeOffset.MinValue.UtcTicks + 864_000_000_000, DateTimeOffset.MaxValue.UtcTicks - 864_000_000_000], Gen.Int[-14 * 60, 14 * 60],
            (ticks, minutes) => new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(minutes))));

    [Fact]
    public void UtcDateTimes_RoundTripAndKeepTheirOrder() =>
        CheckOrderAndRoundTrip(Gen.Long[DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks].Select(t => new DateTime(t, DateTimeKind.Utc)));

    [Fact]
    public void Guids_RoundTripAndKeepTheirOrder() => CheckOrderAndRoundTrip(Gen.Guid);

    [Fact]
    public void Longs_RoundTripAndKeepTheirOrder() => CheckOrderAndRoundTrip(Gen.Long);

    [Fact]
    public void Doubles_RoundTripAndKeepTheirOrder() => CheckOrderAndRoundTrip(Gen.Double.Where(d => !double.IsNaN(d)));

    [Fact]
    public void Floats_RoundTripAndKeepTheirOrder() => CheckOrderAndRoundTrip(Gen.Float.Where(f => !float.IsNaN(f)));

    [Fact]
    public void Decimals_WithAnExactDouble_RoundTripAndKeepTheirOrder() =>
        CheckOrderAndRoundTrip(Gen.Int.Select(Gen.Int[0, 4], (n, scale) => new decimal(n) / (decimal)Math.Pow(10, scale)).Where(m => (decimal)(double)m == m));

    [Fact]
    public void Decimal_WithoutAnExactDouble_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => ValueConverter.ToStorage(0.1234567890123456789m, typeof(decimal)));

        Assert.Contains("0.1234567890123456789", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Strings_RoundTripAndKeepOrdinalOrder() =>
        Gen.Select(Gen.String, Gen.String).Sample((a, b) =>
            (string?)ValueConverter.FromStorage(ValueConverter.ToStorage(a, typeof(string)), typeof(string)) == a
            && LessThanInOxiVec(ValueConverter.ToStorage(a, typeof(string)), ValueConverter.ToStorage(b, typeof(string))) == (string.CompareOrdinal(a, b) < 0));
}

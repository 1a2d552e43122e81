using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using OxiVec.Hosting.Qdrant;

namespace OxiVec.Server.Tests.Qdrant;

/// <summary>
/// <see cref="FastSingleParser"/> reads a number exactly as <see cref="float.Parse(string, IFormatProvider)"/> does,
/// whenever it does not decline it: for floats written every way, for arbitrary decimal strings, and for the numbers
/// next to a float midpoint, where a double rounded to float could round the wrong way. Its in-place form
/// (<see cref="FastSingleParser.TryParseAt"/>, the query vector's scan) reads the same numbers the same way, and stops
/// where the number ends.
/// </summary>
public sealed class FastSingleParserTests
{
    private static readonly string[] Formats = ["R", "G9", "G6", "G3", "E8", "E2", "F6", "F1"];

    private static readonly Gen<string> Digits = Gen.Int[0, 9].Array[1, 25].Select(d => string.Concat(d));

    /// <summary>Sign, integer digits, an optional fraction, an optional exponent (with or without its sign, e or E).</summary>
    private static readonly Gen<string> Decimal = Gen.Select(
        Gen.OneOf(Gen.Const(""), Gen.Const("-")),
        Digits,
        Gen.OneOf(Gen.Const(""), Digits.Select(d => "." + d)),
        Gen.OneOf(Gen.Const(""), Gen.Select(Gen.OneOf(Gen.Const("e"), Gen.Const("E"), Gen.Const("e+"), Gen.Const("e-"), Gen.Const("E-")), Gen.Int[0, 60])
            .Select((e, n) => e + n.ToString(CultureInfo.InvariantCulture)))).Select((s, i, f, e) => s + i + f + e);

    /// <summary>
    /// Numbers whose nearest double is a float midpoint: the shortest text of the double halfway between a float and
    /// the next (that text is usually not the midpoint itself, but reads as it as a double); and odd integers of 25 bits.
    /// </summary>
    private static readonly Gen<string> NearMidpoint = Gen.OneOf(
        Gen.Float[1e-6f, 1e12f].Select(f =>
        {
            double midpoint = ((double)f + (double)MathF.BitIncrement(f)) / 2; // exact: both are doubles 2^-24 f apart
            return midpoint.ToString("R", CultureInfo.InvariantCulture);
        }),
        Gen.Long[(1L << 24) / 2, (1L << 25) / 2].Select(k => ((2 * k) + 1).ToString(CultureInfo.InvariantCulture)));

    [Fact]
    public void EveryFloat_WrittenAnyWay_ReadsAsFloatParseReadsIt() =>
        Gen.Select(Gen.Float.Where(float.IsFinite), Gen.Int[0, Formats.Length - 1])
            .Sample((f, format) => AssertSameAsFloatParse(f.ToString(Formats[format], CultureInfo.InvariantCulture)), iter: 200_000);

    [Fact]
    public void EveryDecimalString_ReadsAsFloatParseReadsIt() => Decimal.Sample(AssertSameAsFloatParse, iter: 200_000);

    [Fact]
    public void NumbersNextToAFloatMidpoint_ReadAsFloatParseReadsThem() => NearMidpoint.Sample(AssertSameAsFloatParse, iter: 100_000);

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("-0.0e5")]
    [InlineData("16777217")] // a midpoint: ties to even
    [InlineData("16777217.000000001")] // its nearest double is the midpoint; the float is above it
    [InlineData("16777216.999999999")]
    [InlineData("9007199254740993")]
    [InlineData("0.1")]
    [InlineData("-0.33333334")]
    [InlineData("3.4028235e38")]
    [InlineData("1e-45")]
    [InlineData("1e22")]
    [InlineData("1e-22")]
    [InlineData("1e23")]
    public void EdgeNumbers_ReadAsFloatParseReadsThem(string number) => AssertSameAsFloatParse(number);

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("+1")]
    [InlineData("1x")]
    [InlineData("1e99999")]
    [InlineData("12345678901234567890")]
    [InlineData("1e23")]
    [InlineData("16777217.000000001")]
    public void NumbersOutsideTheShortWay_AreDeclined(string number)
    {
        Assert.False(FastSingleParser.TryParse(Encoding.UTF8.GetBytes(number), out _), number);
        int at = 0;
        bool taken = FastSingleParser.TryParseAt(Encoding.UTF8.GetBytes(number), ref at, out _);
        Assert.True(!taken || at < number.Length, $"{number}: taken whole in place"); // "1x": the 1, the caller refuses the x
        Assert.True(taken || at == 0, $"{number}: declined but moved to {at}");
    }

    [Theory]
    [InlineData("0.5,", 3)]
    [InlineData("-12e-3]", 6)]
    [InlineData("7 ", 1)]
    [InlineData("01", 1)] // JSON's integer part ends at a leading 0: the caller sees the 1 and declines the text
    [InlineData("-0.0e5}", 6)]
    [InlineData("0.000000000000000000001", -1)] // leading zeros count towards the 19 digits in place
    [InlineData("00", 1)]
    public void InPlace_StopsWhereTheJsonNumberEnds(string text, int end)
    {
        int at = 0;
        bool taken = FastSingleParser.TryParseAt(Encoding.UTF8.GetBytes(text), ref at, out float value);
        Assert.Equal(end >= 0, taken);
        Assert.Equal(Math.Max(end, 0), at);
        if (taken)
        {
            Assert.Equal(float.Parse(text[..end], NumberStyles.Float, CultureInfo.InvariantCulture), value);
        }
    }

    /// <summary>
    /// The short way is the common way: embedding-like numbers (uniform in [-1, 1), as the server benchmark's queries),
    /// as JSON writers write them (shortest round trip), are read the short way, exactly.
    /// </summary>
    [Fact]
    public void WrittenQueryVectors_AreReadTheShortWay()
    {
        int taken = 0, total = 0;
        Gen.UInt.Select(u => (float)((u / (double)uint.MaxValue * 2) - 1)).Sample(f =>
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteNumberValue(f);
            }

            total++;
            int at = 0;
            if (FastSingleParser.TryParse(buffer.WrittenSpan, out float read) && FastSingleParser.TryParseAt(buffer.WrittenSpan, ref at, out float inPlace))
            {
                taken++;
                Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits(read));
                Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits(inPlace));
                Assert.Equal(buffer.WrittenCount, at);
            }
        }, iter: 10_000, threads: 1);
        Assert.True(taken > total * 0.99, $"{taken} of {total} taken the short way");
    }

    private static void AssertSameAsFloatParse(string number)
    {
        int at = 0;
        if (FastSingleParser.TryParseAt(Encoding.UTF8.GetBytes(number + ","), ref at, out float inPlace) && at == number.Length)
        {
            float expected = float.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.True(
                BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(inPlace),
                $"{number}: float.Parse {expected:R} (0x{BitConverter.SingleToInt32Bits(expected):X8}), in place {inPlace:R} (0x{BitConverter.SingleToInt32Bits(inPlace):X8})");
        }

        if (FastSingleParser.TryParse(Encoding.UTF8.GetBytes(number), out float fast))
        {
            float expected = float.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.True(
                BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(fast),
                $"{number}: float.Parse {expected:R} (0x{BitConverter.SingleToInt32Bits(expected):X8}), short way {fast:R} (0x{BitConverter.SingleToInt32Bits(fast):X8})");
        }
    }
}

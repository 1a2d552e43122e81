namespace OxiVec.Hosting.Qdrant;

/// <summary>
/// The short way of reading a JSON number as a <see cref="float"/>, for the numbers of a query vector: exact (the same
/// float as <see cref="float.Parse(string, IFormatProvider)"/>) for the numbers it takes, and it declines the others,
/// which the caller then reads the general way (<see cref="System.Text.Json.Utf8JsonReader.TryGetSingle"/>).
/// </summary>
/// <remarks>
/// It takes <c>-?digits[.digits][(e|E)[+-]digits]</c> with at most 19 significant digits, whose value is
/// <c>w · 10^e</c> with <c>w &lt; 2^53</c> and <c>|e| ≤ 22</c>: then <c>w</c> and <c>10^|e|</c> are exact doubles,
/// and one multiplication or division gives the double nearest the number (Clinger's fast path). Rounding that double to
/// a float gives the float nearest the number unless the double lies exactly halfway between two floats (a float
/// midpoint between the number and its nearest double would itself be a nearer double, since every float midpoint is
/// a double), so halfway doubles are declined. The values it takes lie between <c>1e-22</c> and <c>2^53 · 1e22</c>,
/// well inside the normal floats: no subnormal, no overflow.
/// </remarks>
internal static class FastSingleParser
{
    private const ulong MaxExactInteger = 1UL << 53;
    private const int MaxSignificantDigits = 19;
    private const int MaxPower = 22;

    // The low 29 bits of a double's significand that rounding to float drops; a double whose dropped bits are exactly
    // 1 then 28 zeros lies halfway between two floats.
    private const long DroppedBits = (1L << 29) - 1;
    private const long Halfway = 1L << 28;

    private static ReadOnlySpan<double> PowersOfTen =>
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>
    /// Reads <paramref name="number"/> (the UTF-8 text of a JSON number) when it is one this reader takes: true with the
    /// float nearest its value; false otherwise (the caller reads it the general way).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> number, out float value)
    {
        value = 0;
        int i = 0;
        bool negative = i < number.Length && number[i] == (byte)'-';
        if (negative)
        {
            i++;
        }

        ulong significand = 0;
        int significantDigits = 0;
        int exponent = 0;
        int integerStart = i;
        for (; i < number.Length && IsDigit(number[i]); i++)
        {
            if (!Accumulate(number[i], ref significand, ref significantDigits))
            {
                return false;
            }
        }

        if (i == integerStart)
        {
            return false;
        }

        if (i < number.Length && number[i] == (byte)'.')
        {
            int fractionStart = ++i;
            for (; i < number.Length && IsDigit(number[i]); i++)
            {
                if (!Accumulate(number[i], ref significand, ref significantDigits))
                {
                    return false;
                }

                exponent--;
            }

            if (i == fractionStart)
            {
                return false;
            }
        }

        if (i < number.Length && (number[i] | 0x20) == (byte)'e')
        {
            i++;
            bool negativeExponent = i < number.Length && number[i] == (byte)'-';
            if (i < number.Length && number[i] is (byte)'-' or (byte)'+')
            {
                i++;
            }

            int exponentStart = i;
            int written = 0;
            for (; i < number.Length && IsDigit(number[i]); i++)
            {
                written = (written * 10) + (number[i] - '0');
                if (written > 10_000)
                {
                    return false; // far outside the fast path's range either way
                }
            }

            if (i == exponentStart)
            {
                return false;
            }

            exponent += negativeExponent ? -written : written;
        }

        if (i != number.Length)
        {
            return false;
        }

        if (significand == 0)
        {
            value = negative ? -0f : 0f;
            return true;
        }

        return TryCompose(significand, exponent, negative, out value);
    }

    /// <summary>The float nearest <c>±significand · 10^exponent</c> (Clinger's fast path; see the remarks), or false outside it or halfway.</summary>
    private static bool TryCompose(ulong significand, int exponent, bool negative, out float value)
    {
        value = 0;
        if (significand > MaxExactInteger || exponent is < -MaxPower or > MaxPower)
        {
            return false;
        }

        double exact = exponent >= 0 ? significand * PowersOfTen[exponent] : significand / PowersOfTen[-exponent];
        if ((BitConverter.DoubleToInt64Bits(exact) & DroppedBits) == Halfway)
        {
            return false;
        }

        value = negative ? -(float)exact : (float)exact;
        return true;
    }

    /// <summary>
    /// Reads the JSON number that starts at <paramref name="json"/>[<paramref name="at"/>] when it is one this reader
    /// takes and is written as JSON writes numbers (<c>-?(0|[1-9]digits)[.digits][(e|E)[+-]digits]</c>): true with the
    /// float nearest its value (the same float as <see cref="TryParse"/>) and <paramref name="at"/> moved past it;
    /// false otherwise, <paramref name="at"/> unchanged. What follows the number is the caller's to check (a digit
    /// after a leading <c>0</c> makes the text no JSON number). Here leading zeros count towards the 19 digits, so a
    /// few numbers <see cref="TryParse"/> takes are declined.
    /// </summary>
    public static bool TryParseAt(ReadOnlySpan<byte> json, ref int at, out float value)
    {
        value = 0;
        int i = at;
        bool negative = i < json.Length && json[i] == (byte)'-';
        if (negative)
        {
            i++;
        }

        ulong significand = 0;
        int digits;
        if (i < json.Length && json[i] == (byte)'0')
        {
            i++; // JSON's integer part is 0 or starts with 1-9
            digits = 0;
        }
        else
        {
            int integerStart = i;
            for (; i < json.Length && IsDigit(json[i]); i++)
            {
                significand = (significand * 10) + (ulong)(json[i] - '0'); // past 19 digits it may wrap: declined below
            }

            digits = i - integerStart;
            if (digits == 0)
            {
                return false;
            }
        }

        int exponent = 0;
        if (i < json.Length && json[i] == (byte)'.')
        {
            int fractionStart = ++i;
            for (; i < json.Length && IsDigit(json[i]); i++)
            {
                significand = (significand * 10) + (ulong)(json[i] - '0');
            }

            if (i == fractionStart)
            {
                return false;
            }

            digits += i - fractionStart;
            exponent = fractionStart - i;
        }

        if (digits > MaxSignificantDigits)
        {
            return false;
        }

        if (i < json.Length && (json[i] | 0x20) == (byte)'e')
        {
            i++;
            bool negativeExponent = i < json.Length && json[i] == (byte)'-';
            if (i < json.Length && json[i] is (byte)'-' or (byte)'+')
            {
                i++;
            }

            int exponentStart = i;
            int written = 0;
            for (; i < json.Length && IsDigit(json[i]); i++)
            {
                written = (written * 10) + (json[i] - '0');
                if (written > 10_000)
                {
                    return false; // far outside the fast path's range either way
                }
            }

            if (i == exponentStart)
            {
                return false;
            }

            exponent += negativeExponent ? -written : written;
        }

        if (significand == 0)
        {
            value = negative ? -0f : 0f;
            at = i;
            return true;
        }

        if (!TryCompose(significand, exponent, negative, out value))
        {
            return false;
        }

        at = i;
        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    // Leading zeros are not significant; more than 19 significant digits might not fit a ulong.
    private static bool Accumulate(byte digit, ref ulong significand, ref int significantDigits)
    {
        if (significand == 0 && digit == '0')
        {
            return true;
        }

        if (significantDigits == MaxSignificantDigits)
        {
            return false;
        }

        significand = (significand * 10) + (ulong)(digit - '0');
        significantDigits++;
        return true;
    }
}

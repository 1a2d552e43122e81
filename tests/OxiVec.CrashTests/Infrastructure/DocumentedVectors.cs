namespace OxiVec.CrashTests.Infrastructure;

/// <summary>
/// The generator of <c>oxivec load</c>, written here from its description in docs/cli.md (not from the CLI's code), so
/// that the tests hold the CLI to its documentation: record i of seed s is a SplitMix64 stream seeded with
/// <c>mix(mix(s) ^ i)</c>, whose outputs x become <c>(2 * (x &gt;&gt; 40) - 2^24 + 1) / 2^24</c>.
/// </summary>
public static class DocumentedVectors
{
    public static float[] Vector(long seed, long i, int dimension)
    {
        ulong state = Mix(Mix((ulong)seed) ^ (ulong)i);
        var v = new float[dimension];
        for (int j = 0; j < dimension; j++)
        {
            state = unchecked(state + 0x9E3779B97F4A7C15UL);
            ulong x = Mix(state);
            v[j] = (float)((2.0 * (x >> 40)) - 16_777_216.0 + 1.0) / 16_777_216f;
        }

        return v;
    }

    private static ulong Mix(ulong z)
    {
        unchecked
        {
            z ^= z >> 30;
            z *= 0xBF58476D1CE4E5B9UL;
            z ^= z >> 27;
            z *= 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}

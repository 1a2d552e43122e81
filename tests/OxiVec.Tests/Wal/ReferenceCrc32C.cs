namespace OxiVec.Tests.Wal;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) computed bit by bit, independently of the product's
/// hardware-accelerated <c>WalFormat.Crc32C</c>, so tests can state expected checksums without the code under test.
/// </summary>
internal static class ReferenceCrc32C
{
    /// <summary>The CRC-32C of <paramref name="data"/> continuing from <paramref name="seed"/> (0 for a fresh CRC).</summary>
    public static uint Compute(uint seed, ReadOnlySpan<byte> data)
    {
        uint crc = ~seed;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}

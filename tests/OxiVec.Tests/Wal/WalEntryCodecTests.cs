using CsCheck;
using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

public sealed class WalEntryCodecTests
{
    [Fact]
    public void Encode_ThenDecode_RoundTripsEveryEntryKind()
    {
        WalEntryGen.Entry.Sample(entry =>
        {
            var payload = new byte[WalEntryCodec.GetPayloadSize(entry)];
            WalEntryCodec.Encode(entry, payload);
            var time = DateTimeOffset.UnixEpoch.AddTicks(123_456_780);
            WalEntry decoded = WalEntryCodec.Decode(entry.Type, payload, 42, time);
            Assert.True(WalEntryGen.SameContent(entry, decoded), $"{entry} decoded as {decoded}");
            Assert.Equal(42, decoded.Lsn);
            Assert.Equal(time, decoded.Timestamp);
        }, iter: 2000);
    }

    [Fact]
    public void Encode_VectorIsRawLittleEndianFloat32()
    {
        var entry = new WalEntry.Insert("c", "id", new[] { 1.0f, -2.5f }, ReadOnlyMemory<byte>.Empty);
        var payload = new byte[WalEntryCodec.GetPayloadSize(entry)];
        WalEntryCodec.Encode(entry, payload);

        // collection (2 + 1), id (2 + 2), dimension (4), then the floats.
        int vectorAt = 3 + 4 + 4;
        Assert.Equal(2, BitConverter.ToInt32(payload, vectorAt - 4));
        Assert.Equal(BitConverter.GetBytes(1.0f), payload[vectorAt..(vectorAt + 4)]);
        Assert.Equal(BitConverter.GetBytes(-2.5f), payload[(vectorAt + 4)..(vectorAt + 8)]);
    }

    [Fact]
    public void Decode_TruncatedPayload_ThrowsNamingTheField()
    {
        var entry = new WalEntry.Insert("coll", "id", new float[8], new byte[] { 1, 2, 3 });
        var payload = new byte[WalEntryCodec.GetPayloadSize(entry)];
        WalEntryCodec.Encode(entry, payload);

        var ex = Assert.Throws<InvalidDataException>(() => WalEntryCodec.Decode(WalRecordType.Insert, payload.AsSpan(0, 20), 1, default));
        Assert.Contains("vector", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_TrailingBytes_AreRejected()
    {
        var entry = new WalEntry.Delete("c", "x");
        var payload = new byte[WalEntryCodec.GetPayloadSize(entry) + 1];
        WalEntryCodec.Encode(entry, payload.AsSpan(0, payload.Length - 1));

        var ex = Assert.Throws<InvalidDataException>(() => WalEntryCodec.Decode(WalRecordType.Delete, payload, 1, default));
        Assert.Contains("unexpected bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetPayloadSize_IdLongerThanTheFormatAllows_ThrowsNamingId()
    {
        var entry = new WalEntry.Delete("c", new string('x', 70_000));
        var ex = Assert.Throws<ArgumentException>(() => WalEntryCodec.GetPayloadSize(entry));
        Assert.Equal("Id", ex.ParamName);
    }

    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xC1D04330u)]
    [InlineData("123456789", 0xE3069283u)]
    public void Crc32C_MatchesTheCastagnoliCheckValues(string text, uint expected) =>
        Assert.Equal(expected, WalFormat.Crc32C(0, System.Text.Encoding.ASCII.GetBytes(text)));

    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("a", 0xC1D04330u)]
    [InlineData("123456789", 0xE3069283u)]
    public void ReferenceCrc32C_MatchesTheCastagnoliCheckValues(string text, uint expected) =>
        Assert.Equal(expected, ReferenceCrc32C.Compute(0, System.Text.Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void Crc32C_OfALongBuffer_EqualsTheBytewiseComputation()
    {
        Gen.Byte.Array[0, 300].Select(Gen.UInt).Sample((data, seed) =>
        {
            Assert.Equal(ReferenceCrc32C.Compute(0, data), WalFormat.Crc32C(0, data));
            Assert.Equal(ReferenceCrc32C.Compute(seed, data), WalFormat.Crc32C(seed, data)); // seeded, as records use the salt
        }, iter: 300);
    }

    [Fact]
    public void Crc32CCopy_CopiesTheBytes_AndReturnsTheirChecksum_AtAnyLengthAndAlignment()
    {
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[0, 7], Gen.UInt).Sample((data, shift, seed) =>
        {
            var destination = new byte[data.Length + 16];
            uint crc = WalFormat.Crc32CCopy(seed, data, destination.AsSpan(shift));
            Assert.Equal(ReferenceCrc32C.Compute(seed, data), crc);
            Assert.Equal(data, destination[shift..(shift + data.Length)]);
            Assert.All(destination[(shift + data.Length)..], b => Assert.Equal(0, b)); // nothing past the source's length
        }, iter: 300);
    }

    [Fact]
    public void EncodeChecksummed_WritesEncodesBytes_AndReturnsTheirChecksum_ForEveryEntryKind()
    {
        Gen.Select(WalEntryGen.Entry, Gen.UInt).Sample((entry, seed) =>
        {
            var expected = new byte[WalEntryCodec.GetPayloadSize(entry)];
            WalEntryCodec.Encode(entry, expected);
            var payload = new byte[expected.Length];

            uint crc = WalEntryCodec.EncodeChecksummed(entry, payload, seed);

            Assert.Equal(expected, payload);
            Assert.Equal(ReferenceCrc32C.Compute(seed, expected), crc);
        }, iter: 1000);
    }

    [Fact]
    public void RecordChecksum_FromTheHeaderFieldsThenThePayload_EqualsWriteRecordHeaders()
    {
        var entry = new WalEntry.Insert("coll", "id-7", new[] { 1f, 2f, 3f }, new byte[] { 9, 8, 7 });
        int payloadSize = WalEntryCodec.GetPayloadSize(entry);
        var whole = new byte[WalFormat.RecordSize(payloadSize)];
        WalEntryCodec.Encode(entry, whole.AsSpan(WalFormat.RecordHeaderSize, payloadSize));
        WalFormat.WriteRecordHeader(whole, 0xABCD1234u, 77, 1_000_000, WalRecordType.Insert, WalRecordFlags.None, 3, payloadSize);

        var header = new byte[WalFormat.RecordHeaderSize];
        WalFormat.WriteRecordHeaderFields(header, 77, 1_000_000, WalRecordType.Insert, WalRecordFlags.None, 3, payloadSize);
        uint crc = WalEntryCodec.EncodeChecksummed(entry, new byte[payloadSize], WalFormat.HeaderChecksum(0xABCD1234u, header));
        WalFormat.SetRecordChecksum(header, crc);

        Assert.Equal(whole[..WalFormat.RecordHeaderSize], header);
    }
}

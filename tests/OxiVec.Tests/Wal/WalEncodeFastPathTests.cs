using System.Buffers.Binary;
using System.Text;
using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>
/// The write path's shortcuts produce exactly the bytes and checksums of the general code: the record header's
/// checksum in four fixed steps, a checksum's tail in words rather than bytes, and strings encoded without the UTF-8
/// encoder when they are ASCII (anything else still goes through the strict encoder and its errors).
/// </summary>
public sealed class WalEncodeFastPathTests
{
    [Fact]
    public void Crc32C_EveryLengthAndOffset_MatchesTheBitwiseReference()
    {
        var random = new Random(19);
        var data = new byte[80];
        random.NextBytes(data);
        for (int offset = 0; offset < 8; offset++)
        {
            for (int length = 0; length + offset <= data.Length; length++)
            {
                uint seed = (uint)random.Next();
                ReadOnlySpan<byte> span = data.AsSpan(offset, length);
                Assert.Equal(ReferenceCrc32C.Compute(seed, span), WalFormat.Crc32C(seed, span));
            }
        }
    }

    [Fact]
    public void HeaderChecksum_IsTheChecksumOfTheHeaderWithoutItsChecksumField()
    {
        var random = new Random(20);
        var header = new byte[WalFormat.RecordHeaderSize];
        for (int i = 0; i < 500; i++)
        {
            random.NextBytes(header);
            uint salt = (uint)random.Next();
            uint expected = ReferenceCrc32C.Compute(ReferenceCrc32C.Compute(salt, header.AsSpan(0, 4)), header.AsSpan(8));
            Assert.Equal(expected, WalFormat.HeaderChecksum(salt, header));
        }
    }

    [Fact]
    public void HeaderChecksum_ContinuedOverThePayload_IsTheRecordChecksumTheReaderVerifies()
    {
        var record = new byte[WalFormat.RecordSize(13)];
        new Random(21).NextBytes(record.AsSpan(WalFormat.RecordHeaderSize, 13));
        WalFormat.WriteRecordHeader(record, 0xDEADBEEF, 77, 1_700_000_000_000_000, WalRecordType.Custom, WalRecordFlags.None, 3, 13);

        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(4));
        uint continued = WalFormat.Crc32C(WalFormat.HeaderChecksum(0xDEADBEEF, record), record.AsSpan(WalFormat.RecordHeaderSize, 13));
        Assert.Equal(stored, continued);
        byte[] covered = [.. record.AsSpan(0, 4), .. record.AsSpan(8, WalFormat.RecordHeaderSize - 8 + 13)];
        Assert.Equal(ReferenceCrc32C.Compute(0xDEADBEEF, covered), stored);
    }

    [Theory]
    [InlineData("v123")]
    [InlineData("")]
    [InlineData("caf\u00e9")] // two-byte character
    [InlineData("\u6f22\u5b57-id")] // three-byte characters after ASCII
    [InlineData("id-\ud83d\ude00")] // a surrogate pair: four bytes
    [InlineData("ascii then \u00ff")]
    public void VectorRecord_AsciiOrNot_EncodesTheStrictUtf8BytesAndRoundTrips(string id)
    {
        var entry = new WalEntry.Insert("coll\u00e9ction", id, new[] { 1f, 2f, 3f }, new byte[] { 9 });
        var utf8 = new UTF8Encoding(false, true);
        int size = WalEntryCodec.GetPayloadSize(entry);
        Assert.Equal(2 + utf8.GetByteCount(entry.Collection) + 2 + utf8.GetByteCount(id) + 4 + 12 + 4 + 1, size);

        var plain = new byte[size];
        WalEntryCodec.Encode(entry, plain);
        var checksummed = new byte[size];
        uint crc = WalEntryCodec.EncodeChecksummed(entry, checksummed, 5);
        Assert.Equal(plain, checksummed);
        Assert.Equal(ReferenceCrc32C.Compute(5, plain), crc);

        int idAt = 2 + utf8.GetByteCount(entry.Collection);
        Assert.Equal(utf8.GetByteCount(id), BinaryPrimitives.ReadUInt16LittleEndian(plain.AsSpan(idAt)));
        Assert.Equal(utf8.GetBytes(id), plain.AsSpan(idAt + 2, utf8.GetByteCount(id)).ToArray());

        var decoded = (WalEntry.Insert)WalEntryCodec.Decode(WalRecordType.Insert, plain, 1, default);
        Assert.Equal(id, decoded.Id);
        Assert.Equal(entry.Collection, decoded.Collection);
    }

    [Fact]
    public void VectorRecord_LoneSurrogateInTheId_IsRefusedNamingTheField()
    {
        // Built from chars: test data passed as attribute strings may have lone surrogates replaced on the way.
        foreach (string id in new[] { "lone" + (char)0xD800, ((char)0xDC00).ToString(), "x" + (char)0xDBFF + "y" })
        {
            Assert.False(System.Text.Ascii.IsValid(id));
            var entry = new WalEntry.Insert("c", id, new[] { 1f }, ReadOnlyMemory<byte>.Empty);
            var ex = Assert.Throws<ArgumentException>(() => WalEntryCodec.GetPayloadSize(entry));
            Assert.Equal("Id", ex.ParamName);
        }
    }
}

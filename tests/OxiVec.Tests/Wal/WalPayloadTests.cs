using CsCheck;
using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>The store's single writes are encoded from their fields (<see cref="VectorPayload"/>): the bytes must be the entry's.</summary>
public sealed class WalPayloadTests
{
    [Fact]
    public void VectorPayload_EncodesExactlyAsTheInsertOrUpdateEntry_WithTheSameChecksum()
    {
        WalEntryGen.Entry.Where(e => e is WalEntry.Insert or WalEntry.Update).Sample(entry =>
        {
            (bool insert, string collection, string id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> metadata) = entry switch
            {
                WalEntry.Insert e => (true, e.Collection, e.Id, e.Vector, e.Metadata),
                WalEntry.Update e => (false, e.Collection, e.Id, e.Vector, e.Metadata),
                _ => throw new InvalidOperationException(),
            };
            var payload = new VectorPayload(insert, collection, id, vector, metadata);
            Assert.Equal(entry.Type, payload.Type);
            int size = WalEntryCodec.GetPayloadSize(entry);
            Assert.Equal(size, payload.GetPayloadSize());

            var expected = new byte[size];
            WalEntryCodec.Encode(entry, expected);
            var encoded = new byte[size];
            payload.Encode(encoded);
            Assert.Equal(expected, encoded);

            var checksummed = new byte[size];
            uint crc = payload.EncodeChecksummed(checksummed, 0x1234_5678u);
            Assert.Equal(expected, checksummed);
            Assert.Equal(WalFormat.Crc32C(0x1234_5678u, expected), crc);
        }, iter: 500);
    }
}

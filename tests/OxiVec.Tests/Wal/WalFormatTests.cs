using System.Buffers.Binary;
using OxiVec.Tests.Fakes;
using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>The worked example of docs/wal-format.md, checked byte by byte.</summary>
public sealed class WalFormatTests
{
    [Fact]
    public void WorkedExample_LaysOutRecordsAsTheFormatDocumentSays()
    {
        var disk = new SimulatedDisk();
        using (var wal = WalManager.Open(disk, WalTestHelpers.Config(disk.Directory)))
        {
            wal.LogInsert("docs", "v1", new[] { 1.0f, 2.0f });
            wal.LogDelete("docs", "v1");
            wal.LogEntry("note", new byte[] { 0xAB });
        }

        string name = Assert.Single(disk.ListFiles(".wal"));
        Assert.Equal("0000000000000001-0000000000000001.wal", name);
        byte[] file = disk.ReadAll(name);

        Assert.Equal("OXIVWAL\0"u8.ToArray(), file[..8]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8)));
        Assert.Equal(64u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(12)));
        Assert.Equal(1ul, BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(16)));
        Assert.Equal(1L, BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan(24)));
        Assert.Equal(ReferenceCrc32C.Compute(0, file.AsSpan(0, 60)), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(60)));
        uint salt = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(40));

        AssertRecord(file, 64, salt, lsn: 1, type: 1, payloadLength: 26, end: 128);
        Assert.Equal(new byte[] { 4, 0, (byte)'d', (byte)'o', (byte)'c', (byte)'s', 2, 0, (byte)'v', (byte)'1', 2, 0, 0, 0, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0, 0 }, file[96..122]);
        AssertRecord(file, 128, salt, lsn: 2, type: 3, payloadLength: 10, end: 176);
        AssertRecord(file, 176, salt, lsn: 3, type: 5, payloadLength: 7, end: 216);
        Assert.Equal(0xAB, file[214]);
        Assert.True(file.Length <= 216 || WalFormat.IsZero(file.AsSpan(216, Math.Min(32, file.Length - 216))));
    }

    private static void AssertRecord(byte[] file, int offset, uint salt, long lsn, byte type, int payloadLength, int end)
    {
        Span<byte> record = file.AsSpan(offset, end - offset);
        Assert.Equal(payloadLength, BinaryPrimitives.ReadInt32LittleEndian(record));
        Assert.Equal(lsn, BinaryPrimitives.ReadInt64LittleEndian(record[8..]));
        Assert.Equal(type, record[24]);
        Assert.Equal(0, record[25]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(record[28..]));

        // The format: CRC-32C seeded with the segment's salt over the header without its checksum field (bytes 0-3
        // and 8-31), then the payload. Computed here bit by bit, not by the code under test.
        byte[] covered = [.. record[..4], .. record[8..32], .. record.Slice(32, payloadLength)];
        Assert.Equal(ReferenceCrc32C.Compute(salt, covered), BinaryPrimitives.ReadUInt32LittleEndian(record[4..]));
        Assert.True(WalFormat.IsZero(record[(32 + payloadLength)..]));
    }
}

namespace OxiVec.Wal;

/// <summary>
/// A record's payload as the single append encodes it: its type, its size, and its bytes (with their checksum). A
/// struct implements it so the append is generic over it: an insert or update of the store is encoded from its fields
/// (<see cref="VectorPayload"/>) with no <see cref="WalEntry"/> object per write.
/// </summary>
internal interface IWalPayload
{
    /// <summary>The record type.</summary>
    WalRecordType Type { get; }

    /// <summary>The payload size; validates the fields.</summary>
    /// <exception cref="ArgumentException">A field cannot be encoded.</exception>
    int GetPayloadSize();

    /// <summary>Writes the payload into <paramref name="destination"/> (exactly <see cref="GetPayloadSize"/> bytes).</summary>
    void Encode(Span<byte> destination);

    /// <summary><see cref="Encode"/>, returning the CRC-32C of <paramref name="crc"/> continued over the bytes written.</summary>
    uint EncodeChecksummed(Span<byte> destination, uint crc);
}

/// <summary>A <see cref="WalEntry"/> as a payload.</summary>
internal readonly struct EntryPayload(WalEntry entry) : IWalPayload
{
    public WalRecordType Type => entry.Type;

    public int GetPayloadSize() => WalEntryCodec.GetPayloadSize(entry);

    public void Encode(Span<byte> destination) => WalEntryCodec.Encode(entry, destination);

    public uint EncodeChecksummed(Span<byte> destination, uint crc) => WalEntryCodec.EncodeChecksummed(entry, destination, crc);
}

/// <summary>
/// An insert or update record from its fields: the same bytes as <see cref="WalEntry.Insert"/> or
/// <see cref="WalEntry.Update"/> with those fields, without the entry object.
/// </summary>
internal readonly struct VectorPayload(bool insert, string collection, string id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> metadata) : IWalPayload
{
    public WalRecordType Type => insert ? WalRecordType.Insert : WalRecordType.Update;

    public int GetPayloadSize() => WalEntryCodec.VectorRecordSize(collection, id, vector, metadata);

    public void Encode(Span<byte> destination) => WalEntryCodec.EncodeVectorRecord(Type, collection, id, vector, metadata, destination);

    public uint EncodeChecksummed(Span<byte> destination, uint crc) =>
        WalEntryCodec.EncodeVectorRecordChecksummed(Type, collection, id, vector, metadata, destination, crc);
}

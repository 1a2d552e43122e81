using System.Buffers.Binary;
using System.Text;
using OxiVec.Transactions;

namespace OxiVec.Storage.Checkpoints;

/// <summary>
/// The <c>transactions</c> file of a checkpoint (format version 2 on): the global transactions known at the covered
/// LSN, captured with it, so WAL retention never loses a prepared transaction or a resolved gid. Layout: magic
/// "OXIVTXNS", u16 version (1), u16 0, u32 prepared count, per prepared transaction <c>i64 prepare LSN, u16 gid bytes
/// + UTF-8, u32 payload bytes + the prepare payload</c> (<see cref="PreparedTransactionCodec"/>), u32 resolved count,
/// per resolved gid <c>u8 state (1 committed, 2 rolled back), i64 LSN, u16 gid bytes + UTF-8</c>; u32 CRC-32C.
/// </summary>
internal static class CheckpointTransactions
{
    public const string FileName = "transactions";
    private const ulong Magic = 0x534E58545649584F; // "OXIVTXNS"
    private const ushort Version = 1;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void Write(Stream s, TransactionTable table)
    {
        Span<byte> head = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(head, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(head[8..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(head[10..], 0);
        s.Write(head);
        PreparedEntry[] prepared = [.. table.Prepared.Values.OrderBy(p => p.Lsn)];
        WriteInt32(s, prepared.Length);
        foreach (PreparedEntry p in prepared)
        {
            WriteInt64(s, p.Lsn);
            WriteString(s, p.Gid);
            WriteInt32(s, p.Payload.Length);
            s.Write(p.Payload);
        }

        KeyValuePair<string, ResolvedGid>[] resolved = [.. table.Resolved.OrderBy(r => r.Key, StringComparer.Ordinal)];
        WriteInt32(s, resolved.Length);
        foreach ((string gid, ResolvedGid r) in resolved)
        {
            s.WriteByte(r.State == PreparedTransactionState.Committed ? (byte)1 : (byte)2);
            WriteInt64(s, r.Lsn);
            WriteString(s, gid);
        }
    }

    /// <exception cref="InvalidDataException">The bytes do not decode; the message names the field.</exception>
    public static TransactionTable Read(ChecksumReadStream s)
    {
        Span<byte> head = stackalloc byte[12];
        s.ReadFully(head);
        if (BinaryPrimitives.ReadUInt64LittleEndian(head) != Magic || BinaryPrimitives.ReadUInt16LittleEndian(head[8..]) != Version)
        {
            throw new InvalidDataException($"'{s.Path}' is not a version {Version} checkpoint transactions file.");
        }

        TransactionTable table = TransactionTable.Empty;
        int prepared = ReadCount(s, "prepared count");
        for (int i = 0; i < prepared; i++)
        {
            long lsn = ReadInt64(s);
            string gid = ReadString(s);
            int length = ReadCount(s, "payload length");
            var payload = new byte[length];
            s.ReadFully(payload);
            table = table.Prepare(PreparedTransactionCodec.Decode(gid, lsn, payload));
        }

        int resolved = ReadCount(s, "resolved count");
        Span<byte> state = stackalloc byte[1];
        for (int i = 0; i < resolved; i++)
        {
            s.ReadFully(state);
            PreparedTransactionState outcome = state[0] switch
            {
                1 => PreparedTransactionState.Committed,
                2 => PreparedTransactionState.RolledBack,
                _ => throw new InvalidDataException($"'{s.Path}': resolved gid {i} has unknown state {state[0]} before offset {s.Consumed}."),
            };
            long lsn = ReadInt64(s);
            table = table.Resolve(ReadString(s), outcome, lsn);
        }

        return table;
    }

    private static int ReadCount(ChecksumReadStream s, string field)
    {
        Span<byte> b = stackalloc byte[4];
        s.ReadFully(b);
        int count = BinaryPrimitives.ReadInt32LittleEndian(b);
        if (count < 0 || count > s.Remaining)
        {
            throw new InvalidDataException($"'{s.Path}' holds an impossible {field} {count} before offset {s.Consumed}.");
        }

        return count;
    }

    private static long ReadInt64(ChecksumReadStream s)
    {
        Span<byte> b = stackalloc byte[8];
        s.ReadFully(b);
        return BinaryPrimitives.ReadInt64LittleEndian(b);
    }

    private static string ReadString(ChecksumReadStream s)
    {
        Span<byte> b = stackalloc byte[2];
        s.ReadFully(b);
        var bytes = new byte[BinaryPrimitives.ReadUInt16LittleEndian(b)];
        s.ReadFully(bytes);
        return StrictUtf8.GetString(bytes);
    }

    private static void WriteString(Stream s, string value)
    {
        byte[] bytes = StrictUtf8.GetBytes(value);
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, checked((ushort)bytes.Length));
        s.Write(b);
        s.Write(bytes);
    }

    private static void WriteInt32(Stream s, int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        s.Write(b);
    }

    private static void WriteInt64(Stream s, long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        s.Write(b);
    }
}

using CsCheck;
using OxiVec.Wal;

namespace OxiVec.Tests.Wal;

/// <summary>CsCheck generators for WAL entries, and a content comparison (records compare memory by reference).</summary>
internal static class WalEntryGen
{
    public static readonly Gen<string> Name = Gen.String[Gen.Char.AlphaNumeric, 0, 24];

    public static readonly Gen<string> AnyText = Gen.String[Gen.Char['\u0001', '\uD7FF'], 0, 40];

    public static readonly Gen<float[]> Vector = Gen.Single.Array[0, 64];

    public static readonly Gen<byte[]> Blob = Gen.Byte.Array[0, 100];

    /// <summary>Any entry a caller may append on its own (transaction markers included).</summary>
    public static readonly Gen<WalEntry> Entry = Gen.OneOf<WalEntry>(
        Gen.Select(Name, AnyText, Vector, Blob, (c, id, v, m) => new WalEntry.Insert(c, id, v, m)),
        Gen.Select(Name, AnyText, Vector, Blob, (c, id, v, m) => new WalEntry.Update(c, id, v, m)),
        Gen.Select(Name, AnyText, (c, id) => new WalEntry.Delete(c, id)),
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Long[0, long.MaxValue], (s, l) => new WalEntry.Checkpoint(s, l)),
        Gen.Select(AnyText, Blob, (o, p) => new WalEntry.Custom(o, p)),
        Gen.Int[0, 1000].Select(n => new WalEntry.TransactionBegin(n)),
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Int[0, 1000], (b, n) => new WalEntry.TransactionCommit(b, n)),
        Gen.Long[0, long.MaxValue].Select(b => new WalEntry.TransactionAbort(b)),
        Gen.Select(AnyText, Blob, (g, p) => new WalEntry.PrepareTransaction(g, p)),
        AnyText.Select(g => new WalEntry.CommitPrepared(g)),
        AnyText.Select(g => new WalEntry.RollbackPrepared(g)));

    /// <summary>Entries allowed inside a transaction.</summary>
    public static readonly Gen<WalEntry> DataEntry = Entry.Where(e =>
        e.Type is not (WalRecordType.TransactionBegin or WalRecordType.TransactionCommit or WalRecordType.TransactionAbort));

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> hold the same kind and field values (LSN and time ignored).</summary>
    public static bool SameContent(WalEntry a, WalEntry b) => (a, b) switch
    {
        (WalEntry.Insert x, WalEntry.Insert y) => x.Collection == y.Collection && x.Id == y.Id && SameFloats(x.Vector, y.Vector) && x.Metadata.Span.SequenceEqual(y.Metadata.Span),
        (WalEntry.Update x, WalEntry.Update y) => x.Collection == y.Collection && x.Id == y.Id && SameFloats(x.Vector, y.Vector) && x.Metadata.Span.SequenceEqual(y.Metadata.Span),
        (WalEntry.Custom x, WalEntry.Custom y) => x.Operation == y.Operation && x.Payload.Span.SequenceEqual(y.Payload.Span),
        (WalEntry.PrepareTransaction x, WalEntry.PrepareTransaction y) => x.Gid == y.Gid && x.Payload.Span.SequenceEqual(y.Payload.Span),
        _ => a with { Lsn = 0, Timestamp = default } == b with { Lsn = 0, Timestamp = default },
    };

    // Bitwise comparison: NaN payloads and negative zero must survive exactly.
    private static bool SameFloats(ReadOnlyMemory<float> a, ReadOnlyMemory<float> b) =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.Span).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.Span));
}

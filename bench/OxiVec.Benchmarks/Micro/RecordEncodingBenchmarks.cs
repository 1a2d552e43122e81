using BenchmarkDotNet.Attributes;
using OxiVec.Benchmarks.Macro;
using OxiVec.Wal;

namespace OxiVec.Benchmarks.Micro;

/// <summary>
/// The CPU cost of one insert record, as the WAL writer pays it under its append lock: payload size (with
/// field validation), encoding, header and CRC-32C; and decoding it back. Same record as the macro harness
/// (128-dimension vector, 32 bytes of metadata).
/// </summary>
[MemoryDiagnoser]
public class RecordEncodingBenchmarks
{
    private readonly Dataset _data = new();
    private WalEntry.Insert _entry = null!;
    private byte[] _record = [];
    private int _payload;

    /// <summary>Bytes of the benchmarked record in the WAL (for the MB/s column).</summary>
    public static int RecordBytes { get; } = new Dataset().RecordBytes;

    [GlobalSetup]
    public void Setup()
    {
        _entry = new WalEntry.Insert(Dataset.Collection, Dataset.Id(3, 123_456), _data.Vector(7), _data.Metadata(7));
        _payload = WalEntryCodec.GetPayloadSize(_entry);
        _record = new byte[WalFormat.RecordSize(_payload)];
        EncodeInsertRecord();
    }

    [Benchmark(Baseline = true)]
    public int EncodeInsertRecord()
    {
        int payload = WalEntryCodec.GetPayloadSize(_entry);
        Span<byte> record = _record.AsSpan(0, WalFormat.RecordSize(payload));
        WalEntryCodec.Encode(_entry, record.Slice(WalFormat.RecordHeaderSize, payload));
        WalFormat.WriteRecordHeader(record, 0x5eed, 42, 1_700_000_000_000_000, WalRecordType.Insert, WalRecordFlags.None, 1, payload);
        return record.Length;
    }

    [Benchmark]
    public uint ChecksumOnly() => WalFormat.RecordChecksum(0x5eed, _record.AsSpan(0, WalFormat.RecordHeaderSize), _record.AsSpan(WalFormat.RecordHeaderSize, _payload));

    [Benchmark]
    public WalEntry DecodeInsertPayload() =>
        WalEntryCodec.Decode(WalRecordType.Insert, _record.AsSpan(WalFormat.RecordHeaderSize, _payload), 42, DateTimeOffset.UnixEpoch);
}

using BenchmarkDotNet.Attributes;
using OxiVec.Wal;

namespace OxiVec.Benchmarks.Micro;

/// <summary>CRC-32C throughput of the WAL's checksum (<c>WalFormat.Crc32C</c>) by buffer size.</summary>
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    /// <summary>Bytes checksummed per call: a record header, one insert record, a page, a large write.</summary>
    [Params(32, 608, 4096, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(1).NextBytes(_data);
    }

    [Benchmark]
    public uint Crc32C() => WalFormat.Crc32C(0, _data);
}

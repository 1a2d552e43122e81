using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Extensions.Logging;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>
/// Checkpoints that are damaged or malformed (behind a valid checksum), the sequence numbers and retention that
/// follow a fallback, and the WAL that must continue the checkpoint.
/// </summary>
public sealed class CheckpointIntegrityTests
{
    private static VectorDatabaseOptions Options(RetentionPolicy retention, ILoggerFactory? loggers = null) => new()
    {
        Wal = WalConfig.MaximumDurability with
        {
            SegmentSizeBytes = 64 << 10,
            MaxWalSize = 64 << 20,
            RetentionPolicy = retention,
            CheckpointInterval = 1_000_000,
        },
        LoggerFactory = loggers,
    };

    private static float[] V(int i) => [i, 1, 2, 3, 4, 5, 6, 7];

    private static void Load(VectorDatabase db, int from, int to)
    {
        for (int i = from; i < to; i++)
        {
            db.Upsert("docs", $"v{i}", V(i), new Dictionary<string, MetadataValue> { ["i"] = (long)i, ["x"] = 12345.678 });
        }
    }

    private static void AssertHolds(VectorDatabase db, int count)
    {
        Assert.Equal(count, db.Count("docs"));
        foreach (int i in new[] { 0, count / 2, count - 1 })
        {
            Assert.Equal(i, db.Get("docs", $"v{i}")!.Vector.Span[0]);
        }
    }

    /// <summary>Two checkpoints (sequences 1 and 2) of a flat collection, and writes after them; returns their paths.</summary>
    private static (string First, string Second) TwoCheckpoints(string dir, RetentionPolicy retention)
    {
        using var db = VectorDatabase.Open(dir, Options(retention));
        db.CreateCollection("docs", new CollectionOptions(8) { Index = IndexKind.Flat });
        Load(db, 0, 200);
        string first = db.Checkpoint().Path;
        Load(db, 200, 400);
        string second = db.Checkpoint().Path;
        Load(db, 400, 450);
        return (first, second);
    }

    /// <summary>Rewrites a checkpoint file after <paramref name="change"/> with a valid CRC-32C trailer: malformed, not damaged.</summary>
    private static void Reseal(string path, Action<byte[]> change)
    {
        byte[] bytes = File.ReadAllBytes(path);
        change(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), WalFormat.Crc32C(0, bytes.AsSpan(0, bytes.Length - 4)));
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>The offset of record <paramref name="index"/> in a records file of dimension 8 (walking the documented layout).</summary>
    private static int RecordOffset(byte[] file, int index)
    {
        int at = 24 + (4 * BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(20)));
        for (int i = 0; i < index; i++)
        {
            int idLength = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at + 4));
            int metadataAt = at + 4 + 2 + idLength + (8 * 4);
            at = metadataAt + 4 + BinaryPrimitives.ReadInt32LittleEndian(file.AsSpan(metadataAt));
        }

        return at;
    }

    public static TheoryData<string> MalformedCases() => ["manifest-time-out-of-range", "nan-metadata-double", "index-rebuild-error", "huge-free-slot-count"];

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void MalformedNewestCheckpointBehindAValidChecksum_FallsBackToTheOlderOneAndTheLogNamesIt(string malformation)
    {
        using var temp = new TempDirectory();
        (string first, string second) = TwoCheckpoints(temp.Path, RetentionPolicy.KeepAll);
        string file = malformation == "manifest-time-out-of-range" ? Path.Combine(second, "MANIFEST") : Path.Combine(second, "c0.records");
        Reseal(file, bytes =>
        {
            switch (malformation)
            {
                case "manifest-time-out-of-range":
                    BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(28), 300_000_000_000_000_000); // µs: past year 9999
                    break;
                case "nan-metadata-double":
                    byte[] x = BitConverter.GetBytes(12345.678);
                    int at = bytes.AsSpan().IndexOf(x);
                    Assert.True(at > 0);
                    BitConverter.GetBytes(double.NaN).CopyTo(bytes, at);
                    break;
                case "index-rebuild-error":
                    // Record 1 claims record 0's slot: the rebuilt flat index refuses the second add.
                    BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(RecordOffset(bytes, 1)), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(RecordOffset(bytes, 0))));
                    break;
                default:
                    BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), int.MaxValue); // slot high-water mark
                    BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), int.MaxValue); // free slots: more than an array may hold
                    break;
            }
        });

        var logs = new ListLoggerFactory();
        using var reopened = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepAll, logs));
        Assert.Equal(first, reopened.LastCheckpoint!.Path);
        AssertHolds(reopened, 450);
        string warning = Assert.Single(logs.Lines, l => l.Contains("is damaged", StringComparison.Ordinal));
        Assert.Contains(second, warning, StringComparison.Ordinal);
        if (malformation != "index-rebuild-error")
        {
            Assert.Contains($"'{file}'", warning, StringComparison.Ordinal); // the exception names the file itself
        }
    }

    [Fact]
    public void CheckpointAfterFallingBackFromADamagedNewest_TakesTheNextSequenceNumberNotTheDamagedOnes()
    {
        using var temp = new TempDirectory();
        (_, string second) = TwoCheckpoints(temp.Path, RetentionPolicy.KeepAll);
        WalTestHelpersForStore.FlipMiddle(Path.Combine(second, "c0.records"));

        using var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepAll));
        Assert.Equal(1, db.LastCheckpoint!.Sequence);
        CheckpointInfo next = db.Checkpoint();
        Assert.Equal(3, next.Sequence);
        Assert.Equal(3, Directory.GetDirectories(Path.Combine(temp.Path, "checkpoints")).Select(Path.GetFileName).Distinct().Count());
    }

    [Fact]
    public void KeepLast_CountsOnlyValidCheckpoints_AndDeletesTheDamagedOneInsteadOfTheLastGoodOne()
    {
        using var temp = new TempDirectory();
        (string first, string second) = TwoCheckpoints(temp.Path, RetentionPolicy.KeepLast(2));
        WalTestHelpersForStore.FlipMiddle(Path.Combine(second, "c0.records"));

        string third;
        using (var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(2))))
        {
            Load(db, 450, 500);
            third = db.Checkpoint().Path;
        }

        // Kept: the new one and the older valid one (two valid checkpoints), not the damaged one.
        Assert.True(Directory.Exists(third));
        Assert.True(Directory.Exists(first));
        Assert.False(Directory.Exists(second));

        // The older valid one still works on its own: damage the newest and reopen.
        WalTestHelpersForStore.FlipMiddle(Path.Combine(third, "c0.records"));
        using var reopened = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepLast(2)));
        Assert.Equal(first, reopened.LastCheckpoint!.Path);
        AssertHolds(reopened, 500);
    }

    [Fact]
    public void EmptyNewestSegmentAfterMissingEarlierOnes_IsRefusedNamingTheWalAndTheLsns()
    {
        using var temp = new TempDirectory();
        string walDir = Path.Combine(temp.Path, "wal");
        long lastLsn;
        using (var db = VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepAll)))
        {
            db.CreateCollection("docs", new CollectionOptions(8) { Index = IndexKind.Flat });
            Load(db, 0, 500);
            lastLsn = db.GetWalMetrics().LastLsn;
        }

        // Every segment lost but a new, empty one that would continue the log: the WAL holds no record at all.
        string[] segments = [.. Directory.GetFiles(walDir, "*.wal").Order(StringComparer.Ordinal)];
        byte[] header = new byte[WalFormat.SegmentHeaderSize];
        using (FileStream last = File.OpenRead(segments[^1]))
        {
            last.ReadExactly(header);
        }

        Assert.True(WalFormat.TryReadSegmentHeader(header, out WalSegmentHeader old, out _));
        WalSegmentHeader next = old with { SegmentId = old.SegmentId + 1, FirstLsn = lastLsn + 1 };
        byte[] empty = new byte[64 << 10];
        WalFormat.WriteSegmentHeader(empty, next);
        foreach (string segment in segments)
        {
            File.Delete(segment);
        }

        string name = string.Create(CultureInfo.InvariantCulture, $"{next.SegmentId:x16}-{next.FirstLsn:x16}.wal");
        File.WriteAllBytes(Path.Combine(walDir, name), empty);

        var ex = Assert.Throws<InvalidDataException>(() => VectorDatabase.Open(temp.Path, Options(RetentionPolicy.KeepAll)));
        Assert.Contains($"starts at LSN {lastLsn + 1}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"records 1 to {lastLsn} are gone", ex.Message, StringComparison.Ordinal);
        Assert.Contains(name, ex.Message, StringComparison.Ordinal);
        Assert.Contains(walDir, ex.Message, StringComparison.Ordinal);
    }
}

internal static class WalTestHelpersForStore
{
    /// <summary>Flips one bit in the middle of a file: damage its checksum catches.</summary>
    public static void FlipMiddle(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(path, bytes);
    }
}

/// <summary>Collects every log line (message and exception) of every logger it creates.</summary>
internal sealed class ListLoggerFactory : ILoggerFactory
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        lock (_lines)
        {
            _lines.Add(line);
        }
    }

    private sealed class ListLogger(ListLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add($"{logLevel}: {formatter(state, exception)} {exception}");
    }
}

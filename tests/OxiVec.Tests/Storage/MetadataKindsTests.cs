using CsCheck;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Tests.Storage;

/// <summary>Null, lists of any values and objects: built, compared, encoded, logged and checkpointed.</summary>
public sealed class MetadataKindsTests
{
    /// <summary>The bytes the codec wrote before null, lists and objects existed, for {a: "x", b: 5, c: 1.5, d: true, e: ["p", "q"]}.</summary>
    private static readonly byte[] VersionOneBytes =
    [
        0x05, 0x00,
        0x01, 0x00, (byte)'a', 0x01, 0x01, 0x00, (byte)'x',
        0x01, 0x00, (byte)'b', 0x02, 0x05, 0, 0, 0, 0, 0, 0, 0,
        0x01, 0x00, (byte)'c', 0x03, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F,
        0x01, 0x00, (byte)'d', 0x04, 0x01,
        0x01, 0x00, (byte)'e', 0x05, 0x02, 0x00, 0x01, 0x00, (byte)'p', 0x01, 0x00, (byte)'q',
    ];

    private static readonly Gen<MetadataValue> AnyScalar = Gen.OneOf(
        Gen.String.Select(MetadataValue.From),
        Gen.Long.Select(MetadataValue.From),
        Gen.Double.Where(d => !double.IsNaN(d)).Select(MetadataValue.From),
        Gen.Bool.Select(MetadataValue.From),
        Gen.Const(MetadataValue.Null));

    private static readonly Gen<MetadataValue> AnyValue = Gen.Recursive<MetadataValue>((depth, self) => depth >= 4
        ? AnyScalar
        : Gen.Frequency(
            (4, AnyScalar),
            (1, self.List[0, 4].Select(MetadataValue.FromList)),
            (1, Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 0, 3], self).List[0, 4]
                .Select(fields => MetadataValue.FromObject(fields.DistinctBy(f => f.Item1).Select(f => KeyValuePair.Create(f.Item1, f.Item2)))))));

    [Fact]
    public void Decode_BytesOfTheFirstCodec_StillDecodeAndEncodeTheSame()
    {
        Dictionary<string, MetadataValue> decoded = MetadataCodec.Decode(VersionOneBytes);
        Assert.Equal("x", decoded["a"].AsString);
        Assert.Equal(5, decoded["b"].AsLong);
        Assert.Equal(1.5, decoded["c"].AsDouble);
        Assert.True(decoded["d"].AsBool);
        Assert.Equal(["p", "q"], decoded["e"].AsStringList);
        Assert.Equal(VersionOneBytes, MetadataCodec.Encode(decoded));
    }

    [Fact]
    public void FromList_OfStringsOrEmpty_IsAStringList_OtherwiseAList()
    {
        Assert.Equal(MetadataKind.StringList, MetadataValue.FromList([]).Kind);
        Assert.Equal(MetadataValue.From(["a", "b"]), MetadataValue.FromList(["a", "b"]));
        MetadataValue mixed = MetadataValue.FromList([1L, "a", MetadataValue.Null]);
        Assert.Equal(MetadataKind.List, mixed.Kind);
        Assert.Equal(3, mixed.AsList.Count);
        Assert.True(mixed.AsList[2].IsNull);
    }

    [Fact]
    public void FromObject_KeepsOrder_ComparesRegardlessOfOrder_RefusesRepeatedNames()
    {
        MetadataValue ab = MetadataValue.FromObject([new("a", 1L), new("b", "x")]);
        MetadataValue ba = MetadataValue.FromObject([new("b", "x"), new("a", 1L)]);
        Assert.Equal(["a", "b"], ab.AsObject.Select(f => f.Key));
        Assert.Equal(ab, ba);
        Assert.True(ab.TryGetField("b", out MetadataValue b));
        Assert.Equal("x", b.AsString);
        Assert.False(ab.TryGetField("c", out _));
        Assert.Throws<ArgumentException>(() => MetadataValue.FromObject([new("a", 1L), new("a", 2L)]));
    }

    [Fact]
    public void FromList_NestedBeyondMaxNesting_ThrowsNamingTheLimit()
    {
        MetadataValue value = MetadataValue.From(1L);
        for (int i = 0; i < MetadataValue.MaxNesting; i++)
        {
            value = MetadataValue.FromList([value]);
        }

        ArgumentException ex = Assert.Throws<ArgumentException>(() => MetadataValue.FromList([value]));
        Assert.Contains("MaxNesting", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Codec_AnyNestedValues_RoundTrip()
    {
        Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 5], AnyValue).List[0, 5].Sample(fields =>
        {
            var metadata = fields.DistinctBy(f => f.Item1).ToDictionary(f => f.Item1, f => f.Item2, StringComparer.Ordinal);
            Dictionary<string, MetadataValue> back = MetadataCodec.Decode(MetadataCodec.Encode(metadata));
            Assert.Equal(metadata.Count, back.Count);
            foreach ((string name, MetadataValue value) in metadata)
            {
                Assert.Equal(value, back[name]);
            }
        }, iter: 500);
    }

    [Fact]
    public void Decode_TruncatedOrLyingNestedValue_ThrowsInvalidData()
    {
        byte[] bytes = MetadataCodec.Encode(new Dictionary<string, MetadataValue>
        {
            ["o"] = MetadataValue.FromObject([new("list", MetadataValue.FromList([1L, MetadataValue.Null, 2.5]))]),
        });
        for (int cut = 1; cut < bytes.Length; cut++)
        {
            Assert.Throws<InvalidDataException>(() => MetadataCodec.Decode(bytes.AsSpan(0, cut)));
        }

        byte[] lying = (byte[])bytes.Clone();
        lying[lying.Length - 30] = 0xFF; // somewhere in the counts, names or kinds
        Exception? error = Record.Exception(() => MetadataCodec.Decode(lying));
        Assert.True(error is null or InvalidDataException, $"unexpected {error?.GetType().Name}");
    }

    [Fact]
    public void NestedMetadata_SurvivesWalReplayAndCheckpoint()
    {
        using var temp = new TempDirectory();
        var options = new VectorDatabaseOptions { Wal = WalConfig.MaximumDurability with { SegmentSizeBytes = 256 << 10, MaxWalSize = 16 << 20 } };
        var metadata = new Dictionary<string, MetadataValue>
        {
            ["none"] = MetadataValue.Null,
            ["nums"] = MetadataValue.FromList([1L, 2.5, true]),
            ["country"] = MetadataValue.FromObject([new("name", "Germany"), new("cities", MetadataValue.FromList([MetadataValue.FromObject([new("population", 3.7)])]))]),
        };
        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            db.CreateCollection("docs", new CollectionOptions(2) { Index = IndexKind.Flat });
            db.Upsert("docs", "logged", new float[] { 1, 2 }, metadata);
        }

        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            AssertSame(metadata, db.Get("docs", "logged")!.Metadata);
            db.Upsert("docs", "checkpointed", new float[] { 1, 2 }, metadata);
            db.Checkpoint();
        }

        using (var db = VectorDatabase.Open(temp.Path, options))
        {
            AssertSame(metadata, db.Get("docs", "logged")!.Metadata);
            AssertSame(metadata, db.Get("docs", "checkpointed")!.Metadata);
        }
    }

    private static void AssertSame(Dictionary<string, MetadataValue> expected, IReadOnlyDictionary<string, MetadataValue> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach ((string name, MetadataValue value) in expected)
        {
            Assert.Equal(value, actual[name]);
        }
    }
}

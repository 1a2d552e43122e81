using CsCheck;
using OxiVec.Storage;

namespace OxiVec.Tests.Storage;

public sealed class MetadataTests
{
    private static readonly Gen<MetadataValue> AnyValue = Gen.OneOf(
        Gen.String[Gen.Char['\u0001', '\uD7FF'], 0, 20].Select(MetadataValue.From),
        Gen.Long.Select(MetadataValue.From),
        Gen.Double.Where(d => !double.IsNaN(d)).Select(MetadataValue.From),
        Gen.Bool.Select(MetadataValue.From),
        Gen.String[Gen.Char.AlphaNumeric, 0, 8].Array[0, 4].Select(a => MetadataValue.From(a)));

    private static readonly Gen<Dictionary<string, MetadataValue>> AnyMetadata =
        Gen.Dictionary(Gen.String[Gen.Char.AlphaNumeric, 1, 10], AnyValue)[0, 8];

    [Fact]
    public void Codec_RoundTripsAnyMetadata()
    {
        AnyMetadata.Sample(metadata =>
        {
            Dictionary<string, MetadataValue> decoded = MetadataCodec.Decode(MetadataCodec.Encode(metadata));
            Assert.Equal(metadata.Count, decoded.Count);
            foreach ((string key, MetadataValue value) in metadata)
            {
                Assert.Equal(value, decoded[key]);
            }
        }, iter: 1000);
    }

    [Fact]
    public void Codec_TruncatedBytes_ThrowInvalidData()
    {
        byte[] bytes = MetadataCodec.Encode(new Dictionary<string, MetadataValue> { ["name"] = "value", ["n"] = 5L });
        for (int cut = 1; cut < bytes.Length; cut++)
        {
            Assert.Throws<InvalidDataException>(() => MetadataCodec.Decode(bytes.AsSpan(0, cut)));
        }
    }

    [Fact]
    public void Value_NaN_IsRefused() => Assert.Throws<ArgumentException>(() => MetadataValue.From(double.NaN));

    [Theory]
    [InlineData("group = 3", true)]
    [InlineData("group == 3.0", true)]
    [InlineData("group != 3", false)]
    [InlineData("i >= 100 and i < 200", true)]
    [InlineData("i > 150", false)]
    [InlineData("name = 'alpha'", true)]
    [InlineData("name = \"beta\"", false)]
    [InlineData("name < 'b'", true)]
    [InlineData("tags = 'red'", true)]
    [InlineData("tags in ['blue', 'green']", false)]
    [InlineData("tags in ['blue', 'red']", true)]
    [InlineData("group in [1, 2, 3]", true)]
    [InlineData("done = false", true)]
    [InlineData("not done = true", true)]
    [InlineData("!(group = 3) || missing = 1", false)]
    [InlineData("missing != 1", true)]
    [InlineData("missing = 1", false)]
    [InlineData("name > 5", false)]
    [InlineData("(group = 4 or group = 3) and (ratio <= 0.5 && ratio > -1e3)", true)]
    public void Parse_ThenMatch_FollowsTheDocumentedSemantics(string expression, bool expected)
    {
        var metadata = new Dictionary<string, MetadataValue>
        {
            ["group"] = 3L,
            ["i"] = 150L,
            ["name"] = "alpha",
            ["tags"] = new[] { "red", "yellow" },
            ["done"] = false,
            ["ratio"] = 0.25,
        };

        Assert.Equal(expected, MetadataFilter.Parse(expression).Matches(metadata));
    }

    [Theory]
    [InlineData("group =", "expected a value")]
    [InlineData("= 3", "expected a field name")]
    [InlineData("group ~ 3", "expected a comparison")]
    [InlineData("(group = 3", "expected ')'")]
    [InlineData("name = 'open", "unterminated string")]
    [InlineData("a = 1 b = 2", "unexpected 'b'")]
    [InlineData("a in [1, 2", "expected ']'")]
    public void Parse_InvalidExpression_ThrowsWithPosition(string expression, string message)
    {
        var ex = Assert.Throws<FormatException>(() => MetadataFilter.Parse(expression));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
        Assert.Contains("position", ex.Message, StringComparison.Ordinal);
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using OxiVec.Hosting.Qdrant.Translation;

namespace OxiVec.Server.Tests.Translation;

/// <summary>
/// <see cref="QdrantPointId.Write"/> copies the digits of a short canonical integer id straight into the JSON: it
/// writes exactly what parsing the id and writing the number (or, for anything else, the string) writes, and the
/// writer goes on correctly after it (separators, the next property).
/// </summary>
public sealed class QdrantPointIdTests
{
    private static readonly Gen<string> Ids = Gen.OneOf(
        Gen.ULong.Select(n => n.ToString(CultureInfo.InvariantCulture)),
        Gen.UInt.Select(n => n.ToString(CultureInfo.InvariantCulture)),
        Gen.Int[0, 9].Array[1, 22].Select(d => string.Concat(d)), // leading zeros, 20 and more digits, overflows
        Gen.Guid.Select(g => g.ToString("D")),
        Gen.Const("18446744073709551615"),
        Gen.Const("18446744073709551616"),
        Gen.Const("0"),
        Gen.Const("00"),
        Gen.Const("-1"),
        Gen.Const("1.5"),
        Gen.Const("１２"), // full-width digits: not ASCII digits
        Gen.Const(""));

    [Fact]
    public void Write_WritesWhatParsingAndWritingTheNumberWrites_AndTheWriterGoesOn()
    {
        Ids.Array[1, 4].Sample(ids =>
        {
            Assert.Equal(Reference(ids), Written(ids));
            using JsonDocument doc = JsonDocument.Parse(Written(ids)); // well-formed, with separators
            Assert.Equal(ids.Length, doc.RootElement.GetProperty("ids").GetArrayLength());
            Assert.Equal(0.5, doc.RootElement.GetProperty("score").GetDouble());
        }, iter: 2_000);
    }

    private static string Written(string[] ids) => Write(ids, QdrantPointId.Write);

    private static string Reference(string[] ids) => Write(ids, (writer, id) =>
    {
        bool canonical = id.Length is > 0 and <= 20 && (id.Length == 1 || id[0] != '0') && id.All(char.IsAsciiDigit);
        if (canonical && ulong.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number))
        {
            writer.WriteNumberValue(number);
        }
        else
        {
            writer.WriteStringValue(id);
        }
    });

    private static string Write(string[] ids, Action<Utf8JsonWriter, string> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("ids"u8);
            foreach (string id in ids)
            {
                write(writer, id);
            }

            writer.WriteEndArray();
            writer.WritePropertyName("id"u8); // as in a point: a property's value, then the next property
            write(writer, ids[0]);
            writer.WriteNumber("score"u8, 0.5);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OxiVec.Cli.Output;

/// <summary>Writes JSON objects to a stream, one per line (JSON Lines), with <see cref="Utf8JsonWriter"/> (no reflection).</summary>
internal sealed class JsonLines : IDisposable
{
    private static readonly JsonWriterOptions Options = new()
    {
        // The output goes to terminals and files, not HTML: keep quotes, '+' and non-ASCII readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly Stream _output;
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _json;

    public JsonLines(Stream output)
    {
        _output = output;
        _json = new Utf8JsonWriter(_buffer, Options);
    }

    /// <summary>Writes one object: <paramref name="writeProperties"/> writes its properties.</summary>
    public void WriteObject(Action<Utf8JsonWriter> writeProperties)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        _json.WriteStartObject();
        writeProperties(_json);
        _json.WriteEndObject();
        _json.Flush();
        _buffer.Write("\n"u8);
        _output.Write(_buffer.WrittenSpan);
    }

    public void Dispose() => _json.Dispose();
}

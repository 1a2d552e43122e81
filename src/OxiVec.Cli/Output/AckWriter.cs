using System.Text;

namespace OxiVec.Cli.Output;

/// <summary>
/// Writes acknowledgement lines to stdout for a watching process (<c>load --print-acks</c>, and the crash tests' store and torture workers):
/// each call writes its lines with one write call on the unbuffered stdout stream and flushes it, so a line is out of
/// the process the moment the call returns. A reader keeps only newline-terminated lines, so a kill in the middle of a
/// write costs at most the line it cut, never a false acknowledgement.
/// </summary>
internal sealed class AckWriter : IDisposable
{
    private readonly Stream _output;
    private readonly StringBuilder _lines = new();

    public AckWriter(Stream output) => _output = output;

    /// <summary>Writes <paramref name="line"/> and a newline.</summary>
    public void Line(string line)
    {
        _lines.Clear();
        _lines.Append(line).Append('\n');
        Flush();
    }

    /// <summary>Writes <c>{prefix}{first}</c> ... <c>{prefix}{first + count - 1}</c>, one per line, in one write.</summary>
    public void Range(string prefix, long first, int count)
    {
        _lines.Clear();
        for (long i = first; i < first + count; i++)
        {
            _lines.Append(prefix).Append(i).Append('\n');
        }

        Flush();
    }

    public void Dispose() => _output.Dispose();

    private void Flush()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(_lines.ToString());
        _output.Write(bytes);
        _output.Flush();
    }
}

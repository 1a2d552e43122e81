using System.Text;

namespace OxiVec.Cli.Data;

/// <summary>
/// Reads lines (ended by <c>\n</c> or <c>\r\n</c>) from a <see cref="TextReader"/>, refusing one longer than a limit
/// before holding more of it than that: <see cref="TextReader.ReadLine"/> would build a string of any length, so one
/// enormous line ran the process out of memory.
/// </summary>
internal sealed class BoundedLineReader(TextReader reader, int maxChars)
{
    private readonly char[] _buffer = new char[1 << 16];
    private readonly StringBuilder _line = new();
    private int _position;
    private int _length;

    /// <summary>The next line without its terminator, or null at the end of the input.</summary>
    /// <exception cref="LineTooLongException">The line holds more than <c>maxChars</c> characters.</exception>
    public string? ReadLine()
    {
        _line.Clear();
        bool any = false;
        while (true)
        {
            if (_position == _length)
            {
                _length = reader.Read(_buffer, 0, _buffer.Length);
                _position = 0;
                if (_length == 0)
                {
                    return any ? Finish() : null;
                }
            }

            any = true;
            int end = Array.IndexOf(_buffer, '\n', _position, _length - _position);
            int stop = end < 0 ? _length : end;
            if (_line.Length + (stop - _position) > maxChars + 1) // + 1: room for the '\r' of "\r\n"
            {
                throw new LineTooLongException(maxChars);
            }

            _line.Append(_buffer, _position, stop - _position);
            _position = end < 0 ? _length : end + 1;
            if (end >= 0)
            {
                return Finish();
            }
        }
    }

    private string Finish()
    {
        if (_line.Length > 0 && _line[^1] == '\r')
        {
            _line.Length--;
        }

        return _line.Length > maxChars ? throw new LineTooLongException(maxChars) : _line.ToString();
    }
}

/// <summary>A line is longer than a <see cref="BoundedLineReader"/> accepts.</summary>
internal sealed class LineTooLongException(int maxChars) : Exception($"the line is longer than {maxChars:N0} characters")
{
    /// <summary>The limit.</summary>
    public int MaxChars { get; } = maxChars;
}

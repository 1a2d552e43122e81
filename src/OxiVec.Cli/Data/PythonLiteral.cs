using System.Globalization;
using System.Text;

namespace OxiVec.Cli.Data;

/// <summary>
/// Parses the Python literal of an .npy header: a dict whose keys are strings and whose values are strings, integers,
/// True, False, None, tuples and lists (nested), e.g. <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (1000, 128), }</c>.
/// Values come back as <see cref="string"/>, <see cref="long"/>, <see cref="bool"/>, null, or <see cref="PythonTuple"/> /
/// <see cref="List{T}"/> of values.
/// </summary>
internal sealed class PythonLiteral
{
    private readonly string _text;
    private int _position;

    private PythonLiteral(string text) => _text = text;

    /// <summary>A parsed tuple (kept apart from lists: a shape is a tuple).</summary>
    public sealed class PythonTuple(List<object?> items)
    {
        public IReadOnlyList<object?> Items { get; } = items;
    }

    /// <summary>Parses a dict literal (surrounding whitespace allowed).</summary>
    /// <exception cref="FormatException">The text is not such a dict; the message gives the character position.</exception>
    public static Dictionary<string, object?> ParseDict(string text)
    {
        var parser = new PythonLiteral(text);
        parser.SkipSpace();
        if (parser.Peek() != '{')
        {
            throw parser.Error("expected '{' at the start of the header dict");
        }

        var dict = (Dictionary<string, object?>)parser.ParseValue()!;
        parser.SkipSpace();
        if (parser._position < text.Length)
        {
            throw parser.Error($"unexpected '{text[parser._position]}' after the header dict");
        }

        return dict;
    }

    /// <summary>Renders a parsed value the way Python prints it (for messages): <c>(3,)</c>, <c>'&lt;f8'</c>.</summary>
    public static string Show(object? value) => value switch
    {
        null => "None",
        string s => $"'{s}'",
        bool b => b ? "True" : "False",
        long n => n.ToString(CultureInfo.InvariantCulture),
        PythonTuple t => t.Items.Count == 1 ? $"({Show(t.Items[0])},)" : $"({string.Join(", ", t.Items.Select(Show))})",
        List<object?> l => $"[{string.Join(", ", l.Select(Show))}]",
        Dictionary<string, object?> d => "{" + string.Join(", ", d.Select(kv => $"'{kv.Key}': {Show(kv.Value)}")) + "}",
        _ => value.ToString() ?? "",
    };

    private object? ParseValue()
    {
        SkipSpace();
        char c = Peek();
        switch (c)
        {
            case '{':
                return ParseSequence('{', '}', dict: true);
            case '(':
                return new PythonTuple((List<object?>)ParseSequence('(', ')', dict: false));
            case '[':
                return ParseSequence('[', ']', dict: false);
            case '\'' or '"':
                return ParseString();
            default:
                break;
        }

        if (c is '-' or '+' || char.IsAsciiDigit(c))
        {
            return ParseInteger();
        }

        if (TryWord("True"))
        {
            return true;
        }

        if (TryWord("False"))
        {
            return false;
        }

        if (TryWord("None"))
        {
            return null;
        }

        throw Error(_position < _text.Length ? $"unexpected '{c}'" : "the header ends where a value was expected");
    }

    /// <summary>A dict (<c>{k: v, ...}</c>) or a list or tuple, with an optional trailing comma.</summary>
    private object ParseSequence(char open, char close, bool dict)
    {
        Expect(open);
        var items = new List<object?>();
        var entries = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (true)
        {
            SkipSpace();
            if (Peek() == close)
            {
                _position++;
                return dict ? entries : items;
            }

            if (dict)
            {
                SkipSpace();
                if (Peek() is not ('\'' or '"'))
                {
                    throw Error("expected a quoted key");
                }

                string key = ParseString();
                SkipSpace();
                Expect(':');
                if (!entries.TryAdd(key, ParseValue()))
                {
                    throw Error($"key '{key}' appears twice");
                }
            }
            else
            {
                items.Add(ParseValue());
            }

            SkipSpace();
            if (Peek() == ',')
            {
                _position++;
            }
            else if (Peek() != close)
            {
                throw Error($"expected ',' or '{close}'");
            }
        }
    }

    private string ParseString()
    {
        char quote = _text[_position++];
        var s = new StringBuilder();
        while (_position < _text.Length && _text[_position] != quote)
        {
            char c = _text[_position++];
            if (c == '\\' && _position < _text.Length)
            {
                c = _text[_position++];
            }

            s.Append(c);
        }

        if (_position >= _text.Length)
        {
            throw Error("unterminated string");
        }

        _position++;
        return s.ToString();
    }

    private long ParseInteger()
    {
        int start = _position;
        if (Peek() is '-' or '+')
        {
            _position++;
        }

        while (_position < _text.Length && char.IsAsciiDigit(_text[_position]))
        {
            _position++;
        }

        string digits = _text[start.._position];
        if (Peek() is 'L' or 'l')
        {
            _position++; // Python 2 long suffix, written by old NumPy versions: (3L, 4L)
        }

        return long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw Error($"'{digits}' is not an integer numpy can write");
    }

    private bool TryWord(string word)
    {
        if (string.CompareOrdinal(_text, _position, word, 0, word.Length) != 0)
        {
            return false;
        }

        int end = _position + word.Length;
        if (end < _text.Length && (char.IsAsciiLetterOrDigit(_text[end]) || _text[end] == '_'))
        {
            return false;
        }

        _position = end;
        return true;
    }

    private void Expect(char c)
    {
        if (Peek() != c)
        {
            throw Error($"expected '{c}'");
        }

        _position++;
    }

    private char Peek() => _position < _text.Length ? _text[_position] : '\0';

    private void SkipSpace()
    {
        while (_position < _text.Length && char.IsWhiteSpace(_text[_position]))
        {
            _position++;
        }
    }

    private FormatException Error(string message) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{message} at character {_position + 1} of the header"));
}

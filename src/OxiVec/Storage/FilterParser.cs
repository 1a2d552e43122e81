using System.Globalization;
using System.Text;

namespace OxiVec.Storage;

/// <summary>
/// Recursive-descent parser of the filter language:
/// <code>
/// expr       := and ("or" | "||") and ...
/// and        := unary ("and" | "&amp;&amp;") unary ...
/// unary      := ("not" | "!") unary | "(" expr ")" | field op value | field "in" "[" value ("," value)* "]"
/// op         := "=" | "==" | "!=" | "&lt;" | "&lt;=" | "&gt;" | "&gt;="
/// value      := number | "string" | 'string' | true | false
/// field      := letter or _ followed by letters, digits, _, . or -
/// </code>
/// </summary>
internal sealed class FilterParser(string text)
{
    private readonly string _text = text ?? throw new ArgumentNullException(nameof(text));
    private int _position;

    public MetadataFilter ParseAll()
    {
        MetadataFilter filter = ParseOr();
        SkipSpace();
        if (_position < _text.Length)
        {
            throw Error($"unexpected '{_text[_position]}'");
        }

        return filter;
    }

    private MetadataFilter ParseOr()
    {
        MetadataFilter left = ParseAnd();
        while (TryKeyword("or") || TrySymbol("||"))
        {
            left = MetadataFilter.Or(left, ParseAnd());
        }

        return left;
    }

    private MetadataFilter ParseAnd()
    {
        MetadataFilter left = ParseUnary();
        while (TryKeyword("and") || TrySymbol("&&"))
        {
            left = MetadataFilter.And(left, ParseUnary());
        }

        return left;
    }

    private MetadataFilter ParseUnary()
    {
        if (TryKeyword("not") || (Peek("!") && !Peek("!=") && TrySymbol("!")))
        {
            return MetadataFilter.Not(ParseUnary());
        }

        if (TrySymbol("("))
        {
            MetadataFilter inner = ParseOr();
            Expect(")");
            return inner;
        }

        string field = ParseField();
        if (TryKeyword("in"))
        {
            Expect("[");
            var values = new List<MetadataValue> { ParseValue() };
            while (TrySymbol(","))
            {
                values.Add(ParseValue());
            }

            Expect("]");
            return MetadataFilter.In(field, [.. values]);
        }

        FilterOperator op = ParseOperator();
        return MetadataFilter.Compare(field, op, ParseValue());
    }

    private FilterOperator ParseOperator()
    {
        foreach ((string symbol, FilterOperator op) in (ReadOnlySpan<(string, FilterOperator)>)[
            ("==", FilterOperator.Equal), ("!=", FilterOperator.NotEqual), ("<=", FilterOperator.LessThanOrEqual),
            (">=", FilterOperator.GreaterThanOrEqual), ("=", FilterOperator.Equal), ("<", FilterOperator.LessThan),
            (">", FilterOperator.GreaterThan)])
        {
            if (TrySymbol(symbol))
            {
                return op;
            }
        }

        throw Error("expected a comparison (=, !=, <, <=, >, >=) or 'in'");
    }

    private string ParseField()
    {
        SkipSpace();
        int start = _position;
        while (_position < _text.Length && (char.IsLetterOrDigit(_text[_position]) || _text[_position] is '_' or '.' or '-'))
        {
            _position++;
        }

        if (_position == start || char.IsDigit(_text[start]))
        {
            _position = start;
            throw Error("expected a field name");
        }

        return _text[start.._position];
    }

    private MetadataValue ParseValue()
    {
        SkipSpace();
        if (_position >= _text.Length)
        {
            throw Error("expected a value");
        }

        char c = _text[_position];
        if (c is '"' or '\'')
        {
            return MetadataValue.From(ParseString(c));
        }

        if (TryKeyword("true"))
        {
            return MetadataValue.From(true);
        }

        if (TryKeyword("false"))
        {
            return MetadataValue.From(false);
        }

        int start = _position;
        while (_position < _text.Length && (char.IsDigit(_text[_position]) || _text[_position] is '-' or '+' or '.' or 'e' or 'E'))
        {
            _position++;
        }

        ReadOnlySpan<char> number = _text.AsSpan(start, _position - start);
        if (long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
        {
            return MetadataValue.From(integer);
        }

        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double real) && double.IsFinite(real))
        {
            return MetadataValue.From(real);
        }

        _position = start;
        throw Error("expected a value (a number, a quoted string, true or false)");
    }

    private string ParseString(char quote)
    {
        int start = _position++;
        var builder = new StringBuilder();
        while (_position < _text.Length)
        {
            char c = _text[_position++];
            if (c == quote)
            {
                return builder.ToString();
            }

            if (c == '\\' && _position < _text.Length)
            {
                c = _text[_position++];
            }

            builder.Append(c);
        }

        _position = start;
        throw Error("unterminated string");
    }

    private bool TryKeyword(string keyword)
    {
        SkipSpace();
        int end = _position + keyword.Length;
        if (end <= _text.Length && string.Compare(_text, _position, keyword, 0, keyword.Length, StringComparison.OrdinalIgnoreCase) == 0
            && (end == _text.Length || !(char.IsLetterOrDigit(_text[end]) || _text[end] == '_')))
        {
            _position = end;
            return true;
        }

        return false;
    }

    private bool Peek(string symbol)
    {
        SkipSpace();
        return string.CompareOrdinal(_text, _position, symbol, 0, symbol.Length) == 0;
    }

    private bool TrySymbol(string symbol)
    {
        if (Peek(symbol))
        {
            _position += symbol.Length;
            return true;
        }

        return false;
    }

    private void Expect(string symbol)
    {
        if (!TrySymbol(symbol))
        {
            throw Error($"expected '{symbol}'");
        }
    }

    private void SkipSpace()
    {
        while (_position < _text.Length && char.IsWhiteSpace(_text[_position]))
        {
            _position++;
        }
    }

    private FormatException Error(string message) =>
        new($"Invalid filter at position {_position + 1}: {message}. Filter: {_text}");
}

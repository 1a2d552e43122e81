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
/// Keywords end where a field name would: <c>not-archived</c> and <c>and.x</c> are field names, not keywords.
/// The text is bounded (<see cref="MetadataFilter.MaxLength"/> characters, <see cref="MetadataFilter.MaxTerms"/>
/// terms, <see cref="MetadataFilter.MaxDepth"/> levels of parentheses and <c>not</c>), so recursion is bounded too.
/// </summary>
internal sealed class FilterParser(string text)
{
    private readonly string _text = text ?? throw new ArgumentNullException(nameof(text));
    private int _position;
    private int _depth;
    private int _terms;

    public MetadataFilter ParseAll()
    {
        if (_text.Length > MetadataFilter.MaxLength)
        {
            _position = MetadataFilter.MaxLength;
            throw Error($"the filter is {_text.Length} characters long; at most {MetadataFilter.MaxLength} are allowed (MetadataFilter.MaxLength)");
        }

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
        int start = _position;
        var operands = new List<MetadataFilter> { ParseAnd() };
        while (TryKeyword("or") || TrySymbol("||"))
        {
            operands.Add(ParseAnd());
        }

        return operands.Count == 1 ? operands[0] : Build(start, () => MetadataFilter.Or(operands));
    }

    private MetadataFilter ParseAnd()
    {
        int start = _position;
        var operands = new List<MetadataFilter> { ParseUnary() };
        while (TryKeyword("and") || TrySymbol("&&"))
        {
            operands.Add(ParseUnary());
        }

        return operands.Count == 1 ? operands[0] : Build(start, () => MetadataFilter.And(operands));
    }

    private MetadataFilter ParseUnary()
    {
        SkipSpace();
        int start = _position;
        if (TryKeyword("not") || (Peek("!") && !Peek("!=") && TrySymbol("!")))
        {
            Nest(start);
            MetadataFilter inner = ParseUnary();
            _depth--;
            return Build(start, () => MetadataFilter.Not(inner));
        }

        if (TrySymbol("("))
        {
            Nest(start);
            MetadataFilter inner = ParseOr();
            Expect(")");
            _depth--;
            return inner;
        }

        string field = ParseField();
        if (TryKeyword("in"))
        {
            Expect("[");
            var values = new List<MetadataValue> { ParseTermValue() };
            while (TrySymbol(","))
            {
                values.Add(ParseTermValue());
            }

            Expect("]");
            return MetadataFilter.In(field, [.. values]);
        }

        FilterOperator op = ParseOperator();
        return MetadataFilter.Compare(field, op, ParseTermValue());
    }

    /// <summary>Enters a parenthesis or a <c>not</c>: bounded, so a hostile filter cannot exhaust the stack.</summary>
    private void Nest(int start)
    {
        if (++_depth > MetadataFilter.MaxDepth)
        {
            _position = start;
            throw Error($"the filter nests deeper than {MetadataFilter.MaxDepth} levels of parentheses and 'not' (MetadataFilter.MaxDepth)");
        }
    }

    /// <summary>A value that is one term of the filter: counted against <see cref="MetadataFilter.MaxTerms"/>.</summary>
    private MetadataValue ParseTermValue()
    {
        SkipSpace();
        if (++_terms > MetadataFilter.MaxTerms)
        {
            throw Error($"the filter has more than {MetadataFilter.MaxTerms} terms (comparisons and 'in' values; MetadataFilter.MaxTerms)");
        }

        return ParseValue();
    }

    /// <summary>Builds an and/or/not node; one that would nest too deep becomes a parse error at its start.</summary>
    private MetadataFilter Build(int start, Func<MetadataFilter> build)
    {
        try
        {
            return build();
        }
        catch (ArgumentException ex)
        {
            _position = start;
            throw Error(ex.Message.TrimEnd('.'));
        }
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
        while (_position < _text.Length && IsFieldChar(_text[_position]))
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
            && (end == _text.Length || !IsFieldChar(_text[end])))
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

    private static bool IsFieldChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '.' or '-';

    private FormatException Error(string message) =>
        new($"Invalid filter at position {_position + 1}: {message}. Filter: {(_text.Length <= 200 ? _text : string.Concat(_text.AsSpan(0, 200), "..."))}");
}

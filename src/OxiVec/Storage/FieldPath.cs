using System.Globalization;
using System.Text;

namespace OxiVec.Storage;

/// <summary>
/// A path into nested metadata, as Qdrant writes payload keys: <c>country.name</c> (an object's field),
/// <c>country.cities[].population</c> (every item of a list), <c>tags[0]</c> (one item), <c>"a.b"</c> (a name
/// holding dots, quoted). The first segment names a top-level field.
/// </summary>
public sealed class FieldPath
{
    private readonly Segment[] _segments;

    private FieldPath(string text, string first, Segment[] segments)
    {
        Text = text;
        First = first;
        _segments = segments;
    }

    /// <summary>The path as written.</summary>
    public string Text { get; }

    /// <summary>The top-level field the path starts at.</summary>
    public string First { get; }

    /// <summary>Parses a path.</summary>
    /// <exception cref="FormatException">Not a path; the message gives the position.</exception>
    public static FieldPath Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int position = 0;
        string first = ReadName(text, ref position);
        var segments = new List<Segment>();
        while (position < text.Length)
        {
            if (text[position] == '.')
            {
                position++;
                segments.Add(new Segment(ReadName(text, ref position), -2));
            }
            else if (text[position] == '[')
            {
                int close = text.IndexOf(']', position);
                if (close < 0)
                {
                    throw Error(text, position, "'[' is not closed");
                }

                ReadOnlySpan<char> inside = text.AsSpan(position + 1, close - position - 1);
                if (inside.IsEmpty)
                {
                    segments.Add(new Segment(null, -1));
                }
                else if (int.TryParse(inside, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                {
                    segments.Add(new Segment(null, index));
                }
                else
                {
                    throw Error(text, position, "an index is [] or [n] with n a non-negative integer");
                }

                position = close + 1;
            }
            else
            {
                throw Error(text, position, "expected '.' or '['");
            }
        }

        return new FieldPath(text, first, [.. segments]);
    }

    /// <inheritdoc/>
    public override string ToString() => Text;

    /// <summary>
    /// True when some value at the path satisfies <paramref name="test"/>: a field missing on the way, a name applied
    /// to something that is not an object or an index to something that is not a list gives no value.
    /// </summary>
    internal bool AnyValue(IReadOnlyDictionary<string, MetadataValue> metadata, Func<MetadataValue, bool> test) =>
        metadata.TryGetValue(First, out MetadataValue value) && Walk(0, value, test);

    private bool Walk(int segment, MetadataValue value, Func<MetadataValue, bool> test)
    {
        if (segment == _segments.Length)
        {
            return test(value);
        }

        Segment s = _segments[segment];
        if (s.Name is not null)
        {
            return value.TryGetField(s.Name, out MetadataValue field) && Walk(segment + 1, field, test);
        }

        if (value.Kind is not (MetadataKind.List or MetadataKind.StringList))
        {
            return false;
        }

        int count = value.ItemCount;
        if (s.Index >= 0)
        {
            return s.Index < count && Walk(segment + 1, value.ItemAt(s.Index), test);
        }

        for (int i = 0; i < count; i++)
        {
            if (Walk(segment + 1, value.ItemAt(i), test))
            {
                return true;
            }
        }

        return false;
    }

    private static string ReadName(string text, ref int position)
    {
        if (position < text.Length && text[position] == '"')
        {
            int close = text.IndexOf('"', position + 1);
            if (close < 0)
            {
                throw Error(text, position, "the quote is not closed");
            }

            string quoted = text[(position + 1)..close];
            position = close + 1;
            return quoted;
        }

        var name = new StringBuilder();
        while (position < text.Length && text[position] is not ('.' or '[' or ']' or '"'))
        {
            name.Append(text[position++]);
        }

        return name.Length > 0 ? name.ToString() : throw Error(text, position, "expected a field name");
    }

    private static FormatException Error(string text, int position, string message) =>
        new($"Invalid field path '{(text.Length <= 80 ? text : text[..80] + "...")}' at position {position}: {message}.");

    /// <summary>A field name, or a list item: <see cref="Index"/> -1 for every item, n for item n.</summary>
    private readonly record struct Segment(string? Name, int Index);
}

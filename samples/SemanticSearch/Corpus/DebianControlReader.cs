using System.Text;

namespace OxiVec.Samples.SemanticSearch.Corpus;

/// <summary>
/// Reads Debian control-file stanzas (the format of <c>apt-cache dumpavail</c>, <c>Packages</c> lists and
/// <c>/var/lib/dpkg/status</c>, deb-control(5)): fields <c>Name: value</c>, continuation lines starting with a space or
/// a tab, a line <c> .</c> standing for an empty line, stanzas separated by blank lines.
/// </summary>
internal static class DebianControlReader
{
    /// <summary>
    /// Yields one package per stanza that has both a <c>Package</c> and a <c>Description</c> field, in input order
    /// (stanzas without either are not packages with text to search, and are skipped).
    /// </summary>
    /// <param name="reader">The control text; read to its end.</param>
    /// <param name="source">Names the input in error messages.</param>
    /// <exception cref="FormatException">A line that is neither a field nor a continuation; the message names <paramref name="source"/> and the line number.</exception>
    public static IEnumerable<DebianPackage> ReadPackages(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var fields = new Dictionary<string, StringBuilder>(StringComparer.OrdinalIgnoreCase);
        StringBuilder? current = null;
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            lineNumber++;
            if (line.Length == 0 || line.All(char.IsWhiteSpace))
            {
                if (ToPackage(fields) is { } package)
                {
                    yield return package;
                }

                fields.Clear();
                current = null;
            }
            else if (line[0] is ' ' or '\t')
            {
                if (current is null)
                {
                    throw new FormatException($"{source}, line {lineNumber}: a continuation line with no field before it.");
                }

                string continuation = line.Trim();
                current.Append('\n').Append(continuation == "." ? string.Empty : continuation);
            }
            else
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    throw new FormatException($"{source}, line {lineNumber}: expected 'Field: value', found '{Shorten(line)}'.");
                }

                current = new StringBuilder(line[(colon + 1)..].Trim());
                fields[line[..colon]] = current;
            }
        }

        if (ToPackage(fields) is { } last)
        {
            yield return last;
        }
    }

    private static DebianPackage? ToPackage(Dictionary<string, StringBuilder> fields)
    {
        if (!fields.TryGetValue("Package", out StringBuilder? name) || !fields.TryGetValue("Description", out StringBuilder? description))
        {
            return null;
        }

        string text = description.ToString();
        int newline = text.IndexOf('\n', StringComparison.Ordinal);
        string synopsis = newline < 0 ? text : text[..newline];
        string longDescription = newline < 0 ? string.Empty : text[(newline + 1)..].Trim('\n');
        string section = fields.TryGetValue("Section", out StringBuilder? s) && s.Length > 0 ? s.ToString() : "unknown";
        return new DebianPackage(name.ToString(), section, synopsis, longDescription);
    }

    private static string Shorten(string line) => line.Length <= 60 ? line : line[..60] + "...";
}

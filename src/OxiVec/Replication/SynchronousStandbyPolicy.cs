using System.Collections.Immutable;
using System.Globalization;

namespace OxiVec.Replication;

/// <summary>How a synchronous set is chosen among the listed standbys.</summary>
public enum SynchronousMethod
{
    /// <summary><c>FIRST n (...)</c>: the first n connected standbys in the listed (priority) order; a commit waits for all of them.</summary>
    First,

    /// <summary><c>ANY n (...)</c>: a commit waits for any n of the listed standbys (a quorum).</summary>
    Any,
}

/// <summary>
/// A parsed <see cref="ReplicationOptions.SynchronousStandbys"/>: <c>FIRST n (a, b, ...)</c> or <c>ANY n (a, b, ...)</c>
/// (keywords in any case; names of letters, digits, '_', '-' and '.'; each listed once; 1 ≤ n ≤ the number of names).
/// </summary>
/// <param name="Method">FIRST (priority) or ANY (quorum).</param>
/// <param name="Count">How many standbys must confirm a commit.</param>
/// <param name="Names">The listed standbys, in the listed order.</param>
public sealed record SynchronousStandbyPolicy(SynchronousMethod Method, int Count, ImmutableArray<string> Names)
{
    /// <summary>Parses a policy; null for null, empty or blank (asynchronous replication).</summary>
    /// <exception cref="FormatException">The text is not a policy; the message quotes it and names the position (0-based).</exception>
    public static SynchronousStandbyPolicy? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        int position = 0;
        SkipSpaces(text, ref position);
        string keyword = ReadName(text, ref position, "FIRST or ANY");
        SynchronousMethod method = keyword.ToUpperInvariant() switch
        {
            "FIRST" => SynchronousMethod.First,
            "ANY" => SynchronousMethod.Any,
            _ => throw Error(text, position - keyword.Length, $"expected FIRST or ANY, found '{keyword}'"),
        };
        SkipSpaces(text, ref position);
        int numberAt = position;
        while (position < text.Length && char.IsAsciiDigit(text[position]))
        {
            position++;
        }

        if (position == numberAt || !int.TryParse(text.AsSpan(numberAt, position - numberAt), NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1)
        {
            throw Error(text, numberAt, "expected the number of standbys (1 or more)");
        }

        SkipSpaces(text, ref position);
        Expect(text, ref position, '(');
        var names = ImmutableArray.CreateBuilder<string>();
        while (true)
        {
            SkipSpaces(text, ref position);
            int nameAt = position;
            string name = ReadName(text, ref position, "a standby name");
            if (names.Contains(name))
            {
                throw Error(text, nameAt, $"standby '{name}' is listed twice");
            }

            names.Add(name);
            SkipSpaces(text, ref position);
            if (position < text.Length && text[position] == ',')
            {
                position++;
                continue;
            }

            Expect(text, ref position, ')');
            break;
        }

        SkipSpaces(text, ref position);
        if (position != text.Length)
        {
            throw Error(text, position, "unexpected text after ')'");
        }

        if (count > names.Count)
        {
            throw Error(text, numberAt, $"{count} standbys are required but only {names.Count} are listed");
        }

        return new SynchronousStandbyPolicy(method, count, names.ToImmutable());
    }

    /// <inheritdoc/>
    public override string ToString() => $"{(Method == SynchronousMethod.First ? "FIRST" : "ANY")} {Count} ({string.Join(", ", Names)})";

    private static void SkipSpaces(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }
    }

    private static string ReadName(string text, ref int position, string expected)
    {
        int start = position;
        while (position < text.Length && (char.IsAsciiLetterOrDigit(text[position]) || text[position] is '_' or '-' or '.'))
        {
            position++;
        }

        return position > start ? text[start..position] : throw Error(text, start, $"expected {expected}");
    }

    private static void Expect(string text, ref int position, char expected)
    {
        if (position >= text.Length || text[position] != expected)
        {
            throw Error(text, position, $"expected '{expected}'");
        }

        position++;
    }

    private static FormatException Error(string text, int position, string problem) =>
        new($"SynchronousStandbys '{text}' is invalid at position {position}: {problem}. The form is FIRST n (a, b, ...) or ANY n (a, b, ...).");
}

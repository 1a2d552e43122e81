using System.Globalization;

namespace OxiVec.Cli.Commands;

/// <summary>Sizes on the command line: a number of bytes, or with a suffix KiB, MiB, GiB (powers of 1024; KB, MB, GB are read the same).</summary>
internal static class ByteSize
{
    /// <summary>Parses <paramref name="text"/>; a <see cref="CliException"/> names <paramref name="option"/> when it is not a size.</summary>
    public static long Parse(string text, string option)
    {
        string t = text.Trim();
        (string suffix, long unit)[] units = [("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10), ("B", 1)];
        long multiplier = 1;
        foreach ((string suffix, long unit) in units)
        {
            if (t.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                multiplier = unit;
                t = t[..^suffix.Length].TrimEnd();
                break;
            }
        }

        if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value < 1 || value > long.MaxValue / multiplier)
        {
            throw new CliException($"{option}: '{text}' is not a size (a positive number of bytes, or with KiB, MiB or GiB, e.g. 512MiB).");
        }

        return value * multiplier;
    }
}
